// mergekit features MergeScope does not implement. They are rejected by name with a hint,
// never ignored: a silently dropped `slices:` or `chat_template:` would produce a model
// that differs from what the recipe asks for, with no trace of it.

/** Top-level mergekit keys that are valid for mergekit but not for MergeScope. */
export const UNSUPPORTED_TOP_LEVEL_KEYS: Record<string, string> = {
  slices: "mergekit key `slices` is not supported by MergeScope yet; use `models:` (whole-model merges only)",
  modules: "mergekit key `modules` is not supported by MergeScope yet; use `models:` (whole-model merges only)",
  chat_template:
    "mergekit key `chat_template` is not supported by MergeScope yet; remove it (the base model's chat template is copied)",
  name: "mergekit key `name` (multi-stage mergekit-multi recipes) is not supported by MergeScope; give one merge per recipe",
  merge_method_sequence: "mergekit key `merge_method_sequence` is not supported by MergeScope; give one merge per recipe",
};

/** mergekit merge methods MergeScope does not implement (others are reported as unknown). */
export const KNOWN_UNSUPPORTED_METHODS = [
  "nuslerp",
  "multislerp",
  "karcher",
  "della",
  "della_linear",
  "passthrough",
  "sce",
  "nearswap",
  "arcee_fusion",
  "task_arithmetic_sv",
] as const;

/** Per-model / global parameters of other mergekit methods: named so the error can say why. */
export const OTHER_METHOD_PARAMETERS: Record<string, string> = {
  epsilon: "della",
  select_topk: "sce",
  embed_slerp: "slerp",
};

export const LIST_PARAMETER_MESSAGE =
  "list-valued parameters (mergekit gradients or per-tensor `filter` lists) are not supported by MergeScope yet; give a single value";

export const MAPPING_PARAMETER_MESSAGE =
  "mapping-valued parameters (mergekit per-tensor `filter`/`value` entries) are not supported by MergeScope yet; give a single value";
