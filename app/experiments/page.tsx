import type { Metadata } from "next";
import { Suspense } from "react";
import { CreateExperimentForm } from "@/components/experiments/create-experiment-form";
import { ExperimentsList } from "@/components/experiments/experiments-list";

export const metadata: Metadata = { title: "Experiments · MergeScope" };

export default function ExperimentsPage() {
  return (
    <div data-testid="experiments-page">
      <h1>Experiments</h1>
      <p className="lead">
        An experiment adapts one base model to one target language: an English SFT model, a series of checkpoints
        continually pre-trained on the language (CT), and the merges of each CT checkpoint with the SFT model.
      </p>
      <Suspense fallback={<p role="status" className="muted">Loading experiments…</p>}>
        <ExperimentsList />
      </Suspense>
      <CreateExperimentForm />
    </div>
  );
}
