// The merge builder's settings (what the form and the URL hold) and the
// answers of the preview / YAML import / sweep plan procedures.
import { z } from "zod";
import { MERGE_METHOD_VALUES } from "./method-rules";

export { MERGE_METHOD_VALUES };
/** Models one builder recipe edits (the form lists each with its sliders). */
export const MAX_BUILDER_MODELS = 16;

export const mergeMethodSchema = z.enum(MERGE_METHOD_VALUES);
export type BuilderMethod = z.infer<typeof mergeMethodSchema>;

/** A numeric parameter: a number, a per-layer gradient, or `{filter, value}` conditions (mergekit). */
const specNumber = z.number().finite();
const gradientSchema = z.array(specNumber).min(1).max(1024);
export const paramSpecSchema = z.union([
  specNumber,
  gradientSchema,
  z.array(z.object({ filter: z.string().max(200).nullable(), value: z.union([specNumber, gradientSchema]) })).min(1).max(64),
]);
export const PARAM_SPEC_KEYS = ["weight", "density", "gamma", "epsilon", "scale", "lambda", "t"] as const;
/** Per-layer values beyond the plain fields (the recipe layer's ParamSpecs). */
export const paramSpecsSchema = z.partialRecord(z.enum(PARAM_SPEC_KEYS), paramSpecSchema);
export type BuilderParamSpecs = z.infer<typeof paramSpecsSchema>;

export const builderSliceSchema = z.object({
  sources: z
    .array(
      z.object({
        modelId: z.string().min(1),
        /** [start, end): source layers, end exclusive. */
        layerRange: z.tuple([z.number().int().min(0), z.number().int().min(1)]),
        parameters: paramSpecsSchema,
      }),
    )
    .min(1)
    .max(16),
  parameters: paramSpecsSchema,
});
export type BuilderSlice = z.infer<typeof builderSliceSchema>;

export const builderModelSchema = z.object({
  modelId: z.string().min(1),
  weight: z.number().finite(),
  density: z.number().min(0).max(1),
  /** breadcrumbs*: fraction of largest-magnitude entries removed as outliers. */
  gamma: z.number().min(0).max(1).default(0.01),
  /** della*: keep probabilities span density -+ epsilon. */
  epsilon: z.number().min(0).max(1).default(0.15),
  favored: z.boolean(),
  /** passthrough: the model's tensors are multiplied by it. */
  scale: z.number().finite().optional(),
  /** Gradients / filter lists (and plain values that shadow a top-level list). */
  parameters: paramSpecsSchema.optional(),
});
export type BuilderModel = z.infer<typeof builderModelSchema>;

