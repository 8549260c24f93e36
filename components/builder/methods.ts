// Merge methods and parameters as the builder explains them (one line each).
// Which method uses which setting lives in server/services/builder/method-rules.ts.
import { MERGE_METHOD_VALUES, type BuilderMethod } from "@/server/services/builder/method-rules";

export const METHODS = MERGE_METHOD_VALUES;
export type Method = BuilderMethod;

export const METHOD_INFO: Record<Method, { label: string; description: string }> = {
  linear: { label: "Linear (WAVG)", description: "Weighted average of the models' weights; no base model. The paper's WAVG." },
  task_arithmetic: { label: "Task arithmetic", description: "Adds λ × the weighted sum of task vectors (model − base) to the base model." },
  ties: { label: "TIES", description: "Trims each task vector to its largest entries, elects a sign per entry and averages the entries that agree." },
  ties_sv: { label: "TIES-SV", description: "TIES with slack variables: some of the favored (SFT) model's lost sign elections are rescued. The paper's method." },
  breadcrumbs: {
    label: "Model Breadcrumbs",
    description: "Drops each task vector's largest outliers (gamma) and its smallest entries, keeping a density fraction; no sign election.",
  },
  breadcrumbs_ties: { label: "Model Breadcrumbs + TIES", description: "Model Breadcrumbs' trimming followed by TIES' sign election." },
  dare_linear: {
    label: "DARE",
    description: "Drops task-vector entries at random (keeping a density fraction, by seed) and rescales the rest; no sign election.",
  },
  dare_ties: { label: "DARE + TIES", description: "DARE's random drop and rescale followed by TIES' sign election." },
  slerp: { label: "SLERP", description: "Spherical interpolation from the base model (t = 0) to exactly one other model (t = 1)." },
  model_stock: {
    label: "Model Stock",
    description: "Averages two or more fine-tuned models and moves toward the base by a ratio from the angle between their task vectors.",
  },
  passthrough: {
    label: "Passthrough (layer swap)",
    description: "Copies each layer from one model (optionally times a scale): frankenmerges, depth up-scaling and layer swapping with slices.",
  },
  della: {
    label: "DELLA",
    description: "Drops task-vector entries at random, keeping larger ones more often (density ± epsilon by magnitude rank), rescales, then TIES' sign election.",
  },
  della_linear: { label: "DELLA (linear)", description: "DELLA's magnitude-ranked random drop and rescale; no sign election." },
  sce: {
    label: "SCE",
    description: "Keeps the positions where the task vectors vary most across models (select_topk), elects a sign and weighs each model by its task vector's energy.",
  },
  nuslerp: {
    label: "NuSLERP",
    description: "Spherical interpolation of exactly two models by their weights, per tensor, row or column; relative to a base model if one is given.",
  },
  multislerp: {
    label: "Multi-SLERP",
    description: "Weighted spherical interpolation of any number of models (barycentric, on the hypersphere); relative to a base model if one is given.",
  },
  karcher: {
    label: "Karcher mean",
    description: "Riemannian (Karcher) mean of the models on the hypersphere, equal weights; a base model, if given, is averaged too.",
  },
  arcee_fusion: {
    label: "Arcee Fusion",
    description: "Keeps the model's changes only where their importance (|change| × the rows' KL divergence) is an outlier; the base elsewhere.",
  },
  nearswap: {
    label: "NearSwap",
    description: "Takes the model's value where it lies within t of the base, and blends toward the base (by t / distance) elsewhere.",
  },
};

