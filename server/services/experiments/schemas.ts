// Public shapes of experiments (API, UI): one target language, a base model,
// an SFT model, a CT checkpoint series (+ CTSFT series and extra models), and
// the lineage graph of the paper's Figure 1 laid out on the server.
import { z } from "zod";
import { languageCodeInput, languageNameInput } from "../languages/schemas";
import { modelSchema } from "../models/schemas";

export const EXPERIMENT_ROLES = ["BASE", "SFT", "CT", "CTSFT", "EXTRA"] as const;
export type ExperimentRole = (typeof EXPERIMENT_ROLES)[number];

const idList = z.array(z.string().min(1)).max(500);

export const createExperimentInput = z.object({
  name: z.string().trim().min(1).max(200),
  /** ISO 639-3 code, optionally with its script (`xka_Geor`); 2-letter codes are refused with the code to use. */
  language: languageCodeInput,
  /** A name for a language the built-in tables do not name (Mingrelian); stored once with the language. */
  languageName: languageNameInput.nullish(),
  description: z.string().trim().max(2000).nullish(),
  baseModelId: z.string().min(1),
  sftModelId: z.string().min(1),
  ctModelIds: idList.min(1),
  ctsftModelIds: idList.optional(),
  extraModelIds: idList.optional(),
  /** Evaluation command template (admin configuration) run on every finished merge. */
  evalTemplateId: z.string().min(1).nullish(),
});
export type CreateExperimentInput = z.infer<typeof createExperimentInput>;

export const updateExperimentInput = z.object({
  id: z.string().min(1),
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().trim().max(2000).nullish(),
  /** null: no automatic evaluation of merges. */
  evalTemplateId: z.string().min(1).nullish(),
});
export type UpdateExperimentInput = z.infer<typeof updateExperimentInput>;

const modelRef = z.object({ id: z.string(), name: z.string() });

export const jobCountsSchema = z.object({
  queued: z.number(),
  running: z.number(),
  done: z.number(),
  failed: z.number(),
  cancelled: z.number(),
});
export type JobCounts = z.infer<typeof jobCountsSchema>;

export const experimentSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  language: z.string(),
  description: z.string().nullable(),
  synthetic: z.boolean(),
  createdAt: z.date(),
  baseModel: modelRef.nullable(),
  sftModel: modelRef.nullable(),
  ctCount: z.number(),
  ctsftCount: z.number(),
  extraCount: z.number(),
  jobs: jobCountsSchema,
  evalTemplateId: z.string().nullable(),
  /** Name of the account that created it (null: the demo, or before accounts). */
  createdBy: z.string().nullable(),
});
export type ExperimentSummary = z.infer<typeof experimentSummarySchema>;

export const lineageNodeKindSchema = z.enum(["BASE", "SFT", "CT", "CTSFT", "MERGED"]);
export type LineageNodeKind = z.infer<typeof lineageNodeKindSchema>;

export const lineageNodeSchema = z.object({
  id: z.string(),
  kind: lineageNodeKindSchema,
  /** The paper's name: BASE, SFT-flan, CT-2B, CTSFT-2B, TIES-2B, WAVG-2B, TIES-SV-2B … */
  label: z.string(),
  /** Second line: model name, token count, or how many merges and their states. */
  detail: z.string(),
  x: z.number(),
  y: z.number(),
  width: z.number(),
  height: z.number(),
  modelId: z.string().nullable(),
  /** Merge method (merged nodes only). */
  method: z.string().nullable(),
  /** A merge that the roadmap suggests but no job has been queued for yet. */
  planned: z.boolean(),
  jobs: jobCountsSchema.nullable(),
});
export type LineageNode = z.infer<typeof lineageNodeSchema>;

export const lineageEdgeSchema = z.object({
  id: z.string(),
  from: z.string(),
  to: z.string(),
  /** sft: supervised fine-tuning; ct: continual pre-training; merge: an input of a merge. */
  kind: z.enum(["sft", "ct", "merge"]),
  planned: z.boolean(),
});
export type LineageEdge = z.infer<typeof lineageEdgeSchema>;

export const lineageSchema = z.object({
  width: z.number(),
  height: z.number(),
  nodes: z.array(lineageNodeSchema),
  edges: z.array(lineageEdgeSchema),
});
export type Lineage = z.infer<typeof lineageSchema>;

export const experimentDetailSchema = experimentSummarySchema.extend({
  models: z.array(z.object({ role: z.enum(EXPERIMENT_ROLES), position: z.number(), model: modelSchema })),
  lineage: lineageSchema,
});
export type ExperimentDetail = z.infer<typeof experimentDetailSchema>;
