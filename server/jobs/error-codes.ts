// Every code a job can fail with, and whether retrying can help. The native
// engine's codes come generated from native/core/errors.h; the codes raised by
// the TypeScript side are listed here. A code missing from both tables (a
// Node system error such as EIO) counts as transient: the job retries with backoff.
import { NATIVE_ERROR_CODES } from "../engine/error-codes.generated";

interface CodeInfo {
  permanent: boolean;
  description: string;
}

const APP_ERROR_CODES = {
  // engine, TypeScript side (server/engine/output/errors.ts)
  MODEL_CONFIG_INVALID: { permanent: true, description: "the base model's config.json is not valid JSON" },
  MANIFEST_INVALID: { permanent: true, description: "a merge output has no usable mergescope-manifest.json" },
  MODEL_LORA_INVALID: { permanent: true, description: "a LoRA adapter MergeScope cannot apply" },
  MODEL_TOKENIZER_INVALID: { permanent: true, description: "a tokenizer.json the tokenizer merge cannot use" },
  NATIVE_ADDON_MISSING: { permanent: true, description: "the worker has no native engine build (run npm install / npm run build:native there)" },
  INVALID_ARGUMENT: { permanent: true, description: "an argument the engine or a results file reader refuses" },
  // paths (server/paths)
  PATH_INVALID: { permanent: true, description: "a path that is not absolute, not normalized or holds control characters" },
  PATH_NOT_FOUND: { permanent: true, description: "a path that does not exist" },
  PATH_NOT_REGULAR: { permanent: true, description: "a path that is not a regular file (a FIFO, device or folder)" },
  FILE_TOO_LARGE: { permanent: true, description: "a file larger than the limit for its kind" },
  // evaluation (server/services/scores/eval-runner): the same command fails the same way again
  EVAL_EXIT_CODE: { permanent: true, description: "the evaluation command exited with an error" },
  EVAL_NO_RESULTS: { permanent: true, description: "the evaluation command wrote no results file" },
  EVAL_RESULTS_INVALID: { permanent: true, description: "the evaluation results file is not lm-eval's format" },
  EVAL_SPAWN_FAILED: { permanent: true, description: "the evaluation command could not be started" },
  EVAL_TEMPLATE_MISSING: { permanent: true, description: "the evaluation template was deleted" },
  EVAL_TIMEOUT: { permanent: true, description: "the evaluation command ran past its time limit" },
  // the job runtime
  JOB_PAYLOAD_INVALID: { permanent: true, description: "the queued payload no longer matches the job type's schema" },
  JOB_TYPE_UNKNOWN: { permanent: true, description: "no handler for this job type and version in the worker" },
  JOB_FAILED: { permanent: false, description: "an error without a code" },
  WORKER_LOST: { permanent: true, description: "the worker stopped responding on the job's last attempt" },
  LEASE_LOST: { permanent: false, description: "the worker's lease ended (the job was re-queued)" },
} as const satisfies Record<string, CodeInfo>;

export const JOB_ERROR_CODES: Readonly<Record<string, CodeInfo>> = { ...NATIVE_ERROR_CODES, ...APP_ERROR_CODES };

/** Failures that retrying cannot fix (bad input, a refused path): the job fails on its first attempt. */
export function isPermanentErrorCode(code: string): boolean {
  return Object.hasOwn(JOB_ERROR_CODES, code) ? JOB_ERROR_CODES[code]!.permanent : false;
}
