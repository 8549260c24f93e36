// A Hugging Face model directory as one tensor collection: either model.safetensors or
// shards listed in model.safetensors.index.json ({"weight_map": {tensor: shard file}}).
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { TensorInfo } from "@/server/engine/safetensors/format";
import { readSafetensors, type RawTensor, type SafetensorsFile } from "./read";

export interface Checkpoint {
  dir: string;
  files: SafetensorsFile[];
  tensorNames(): string[];
  info(name: string): TensorInfo;
  readTensor(name: string): RawTensor;
  readFloat32(name: string): Float32Array;
}

export function openCheckpoint(dir: string): Checkpoint {
  const indexPath = path.join(dir, "model.safetensors.index.json");
  const single = path.join(dir, "model.safetensors");
  let files: SafetensorsFile[];
  if (existsSync(indexPath)) {
    const index = JSON.parse(readFileSync(indexPath, "utf8")) as { weight_map?: Record<string, string> };
    if (!index.weight_map || typeof index.weight_map !== "object") throw new Error(`${indexPath}: missing weight_map`);
    const shardNames = [...new Set(Object.values(index.weight_map))].sort();
    files = shardNames.map((f) => readSafetensors(path.join(dir, f)));
  } else if (existsSync(single)) {
    files = [readSafetensors(single)];
  } else {
    throw new Error(`${dir}: no model.safetensors or model.safetensors.index.json`);
  }
  const owner = new Map<string, SafetensorsFile>();
  for (const f of files) {
    for (const name of f.tensorNames()) {
      if (owner.has(name)) throw new Error(`${dir}: tensor "${name}" appears in more than one shard`);
      owner.set(name, f);
    }
  }
  const fileOf = (name: string) => {
    const f = owner.get(name);
    if (!f) throw new Error(`${dir}: no tensor named "${name}"`);
    return f;
  };
  return {
    dir,
    files,
    tensorNames: () => [...owner.keys()],
    info: (name) => fileOf(name).info(name),
    readTensor: (name) => fileOf(name).readTensor(name),
    readFloat32: (name) => fileOf(name).readFloat32(name),
  };
}
