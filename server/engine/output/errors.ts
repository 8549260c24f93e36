// Errors raised by the TypeScript side of the engine (output directory handling, pre-flight
// checks). Same shape as the native engine's errors: a stable `code` callers can match on.
// Codes shared with native/core/errors.h: OUT_EXISTS, OUT_IO, CANCELLED, MODEL_NOT_FOUND.
// TS-only: MODEL_CONFIG_INVALID (the base model's config.json is not valid JSON),
// MANIFEST_INVALID (verifyOutput found no usable mergescope-manifest.json),
// MODEL_LORA_INVALID (a LoRA adapter MergeScope cannot apply: server/engine/lora),
// MODEL_TOKENIZER_INVALID (a tokenizer.json the tokenizer merge cannot use: server/engine/tokenizer).
export class EngineError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "EngineError";
    this.code = code;
  }
}

export function cancelledError(outDir: string): EngineError {
  return new EngineError("CANCELLED", `merge cancelled; nothing was written to ${outDir}`);
}

export function throwIfCancelled(signal: AbortSignal | undefined, outDir: string): void {
  if (signal?.aborted) throw cancelledError(outDir);
}