export const PARAM_HELP = {
  weight: "Scales this model's contribution (its task vector, or its weights for linear).",
  density: "Fraction of this model's task vector kept by trimming (1 keeps everything).",
  gamma: "Fraction of this model's task vector removed as largest-magnitude outliers (mergekit's default is 0.01).",
  favored: "The model whose lost sign elections may be rescued: the SFT model in the paper.",
  base: "Task vectors are taken relative to this model (not used by linear).",
  lambda: "Scales the merged task vector before it is added to the base model.",
  normalize: "Divide each entry by the total weight of the models that contribute to it.",
  consensus: "How an entry's sign is elected: by the sum of the values (TIES) or by counting models.",
  slack: "Share of the favored model's kept entries whose lost elections may be rescued (the paper uses 0.04).",
  scope: "Where the slack budget is counted: over the whole model or per tensor.",
  t: "Interpolation factor: 0 gives the base model, 1 the other model.",
  seed: "Seed of the random keep/drop draws: the same seed gives the same merge on any machine (DELLA, and DARE with mergekit's stream: mergekit-yaml --random-seed).",
  epsilon: "DELLA: keep probabilities run from density − epsilon (smallest entries) to density + epsilon (largest); both must stay inside (0, 1).",
  randomStream:
    "Which generator draws DARE's masks: MergeScope's counter-based one (independent of threads and tensor order) or mergekit's stream (torch's MT19937: byte-identical to mergekit-yaml --random-seed).",
  tieOrder:
    "Which of several entries with the same magnitude at the trim threshold are kept: mergekit's order (byte-identical to mergekit) or the lowest index first.",
  rescale: "Rescale the kept entries so each task vector keeps its L1 norm (mergekit's default).",
  keepIfNoOutliers:
    "mergekit's edge case: when int(gamma × numel) is 0 (e.g. a small bias tensor), mergekit drops that tensor's whole task vector. Tick to keep the density fraction of it instead (no outliers removed).",
  filterWise: "Compute Model Stock's interpolation ratio per row (filter) instead of once per tensor.",
  selectTopk: "Fraction of positions kept: those where the task vectors' variance across the models is largest (1 keeps all).",
  nuslerpFlatten: "Interpolate each tensor as one vector (mergekit's default); untick to interpolate row or column vectors.",
  nuslerpRowWise: "Without flatten: interpolate the column vectors (dim 0) instead of the rows (last dim). mergekit's docs say the opposite; its code does this.",
  normalizeWeights: "Divide the weights by their sum.",
  eps: "Added to every norm to avoid dividing by zero (mergekit's default 1e-8).",
  maxIter: "Maximum iterations of the Karcher mean (mergekit's default 10).",
  tol: "Stop when the tangent step is shorter than this (mergekit's default 1e-5).",
  nearswapT: "Distance |base − model| up to which the model's value is taken; farther values move toward the base by t / distance (e.g. 0.001).",
  dtype: "Arithmetic dtype; empty uses each tensor's storage dtype (like mergekit without dtype).",
  scale: "Passthrough multiplies this model's tensors by it (1 copies them unchanged).",
  perLayer:
    "Per layer: a gradient's points are spread evenly over the layers and interpolated (mergekit); embeddings and the LM head take the first value.",
  tokenizer:
    "Output vocabulary. Default: the base's tokenizer, and a CT model's extra embedding rows (new tokens) are cut off. base: every model's embedding rows re-indexed into the base vocabulary by token. union: all models' tokens kept; rows only one model has stay that model's.",
} as const;

/** What the models list takes for the methods without weights. */
export const UNWEIGHTED_HINT: Partial<Record<Method, string>> = {
  slerp: "SLERP takes the base and exactly one other model (no weights): t sets the mix.",
  model_stock: "Model Stock takes the base and two or more other models (no weights): the mix follows from their task vectors.",
  passthrough: "Passthrough copies exactly one model (optionally scaled); use the layer swap helper to take layers from several.",
  sce: "SCE takes the base and one or more models (no weights): each model's weight follows from its task vector.",
  karcher: "Karcher takes one or more models (no weights): all inputs, the base model included, count equally.",
  arcee_fusion: "Arcee Fusion takes the base and exactly one other model (no weights).",
  nearswap: "NearSwap takes the base and exactly one other model (no weights): t sets the mix.",
};

/** The paper's density grid. */
export const PAPER_GRID = [0.01, 0.2, 0.4, 0.6, 0.8, 1.0];

export const DTYPES = ["float32", "float16", "bfloat16"] as const;
export type Dtype = (typeof DTYPES)[number];

export {
  baseOptional,
  defaultNormalize,
  usesEpsilon,
  usesRandomStream,
  usesTieOrder,
  DEFAULT_EPSILON,
  interpolates,
  normalizeAfterSwitch,
  usesBaseModel,
  usesConsensus,
  usesDensity,
  usesGamma,
  usesLambda,
  usesNormalize,
  usesSeed,
  usesT,
  usesWeight,
  DEFAULT_GAMMA,
  DEFAULT_T,
  NEARSWAP_SUGGESTED_T,
} from "@/server/services/builder/method-rules";
