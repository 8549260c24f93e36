import type { Metadata } from "next";
import { ExperimentDetail } from "@/components/experiments/experiment-detail";

export const metadata: Metadata = { title: "Experiment · MergeScope" };

export default async function ExperimentPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ExperimentDetail id={id} />;
}
