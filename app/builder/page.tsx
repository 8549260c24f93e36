import type { Metadata } from "next";
import { Suspense } from "react";
import { MergeBuilder } from "@/components/builder/merge-builder";

export const metadata: Metadata = { title: "Merge builder · MergeScope" };

export default function BuilderPage() {
  return (
    <div data-testid="builder-page">
      <h1>Merge builder</h1>
      <p className="lead">
        Build a mergekit recipe — WAVG, task arithmetic, TIES, TIES-SV, Model Breadcrumbs, DARE, SLERP or Model Stock — from
        an experiment&apos;s models, queue it as a merge, or sweep it over CT checkpoints, methods and densities. Every setting is in the URL: copy the link to share it.
      </p>
      <Suspense fallback={<p role="status" className="muted">Loading the builder…</p>}>
        <MergeBuilder />
      </Suspense>
    </div>
  );
}
