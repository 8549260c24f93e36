// A PEFT LoRA folder (adapter_config.json + adapter_model.safetensors) → what the native
// engine adds to the model's tensors as they load (NativeLoraAdapter). mergekit merges the
// adapter with peft's merge_and_unload into a cached copy of the model; MergeScope applies the
// same arithmetic on the fly, tensor by tensor, without writing that copy:
//   W' = round_to_storage(float32(W) + (B @ A) * scale)     (adapter cast to float32)
//   scale = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora
//   (B @ A) is transposed for fan_in_fan_out layers and embedding adapters (lora_embedding_A/B).
// Adapter features whose arithmetic is different (DoRA, trained biases, rank/alpha patterns,
// modules_to_save) are refused by name rather than approximated.
import { existsSync, statSync } from "node:fs";
import { PathError, readRegularFileTextSync } from "../../paths";
import path from "node:path";
import { inspectModel } from "../native-merge";
import { EngineError } from "../output/errors";
import type { NativeLoraAdapter } from "../types";

export const ADAPTER_CONFIG = "adapter_config.json";
export const ADAPTER_WEIGHTS = "adapter_model.safetensors";

export interface LoraSummary {
  r: number;
  loraAlpha: number;
  useRslora: boolean;
  fanInFanOut: boolean;
  scale: number;
  /** Tensors of the model the adapter changes. */
  targets: string[];
}

export interface LoadedLora {
  native: NativeLoraAdapter;
  summary: LoraSummary;
}

const PREFIX = "base_model.model.";

function fail(dir: string, why: string): never {
  throw new EngineError("MODEL_LORA_INVALID", `LoRA adapter ${dir}: ${why}`);
}

const ADAPTER_CONFIG_MAX_BYTES = 4 * 2 ** 20;

function readConfig(dir: string, roots: readonly string[] | null): Record<string, unknown> {
  const file = path.join(dir, ADAPTER_CONFIG);
  let text: string;
  try {
    text = readRegularFileTextSync(file, { roots, maxBytes: ADAPTER_CONFIG_MAX_BYTES, what: ADAPTER_CONFIG });
  } catch (err) {
    if (!(err instanceof PathError && err.rule === "PATH_NOT_FOUND")) throw err;
    throw new EngineError("MODEL_NOT_FOUND", `LoRA adapter ${dir} has no ${ADAPTER_CONFIG}; give the folder PEFT's save_pretrained wrote`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("not a JSON object");
    return v as Record<string, unknown>;
  } catch (err) {
    return fail(dir, `${ADAPTER_CONFIG} is not valid JSON (${(err as Error).message})`);
  }
}

const isEmpty = (v: unknown) => v == null || (typeof v === "object" && Object.keys(v as object).length === 0) || (Array.isArray(v) && v.length === 0);

/** Reads and checks the adapter at `dir` (a folder, or adapter_model.safetensors itself). */
/** `roots`: the folders the engine may read (the request's allowed roots; null for the local CLI). */
export function loadLoraAdapter(dir: string, roots: readonly string[] | null = null): LoadedLora {
  const folder = existsSync(dir) && statSync(dir).isFile() ? path.dirname(dir) : dir;
  if (!existsSync(folder)) throw new EngineError("MODEL_NOT_FOUND", `LoRA adapter ${folder} does not exist`);
  const cfg = readConfig(folder, roots);
  const peftType = cfg.peft_type ?? "LORA";
  if (peftType !== "LORA") fail(folder, `peft_type is ${JSON.stringify(peftType)}; only LORA adapters can be applied`);
  const r = cfg.r;
  if (!(Number.isSafeInteger(r) && (r as number) > 0)) fail(folder, `\`r\` must be a positive integer, got ${JSON.stringify(r)}`);
  const loraAlpha = cfg.lora_alpha ?? 8;
  if (typeof loraAlpha !== "number" || !Number.isFinite(loraAlpha)) fail(folder, `\`lora_alpha\` must be a number, got ${JSON.stringify(loraAlpha)}`);
  const useRslora = cfg.use_rslora === true;
  const fanInFanOut = cfg.fan_in_fan_out === true;
  if (cfg.use_dora === true) fail(folder, "DoRA adapters (use_dora: true) are not supported; merge it with peft first");
  if (cfg.bias != null && cfg.bias !== "none") fail(folder, `bias: ${JSON.stringify(cfg.bias)} (trained biases) is not supported; only bias: none`);
  for (const k of ["rank_pattern", "alpha_pattern"]) {
    if (!isEmpty(cfg[k])) fail(folder, `\`${k}\` (per-module ranks/alphas) is not supported yet; merge it with peft first`);
  }
  if (!isEmpty(cfg.modules_to_save)) fail(folder, "`modules_to_save` (fully trained modules stored in the adapter) is not supported yet; merge it with peft first");
  const scale = useRslora ? (loraAlpha as number) / Math.sqrt(r as number) : (loraAlpha as number) / (r as number);

  const weights = path.join(folder, ADAPTER_WEIGHTS);
  if (!existsSync(weights)) {
    const bin = existsSync(path.join(folder, "adapter_model.bin"));
    throw new EngineError(
      "MODEL_NOT_FOUND",
      `LoRA adapter ${folder} has no ${ADAPTER_WEIGHTS}${bin ? " (only the pickle adapter_model.bin, which MergeScope does not read; re-save it with safe_serialization=True)" : ""}`,
    );
  }
  const names = inspectModel(weights).tensors.map((t) => t.name);
  const pairs = new Map<string, { a?: string; b?: string; embedding: boolean }>();
  for (const name of names) {
    const m = /^(.*)\.(lora_A|lora_B)(?:\.[A-Za-z0-9_-]+)?\.weight$/.exec(name) ?? /^(.*)\.(lora_embedding_A|lora_embedding_B)(?:\.[A-Za-z0-9_-]+)?$/.exec(name);
    if (!m) fail(folder, `tensor '${name}' is not a LoRA A/B matrix (trained biases or saved modules are not supported)`);
    const [, module, kind] = m;
    if (!module!.startsWith(PREFIX)) fail(folder, `tensor '${name}' does not start with '${PREFIX}' (not a PEFT causal-LM adapter)`);
    const target = `${module!.slice(PREFIX.length)}.weight`;
    const embedding = kind!.startsWith("lora_embedding");
    const entry = pairs.get(target) ?? { embedding };
    if (kind!.endsWith("A")) entry.a = name;
    else entry.b = name;
    pairs.set(target, entry);
  }
  const targets: NativeLoraAdapter["targets"] = [];
  for (const [tensor, e] of [...pairs].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    if (!e.a || !e.b) fail(folder, `'${tensor}' has ${e.a ? "lora_A" : "lora_B"} but not ${e.a ? "lora_B" : "lora_A"}`);
    targets.push({ tensor, a: e.a, b: e.b, scale, transpose: e.embedding || fanInFanOut });
  }
  if (targets.length === 0) fail(folder, `${ADAPTER_WEIGHTS} holds no LoRA matrices`);
  return {
    native: { adapterPath: path.resolve(weights), targets },
    summary: { r: r as number, loraAlpha: loraAlpha as number, useRslora, fanInFanOut, scale, targets: targets.map((t) => t.tensor) },
  };
}
