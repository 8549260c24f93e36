export { EngineError, cancelledError, throwIfCancelled } from "./errors";
export { dominantDtype, finalizeOutput, type FinalizeOutputOptions, type FinalizeOutputResult } from "./finalize";
export { TOKENIZER_FILES, copyModelSideFiles, withTorchDtype } from "./hf-files";
export {
  listOutputFiles,
  outputSha256,
  sha256File,
  verifyOutput,
  type ManifestFile,
  type OutputManifest,
  type VerifyProblem,
  type VerifyResult,
} from "./manifest";
export { buildModelCard, type ModelCardInput } from "./model-card";
export { DEFAULT_SHARD_SIZE_BYTES, parseByteSize } from "./shard-size";
export {
  MANIFEST_FILE,
  assertDestinationFree,
  commitStaging,
  discardStaging,
  isProcessAlive,
  prepareStaging,
  sweepStaleStaging,
  type SweepResult,
} from "./staging";
