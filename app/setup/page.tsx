import { Suspense } from "react";
import { SetupForm } from "@/components/auth/setup-form";

export const metadata = { title: "Set up your account — MergeScope" };

export default function SetupPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <SetupForm />
    </Suspense>
  );
}
