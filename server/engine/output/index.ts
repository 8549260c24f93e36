export { EngineError, cancelledError, throwIfCancelled } from "./errors";
export { MERGEKIT_CONFIG_FILE, dominantDtype, finalizeOutput, type FinalizeOutputOptions, type FinalizeOutputResult } from "./finalize";
export { TOKENIZER_FILES, copyModelSideFiles } from "./hf-files";
export { outputConfigJson, TRANSFORMERS_VERSION, type OutputConfigChanges } from "./hf-config";
export {
  inputFingerprint,
  listOutputFiles,
  outputSha256,
  recipeSha256,
  sha256File,
  verifyOutput,
  type ManifestFile,
  type ManifestInput,
  type OutputManifest,
  type VerifyProblem,
  type VerifyResult,
} from "./manifest";
export { buildModelCard, hubBaseModels, type ModelCardInput } from "./model-card";
export { DEFAULT_SHARD_SIZE_BYTES, parseByteSize } from "./shard-size";
export {
  MANIFEST_FILE,
  assertDestinationFree,
  commitStaging,
  discardStaging,
  hostToken,
  isProcessAlive,
  prepareStaging,
  sweepStaleStaging,
  type SweepResult,
} from "./staging";
