import { Suspense } from "react";
import { AnalysisView } from "@/components/analysis/analysis-view";
import "./analysis.css";

export const metadata = { title: "Analysis — MergeScope" };

/** Figures 2–4 of the paper, the density explorer and the layer × module heatmap for one experiment (?experiment=ID). */
export default function AnalysisPage() {
  return (
    <Suspense fallback={<p className="muted">Loading…</p>}>
      <AnalysisView />
    </Suspense>
  );
}
