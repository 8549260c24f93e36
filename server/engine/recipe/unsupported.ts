// mergekit features MergeScope does not implement. They are rejected by name with a hint,
// never ignored: a silently dropped `modules:` or `chat_template:` would produce a model
// that differs from what the recipe asks for, with no trace of it.

/** Top-level mergekit keys that are valid for mergekit but not for MergeScope. */
export const UNSUPPORTED_TOP_LEVEL_KEYS: Record<string, string> = {
  modules: "mergekit key `modules` is not supported by MergeScope yet; use `models:` or `slices:`",
  chat_template:
    "mergekit key `chat_template` is not supported by MergeScope yet; remove it (the base model's chat template is copied)",
  name: "mergekit key `name` (multi-stage mergekit-multi recipes) is not supported by MergeScope; give one merge per recipe",
  merge_method_sequence: "mergekit key `merge_method_sequence` is not supported by MergeScope; give one merge per recipe",
};

/** mergekit merge methods MergeScope does not implement (others are reported as unknown). */
export const KNOWN_UNSUPPORTED_METHODS = [
  "ram",
  "ramplus_tl",
  "task_arithmetic_sv",
] as const;

/** Per-model / global parameters of other mergekit methods: named so the error can say why. */
export const OTHER_METHOD_PARAMETERS: Record<string, string> = {
  embed_slerp: "slerp",
};

