// The documented size limits on what a request can make the server do (README,
// "Running for a lab"). Everything larger is refused with a 413/400 before it is
// parsed; at these limits no request blocks the web server's event loop for long
// (the tests in test/unit/hardening/ measure it).
const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS = {
  /** Request body of a tRPC call without its own limit. */
  bodyBytes: 1 * MiB,
  /** Request body of the results-file uploads (one lm-eval file, JSON-escaped, plus the envelope). */
  importBodyBytes: 5 * MiB,
  /** A mergekit recipe (YAML text). Real ones are a few KiB. */
  recipeBytes: 256 * KiB,
  /** Entries of a recipe's `models:` list. */
  recipeModels: 256,
  /** YAML alias expansions in one document (the `yaml` package's maxAliasCount). */
  yamlAliases: 100,
  /** One lm-evaluation-harness results file (real ones, configs included, are well under 1 MiB). */
  resultsFileBytes: 4 * MiB,
  /** Tasks (results + groups) in one results file. */
  resultsTasks: 5_000,
  /** Score rows (task × metric × filter) from one results file. */
  resultsScores: 20_000,
  /** JSON nesting depth of a results file. */
  resultsDepth: 64,
  /** Results files in one scores.importFiles call. */
  resultsFilesPerRequest: 20,
  /** Calls in one tRPC batch request. */
  batchCalls: 50,
} as const;
