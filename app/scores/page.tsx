import Link from "next/link";
import { AveragesTable } from "@/components/scores/averages-table";
import { CatalogueTable } from "@/components/scores/catalogue-table";
import { EvalTemplatesPanel } from "@/components/scores/eval-templates-panel";
import { EvaluatePanel } from "@/components/scores/evaluate-panel";
import { GridSearchPanel } from "@/components/scores/grid-search-panel";
import { ImportsTable } from "@/components/scores/imports-table";
import { ScoresTable } from "@/components/scores/scores-table";
import { UnattachedPanel } from "@/components/scores/unattached-panel";
import { UploadPanel } from "@/components/scores/upload-panel";
import "./scores.css";

export const metadata = { title: "Scores — MergeScope" };

export default function ScoresPage() {
  return (
    <>
      <h1>Scores</h1>
      <p className="lead">
        Evaluation results from lm-evaluation-harness, filed per model and split (dev for choosing densities, test for reporting), averaged per language as in the
        paper&apos;s Table 3. Compare with the paper&apos;s own numbers on the <Link href="/paper">Paper results</Link> page.
      </p>
      <UploadPanel />
      <UnattachedPanel />
      <AveragesTable />
      <ScoresTable />
      <GridSearchPanel />
      <EvaluatePanel />
      <EvalTemplatesPanel />
      <CatalogueTable />
      <ImportsTable />
    </>
  );
}
