import { redirect } from "next/navigation";
import { Suspense } from "react";
import { PublicView } from "@/components/analysis/public-view";
import { resolvePublicLink } from "@/server/services/views/public-links";
import "../../analysis/analysis.css";

export const metadata = { title: "Shared view — MergeScope", referrer: "no-referrer" };
export const dynamic = "force-dynamic";

/** A read-only public link to one saved view: no account needed, this view's charts and tables only. */
export default async function PublicLinkPage({ params, searchParams }: { params: Promise<{ token: string }>; searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const { token } = await params;
  const link = await resolvePublicLink(token);
  if (!link)
    return (
      <div className="empty" data-testid="public-link-invalid">
        <h1>This link does not open any view</h1>
        <p>It may be mistyped, or its owner revoked it, or it has expired. Ask the person who shared it for a new one.</p>
      </div>
    );
  // The view's state lives in the address (as on /analysis): start from the saved one.
  if (Object.keys(await searchParams).length === 0 && link.state.query) redirect(`/p/${token}?${link.state.query}`);
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <PublicView token={token} path={link.state.path} />
    </Suspense>
  );
}
