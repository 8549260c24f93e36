// Public shapes of registered models (API, UI) and the inputs that change them.
import { z } from "zod";
import { optionalLanguageCodeInput as modelLanguageInput } from "../languages/schemas";

export const MODEL_ROLES = ["BASE", "SFT", "CT", "CTSFT", "MERGED", "OTHER"] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];
export const modelRoleSchema = z.enum(MODEL_ROLES);

/** Roles whose checkpoints carry a continual-training token count. */
export const TOKEN_ROLES: readonly ModelRole[] = ["CT", "CTSFT"];

/** A token count as entered: a number of tokens, or text such as "2B", "800M", "12.4B". */
export const tokenCountInput = z.union([z.number().finite().nonnegative(), z.string().trim().min(1).max(40)]);

/** What a MergeScope merge output was made from, as its mergescope-manifest.json says (no absolute paths). */
export const mergeLineageSchema = z.object({
  method: z.string().nullable(),
  inputs: z.array(z.object({ role: z.enum(["base", "model"]), source: z.string() })),
  recipeYaml: z.string(),
  engineVersion: z.string().nullable(),
});
export type MergeLineage = z.infer<typeof mergeLineageSchema>;

export const modelSchema = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  role: modelRoleSchema,
  language: z.string().nullable(),
  ctTokens: z.number().nullable(),
  architecture: z.string().nullable(),
  parameterCount: z.number().nullable(),
  dtype: z.string().nullable(),
  shardCount: z.number(),
  sizeBytes: z.number().nullable(),
  synthetic: z.boolean(),
  createdAt: z.date(),
  /** Experiments that use this model. */
  experimentCount: z.number(),
  /** Embedding rows (config.json vocab_size); null when unknown. */
  vocabSize: z.number().nullable(),
  /**
   * CT / CTSFT models whose vocabulary size differs from their base's (the base of their
   * experiments; without one, when no BASE model of the same architecture has their size):
   * without tokenizer_source a merge cuts the extra rows, losing the new tokens.
   */
  vocabDiffers: z.object({ base: z.string(), baseVocabSize: z.number() }).nullable(),
  /** MERGED models written by MergeScope: method, inputs and recipe from the manifest. */
  lineage: mergeLineageSchema.nullable(),
});
export type ModelSummary = z.infer<typeof modelSchema>;

export const registerModelInput = z.object({
  /** An absolute path under the allowed roots, or a Hugging Face id `org/name[@revision]` in the local HF cache. */
  path: z.string().min(1).max(4096),
  /** Omitted: from the synthetic marker or the directory name, else OTHER. */
  role: modelRoleSchema.optional(),
  name: z.string().trim().min(1).max(200).optional(),
  /** Omitted: the FLORES-style code trainer_state.json or config.json names most often, if any. */
  language: modelLanguageInput,
  ctTokens: tokenCountInput.nullish(),
  /** Turns trainer_state.json's global_step into tokens when num_input_tokens_seen is missing. */
  tokensPerStep: z.number().int().positive().max(1e12).nullish(),
});
export type RegisterModelInput = z.infer<typeof registerModelInput>;

export const registerResultSchema = z.object({
  model: modelSchema,
  /** Where ctTokens came from: entered, trainer_state.json, the directory name, … (null: unknown). */
  tokensSource: z.string().nullable(),
  /** Where the language came from: entered, or the side file that names it (null: none). */
  languageSource: z.string().nullable(),
  warnings: z.array(z.string()),
});
export type RegisterResult = z.infer<typeof registerResultSchema>;

export const registerFolderInput = z.object({
  path: z.string().min(1).max(4096),
  role: z.enum(["CT", "CTSFT"]).default("CT"),
  language: modelLanguageInput,
  tokensPerStep: z.number().int().positive().max(1e12).nullish(),
});
export type RegisterFolderInput = z.input<typeof registerFolderInput>;

export const folderEntrySchema = z.object({
  name: z.string(),
  path: z.string(),
  status: z.enum(["registered", "skipped", "failed"]),
  model: modelSchema.nullable(),
  tokensSource: z.string().nullable(),
  /** Why it was skipped or failed (AppError code and message), or warnings when registered. */
  code: z.string().nullable(),
  message: z.string().nullable(),
});

export const registerFolderResultSchema = z.object({
  folder: z.string(),
  entries: z.array(folderEntrySchema),
  registered: z.number(),
  skipped: z.number(),
  failed: z.number(),
});
export type RegisterFolderResult = z.infer<typeof registerFolderResultSchema>;

export const listModelsInput = z
  .object({
    role: z.array(modelRoleSchema).optional(),
    language: z.string().max(64).optional(),
    search: z.string().max(200).optional(),
  })
  .optional();
export type ListModelsInput = z.infer<typeof listModelsInput>;

export const updateModelInput = z.object({
  id: z.string().min(1),
  name: z.string().trim().min(1).max(200).optional(),
  role: modelRoleSchema.optional(),
  language: modelLanguageInput,
  ctTokens: tokenCountInput.nullish(),
  /** The folder moved: point the model at its new place (inside the model roots, holding weights). Its analyses, scores and experiments stay attached. */
  path: z.string().min(1).max(4096).optional(),
});
export type UpdateModelInput = z.infer<typeof updateModelInput>;

export const rootsSchema = z.object({
  roots: z.array(z.object({ path: z.string(), exists: z.boolean() })),
  /** The local Hugging Face hub cache: models can be registered from it by id when it lies inside a root. */
  hfCache: z.object({
    path: z.string(),
    allowed: z.boolean(),
    models: z.array(z.object({ id: z.string(), revisions: z.array(z.string()) })),
  }),
});
export type RootsInfo = z.infer<typeof rootsSchema>;
