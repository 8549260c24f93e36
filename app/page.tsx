import { HealthStatus } from "@/components/health/health-status";
import { ExperimentCards } from "@/components/home/experiment-cards";

export default function HomePage() {
  return (
    <>
      <h1>MergeScope</h1>
      <p className="lead">
        A workbench for adapting LLMs to low-resource languages by merging a model continually
        pre-trained on the language (CT) with an English task-solving model (SFT): queue TIES and
        TIES-SV merges and analyses across CT checkpoints and see the sign conflicts behind them.
      </p>
      <ExperimentCards />
      <HealthStatus />
    </>
  );
}
