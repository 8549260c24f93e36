// Merge methods and parameters as the builder explains them (one line each).
export const METHODS = ["linear", "task_arithmetic", "ties", "ties_sv"] as const;
export type Method = (typeof METHODS)[number];

export const METHOD_INFO: Record<Method, { label: string; description: string }> = {
  linear: { label: "Linear (WAVG)", description: "Weighted average of the models' weights; no base model. The paper's WAVG." },
  task_arithmetic: { label: "Task arithmetic", description: "Adds λ × the weighted sum of task vectors (model − base) to the base model." },
  ties: { label: "TIES", description: "Trims each task vector to its largest entries, elects a sign per entry and averages the entries that agree." },
  ties_sv: { label: "TIES-SV", description: "TIES with slack variables: some of the favored (SFT) model's lost sign elections are rescued. The paper's method." },
};

export const PARAM_HELP = {
  weight: "Scales this model's contribution (its task vector, or its weights for linear).",
  density: "Fraction of this model's task vector kept by magnitude trimming (1 keeps everything).",
  favored: "The model whose lost sign elections may be rescued: the SFT model in the paper.",
  base: "Task vectors are taken relative to this model (not used by linear).",
  lambda: "Scales the merged task vector before it is added to the base model.",
  normalize: "Divide each entry by the total weight of the models that contribute to it.",
  consensus: "How an entry's sign is elected: by the sum of the values (TIES) or by counting models.",
  slack: "Share of the favored model's kept entries whose lost elections may be rescued (the paper uses 0.04).",
  scope: "Where the slack budget is counted: over the whole model or per tensor.",
  dtype: "Arithmetic dtype; empty uses each tensor's storage dtype (like mergekit without dtype).",
} as const;

/** The paper's density grid. */
export const PAPER_GRID = [0.01, 0.2, 0.4, 0.6, 0.8, 1.0];

export const DTYPES = ["float32", "float16", "bfloat16"] as const;
export type Dtype = (typeof DTYPES)[number];

export const usesDensity = (m: Method) => m === "ties" || m === "ties_sv";
