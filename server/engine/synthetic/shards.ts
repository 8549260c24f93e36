// Splitting a checkpoint into safetensors shards the way Hugging Face does:
// model-00001-of-0000N.safetensors + model.safetensors.index.json, or a single
// model.safetensors when everything fits in one shard.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { byteSizeOf } from "../safetensors";
import type { DType } from "../dtype";

export interface ShardPlan<T extends { name: string; shape: number[] }> {
  file: string;
  tensors: T[];
  bytes: number;
}

/** Greedy in tensor order; a tensor larger than `maxBytes` gets a shard of its own. */
export function planShards<T extends { name: string; shape: number[] }>(
  tensors: readonly T[],
  dtype: DType,
  maxBytes: number = Infinity,
): ShardPlan<T>[] {
  const groups: { tensors: T[]; bytes: number }[] = [];
  for (const t of tensors) {
    const size = byteSizeOf(dtype, t.shape);
    const last = groups[groups.length - 1];
    if (last && last.bytes + size <= maxBytes) {
      last.tensors.push(t);
      last.bytes += size;
    } else {
      groups.push({ tensors: [t], bytes: size });
    }
  }
  const n = groups.length;
  const pad = (i: number) => String(i).padStart(5, "0");
  return groups.map((g, i) => ({ ...g, file: n === 1 ? "model.safetensors" : `model-${pad(i + 1)}-of-${pad(n)}.safetensors` }));
}

export function writeShardIndex(dir: string, shards: readonly ShardPlan<{ name: string; shape: number[] }>[]): void {
  if (shards.length <= 1) return;
  const weightMap: Record<string, string> = {};
  for (const s of shards) for (const t of s.tensors) weightMap[t.name] = s.file;
  const index = { metadata: { total_size: shards.reduce((n, s) => n + s.bytes, 0) }, weight_map: weightMap };
  writeFileSync(path.join(dir, "model.safetensors.index.json"), `${JSON.stringify(index, null, 2)}\n`);
}
