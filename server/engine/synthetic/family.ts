// Generate a synthetic Llama-shaped model family (base, SFT, N continued-training
// checkpoints) as real Hugging Face model directories. All models are written in one
// streaming pass, chunk by chunk, so memory stays flat even for billion-parameter models.
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { f32ToHalfBits, type FloatDType } from "../dtype";
import { createSafetensorsWriter, type SafetensorsStreamWriter } from "../safetensors";
import { ctDirName, SYNTHETIC_MARKER_FILE, writeModelSideFiles, type SyntheticRole } from "./hfFiles";
import { llamaParameterCount, llamaTensors, validateLlamaShape, type LlamaShape, type LlamaTensor } from "./llama";
import { Rng } from "./prng";
import { planShards, writeShardIndex } from "./shards";
import { allocateChunk, DEFAULT_SIGNAL, generateChunk, type SignalParams, type TensorStreams } from "./signal";

export type SyntheticDtype = "bf16" | "f16" | "f32";

const STORAGE: Record<SyntheticDtype, { dtype: FloatDType; torch: string }> = {
  bf16: { dtype: "BF16", torch: "bfloat16" },
  f16: { dtype: "F16", torch: "float16" },
  f32: { dtype: "F32", torch: "float32" },
};

/** Even (Box-Muller draws pairs) and big enough to amortize per-chunk overhead. */
const CHUNK_ELEMENTS = 1 << 16;

export interface ModelFamilyOptions extends LlamaShape {
  out: string;
  ctCheckpoints: number;
  /** Billions of tokens between CT checkpoints: checkpoint i (1-based) has seen i * this. */
  tokensPerCheckpoint: number;
  dtype: SyntheticDtype;
  seed: number;
  /** Maximum bytes per safetensors shard (default: one file per model). */
  shardSize?: number;
  /** Replace files of a previous generation in the model directories. */
  overwrite?: boolean;
  signal?: Partial<SignalParams>;
  onProgress?: (parametersDone: number, parametersTotal: number) => void;
}

export interface FamilyMember {
  role: SyntheticRole;
  /** Directory name inside `out`: base, sft, ct-2B, ... */
  name: string;
  dir: string;
  tokensB: number | null;
}

export interface ModelFamily {
  out: string;
  members: FamilyMember[];
  parameterCount: number;
  bytesPerModel: number;
  shardFiles: string[];
}

export function familyMembers(out: string, ctCheckpoints: number, tokensPerCheckpoint: number): FamilyMember[] {
  const member = (role: SyntheticRole, name: string, tokensB: number | null) => ({ role, name, dir: path.join(out, name), tokensB });
  const cts = Array.from({ length: ctCheckpoints }, (_, i) => {
    const tokensB = (i + 1) * tokensPerCheckpoint;
    return member("ct", ctDirName(tokensB), tokensB);
  });
  return [member("base", "base", null), member("sft", "sft", null), ...cts];
}

export function generateModelFamily(options: ModelFamilyOptions): ModelFamily {
  validateOptions(options);
  const storage = STORAGE[options.dtype];
  const signal = { ...DEFAULT_SIGNAL, ...options.signal };
  const members = familyMembers(options.out, options.ctCheckpoints, options.tokensPerCheckpoint);
  const ctTokens = members.filter((m) => m.role === "ct").map((m) => m.tokensB!);
  const tensors = llamaTensors(options);
  const shards = planShards(tensors, storage.dtype, options.shardSize);

  for (const m of members) prepareDir(m.dir, options.overwrite ?? false);
  const total = llamaParameterCount(options);
  let done = 0;
  const buffers = allocateChunk(CHUNK_ELEMENTS);
  const halfBits = new Uint16Array(CHUNK_ELEMENTS);
  const encode = (values: Float32Array): Uint8Array => {
    if (storage.dtype === "F32") return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const bits = f32ToHalfBits(storage.dtype, values, halfBits.subarray(0, values.length));
    return new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
  };

  for (const shard of shards) {
    const layouts = shard.tensors.map((t) => ({ name: t.name, dtype: storage.dtype, shape: t.shape }));
    const writers: SafetensorsStreamWriter[] = [];
    try {
      for (const m of members) writers.push(createSafetensorsWriter(path.join(m.dir, shard.file), layouts, { format: "pt" }));
      for (const t of shard.tensors) {
        const streams = tensorStreams(options.seed, t, ctTokens.length);
        const numel = t.shape.reduce((a, b) => a * b, 1);
        for (let start = 0; start < numel; start += CHUNK_ELEMENTS) {
          const length = Math.min(CHUNK_ELEMENTS, numel - start);
          generateChunk(t.kind, streams, ctTokens, signal, buffers, length, (i, values) => writers[i]!.writeTensorChunk(t.name, encode(values)));
        }
        done += numel;
        options.onProgress?.(done, total);
      }
      for (const w of writers) w.close();
    } catch (e) {
      for (const w of writers) w.abort();
      throw e;
    }
  }
  for (const m of members) {
    writeShardIndex(m.dir, shards);
    writeModelSideFiles({ dir: m.dir, role: m.role, tokensB: m.tokensB, seed: options.seed, shape: options, torchDtype: storage.torch });
  }
  return {
    out: options.out,
    members,
    parameterCount: total,
    bytesPerModel: shards.reduce((n, s) => n + s.bytes, 0),
    shardFiles: shards.map((s) => s.file),
  };
}

function tensorStreams(seed: number, t: LlamaTensor, checkpoints: number): TensorStreams {
  const key = (part: string) => new Rng(`mergescope-synthetic/${seed}/${t.name}/${part}`);
  return {
    base: key("base"),
    sft: key("sft"),
    direction: key("ct-direction"),
    ctNoise: Array.from({ length: checkpoints }, (_, c) => key(`ct-noise/${c + 1}`)),
  };
}

function validateOptions(o: ModelFamilyOptions): void {
  validateLlamaShape(o);
  if (!(o.dtype in STORAGE)) throw new Error(`dtype must be one of ${Object.keys(STORAGE).join(", ")}, got ${o.dtype}`);
  if (!Number.isSafeInteger(o.ctCheckpoints) || o.ctCheckpoints < 0) throw new Error(`ct-checkpoints must be a non-negative integer`);
  if (!(o.tokensPerCheckpoint > 0)) throw new Error(`tokens-per-checkpoint must be > 0 (billions)`);
  if (!Number.isSafeInteger(o.seed)) throw new Error(`seed must be an integer`);
  if (o.shardSize !== undefined && !(o.shardSize > 0)) throw new Error(`shard-size must be > 0 bytes`);
}

const GENERATED_FILE = /^(model(-\d{5}-of-\d{5})?\.safetensors(\.partial)?|model\.safetensors\.index\.json|config\.json|generation_config\.json|tokenizer_config\.json|special_tokens_map\.json|trainer_state\.json)$/;

/** Create the model directory; refuse to mix with an earlier generation unless overwriting. */
function prepareDir(dir: string, overwrite: boolean): void {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!overwrite) throw new Error(`${dir} is not empty (pass overwrite / --force to replace a previous generation)`);
    for (const f of readdirSync(dir)) if (GENERATED_FILE.test(f) || f === SYNTHETIC_MARKER_FILE) rmSync(path.join(dir, f));
  }
  mkdirSync(dir, { recursive: true });
}
