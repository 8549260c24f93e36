import type { Metadata } from "next";
import { Suspense } from "react";
import { AllowedRoots } from "@/components/models/allowed-roots";
import { ModelsList } from "@/components/models/models-list";
import { RegisterFolderForm } from "@/components/models/register-folder-form";
import { RegisterModelForm } from "@/components/models/register-model-form";

export const metadata: Metadata = { title: "Models · MergeScope" };

export default function ModelsPage() {
  return (
    <div data-testid="models-page">
      <h1>Models</h1>
      <p className="lead">
        Register the checkpoints of an experiment: the base model, the English SFT model and the series of
        checkpoints continually pre-trained (CT) on the target language, with the number of tokens each has seen.
      </p>
      <AllowedRoots />
      <div className="grid-2">
        <RegisterModelForm />
        <RegisterFolderForm />
      </div>
      <Suspense fallback={<p role="status" className="muted">Loading models…</p>}>
        <ModelsList />
      </Suspense>
    </div>
  );
}