export const builderSettingsSchema = z.object({
  experimentId: z.string().min(1).nullable(),
  method: mergeMethodSchema,
  /** Task vectors are taken relative to it (not used by linear). */
  baseModelId: z.string().min(1).nullable(),
  models: z.array(builderModelSchema).min(1).max(MAX_BUILDER_MODELS),
  lambda: z.number().finite(),
  normalize: z.boolean(),
  consensus: z.enum(["sum", "count"]),
  slack: z.number().min(0).max(1),
  slackScope: z.enum(["model", "tensor"]),
  /** slerp: interpolation factor from the base (0) to the model (1). */
  t: z.number().min(0).max(1).default(0.5),
  /** dare*, della*: seed of the random keep masks. */
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  /** dare*, della*: L1 rescale of the sparsified task vectors. */
  rescale: z.boolean().default(true),
  /** dare*: the counter-based generator or mergekit's stream (della* always the latter). */
  randomStream: z.enum(["counter", "mergekit"]).default("counter"),
  /** Magnitude-ranking methods: which threshold ties a cut keeps. */
  tieOrder: z.enum(["mergekit", "index"]).default("mergekit"),
  /** breadcrumbs*: keep the density fraction when int(gamma × numel) is 0 (mergekit drops the tensor's task vector). */
  keepIfNoOutliers: z.boolean().default(false),
  /** model_stock: one interpolation ratio per row. */
  filterWise: z.boolean().default(false),
  // sce, nuslerp, multislerp, karcher (mergekit's defaults; nearswap uses `t`)
  selectTopk: z.number().min(0).max(1).default(1),
  nuslerpFlatten: z.boolean().default(true),
  nuslerpRowWise: z.boolean().default(false),
  normalizeWeights: z.boolean().default(true),
  eps: z.number().min(0).max(1).default(1e-8),
  maxIter: z.number().int().min(0).max(100_000).default(10),
  tol: z.number().min(0).max(1).default(1e-5),
  dtype: z.enum(["float32", "float16", "bfloat16"]).nullable(),
  /** Top-level gradients / filter lists (lambda, t, per-model fallbacks); with slices also plain per-model fallbacks. */
  parameters: paramSpecsSchema.optional(),
  /** mergekit `slices:` (layer ranges per model: layer swaps, frankenmerges); the models then only label the recipe. */
  slices: z.array(builderSliceSchema).min(1).max(256).optional(),
  /** mergekit tokenizer_source: null copies the base model's tokenizer (embeddings cut to the base's rows). */
  tokenizerSource: z.enum(["base", "union"]).nullable().default(null),
});
export type BuilderSettings = z.infer<typeof builderSettingsSchema>;

export const recipeIssueSchema = z.object({ path: z.string(), line: z.number().nullable(), message: z.string() });
export type RecipeIssueOut = z.infer<typeof recipeIssueSchema>;

export const previewResultSchema = z.object({
  ok: z.boolean(),
  /** mergekit YAML: every effective value written out when valid, else the YAML as built. */
  yaml: z.string(),
  issues: z.array(recipeIssueSchema),
  notes: z.array(z.string()),
  /** Absolute folder the recipe's paths resolve against (jobs need it). */
  recipeDir: z.string(),
  /** Suggested job label, e.g. "TIES-SV ct-4B d=0.2/1". */
  label: z.string(),
  fileName: z.string(),
});
export type PreviewResult = z.infer<typeof previewResultSchema>;

export const parseYamlInput = z.object({ yaml: z.string().max(500_000) });

export const parseYamlResultSchema = z.object({
  ok: z.boolean(),
  issues: z.array(recipeIssueSchema),
  notes: z.array(z.string()),
  settings: builderSettingsSchema.nullable(),
});
export type ParseYamlResult = z.infer<typeof parseYamlResultSchema>;

export const sweepPlanInput = z.object({
  settings: builderSettingsSchema,
  type: z.enum(["merge", "analyze"]),
  /** CT checkpoints that replace the CT model of the recipe one after another. */
  checkpointIds: z.array(z.string().min(1)).min(1).max(1000),
  methods: z.array(mergeMethodSchema).min(1).max(MERGE_METHOD_VALUES.length),
  /** Per model (settings order) the densities to try (trimming methods only). */
  densities: z.array(z.array(z.number().min(0).max(1)).min(1).max(20)).max(16),
});
export type SweepPlanInput = z.infer<typeof sweepPlanInput>;

export const sweepRequestSchema = z.object({
  type: z.enum(["merge", "analyze"]),
  recipeYaml: z.string(),
  recipeDir: z.string(),
  checkpoints: z.array(z.string()),
  ctIndex: z.number(),
  methods: z.array(mergeMethodSchema),
  densities: z.array(z.array(z.number())).optional(),
  experimentId: z.string().nullable(),
  labelPrefix: z.string(),
});
export type SweepRequest = z.infer<typeof sweepRequestSchema>;

export const sweepPlanResultSchema = z.object({
  ok: z.boolean(),
  issues: z.array(recipeIssueSchema),
  /** The jobs.sweep calls to make, one per method. */
  requests: z.array(sweepRequestSchema),
  jobCount: z.number(),
});
export type SweepPlanResult = z.infer<typeof sweepPlanResultSchema>;
