// Every job type, declared once. Workers and the enqueue path look types up here.
import type { JobDefinition } from "./definition";
import { analyzeJob } from "./types/analyze";
import { analyzeSeriesJob } from "./types/analyze-series";
import { analyzeSweepJob } from "./types/analyze-sweep";
import { evaluateJob } from "./types/evaluate";
import { importScoresJob } from "./types/import-scores";
import { mergeJob } from "./types/merge";

const definitions: JobDefinition<never, unknown>[] = [
  mergeJob as unknown as JobDefinition<never, unknown>,
  analyzeJob as unknown as JobDefinition<never, unknown>,
  analyzeSweepJob as unknown as JobDefinition<never, unknown>,
  analyzeSeriesJob as unknown as JobDefinition<never, unknown>,
  evaluateJob as unknown as JobDefinition<never, unknown>,
  importScoresJob as unknown as JobDefinition<never, unknown>,
];

export const JOB_TYPES = definitions.map((d) => d.type);

export function jobDefinition(type: string): JobDefinition<unknown, unknown> | undefined {
  return definitions.find((d) => d.type === type) as JobDefinition<unknown, unknown> | undefined;
}
