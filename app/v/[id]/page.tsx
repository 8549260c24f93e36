import Link from "next/link";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { AppError } from "@/server/errors";
import { currentUser } from "@/server/services/auth/current-user";
import { getView } from "@/server/services/views/store";

export const metadata = { title: "Shared view — MergeScope" };
export const dynamic = "force-dynamic";

/** A short link: redirects to the saved view's full URL (the view's whole state is in it); signed-out visitors sign in first and come back. */
export default async function ShortLinkPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!(await currentUser(await headers()))) redirect(`/login?next=${encodeURIComponent(`/v/${id}`)}`);
  let url: string;
  try {
    url = (await getView(id)).url;
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND")
      return (
        <div className="empty" data-testid="view-not-found">
          <h1>Link not found</h1>
          <p>
            No saved view <code>{id}</code>. The link may be mistyped. Open an experiment&apos;s <Link href="/analysis">analysis</Link> and share it again.
          </p>
        </div>
      );
    throw err;
  }
  redirect(url);
}
