import { Suspense } from "react";
import { CompareView } from "@/components/analysis/compare-view";
import "../analysis.css";

export const metadata = { title: "TIES vs TIES-SV — MergeScope" };

/** TIES vs TIES-SV at one CT checkpoint (?experiment=ID&ckpt=MODEL&sft=0.2&ct=1&slack=0.04). */
export default function ComparePage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <CompareView />
    </Suspense>
  );
}
