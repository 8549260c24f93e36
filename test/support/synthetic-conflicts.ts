// Paper §6.1 analysis on a generated family: for each CT checkpoint, merge it with the SFT
// model by TIES (reference implementation) and measure how much of the trimmed SFT task
// vector is in sign conflict and how much the sign election discards (Figures 3-4).
// Meant for small families (the reference sorts every tensor).
import { readdirSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { isFloatDType } from "@/server/engine/dtype";
import { tiesTensor, type ComputeMode } from "../reference";
import { openCheckpoint, type Checkpoint } from "./safetensors";
import { SYNTHETIC_MARKER_FILE, type SyntheticRole } from "@/server/engine/synthetic/hfFiles";

export interface CheckpointConflicts {
  name: string;
  tokensB: number;
  sftNnzTrimmed: number;
  sftDiscarded: number;
  /** sftDiscarded / sftNnzTrimmed: the quantity of the paper's Figure 4. */
  discardedShare: number;
  sftInConflict: number;
  /** sftInConflict / sftNnzTrimmed. */
  conflictShare: number;
  /** L2 norm of the CT task vector over all tensors. */
  ctDeltaNorm: number;
}

export interface ConflictOptions {
  sftDensity?: number; // default 0.2 (paper)
  ctDensity?: number; // default 1.0 (paper)
  mode?: ComputeMode; // default "f32"
}

interface Marker {
  role: SyntheticRole;
  tokensB: number | null;
}

export function readSyntheticMembers(out: string): { name: string; dir: string; marker: Marker }[] {
  return readdirSync(out)
    .map((name) => ({ name, dir: path.join(out, name) }))
    .filter(({ dir }) => existsSync(path.join(dir, SYNTHETIC_MARKER_FILE)))
    .map((m) => ({ ...m, marker: JSON.parse(readFileSync(path.join(m.dir, SYNTHETIC_MARKER_FILE), "utf8")) as Marker }));
}

export function measureSftConflicts(out: string, options: ConflictOptions = {}): CheckpointConflicts[] {
  const members = readSyntheticMembers(out);
  const find = (role: SyntheticRole) => {
    const m = members.find((x) => x.marker.role === role);
    if (!m) throw new Error(`${out}: no synthetic ${role} model`);
    return openCheckpoint(m.dir);
  };
  const base = find("base");
  const sft = find("sft");
  const cts = members.filter((m) => m.marker.role === "ct").sort((a, b) => a.marker.tokensB! - b.marker.tokensB!);
  return cts.map((m) => ({ name: m.name, tokensB: m.marker.tokensB!, ...mergeStats(base, sft, openCheckpoint(m.dir), options) }));
}

function mergeStats(base: Checkpoint, sft: Checkpoint, ct: Checkpoint, o: ConflictOptions) {
  let sftNnzTrimmed = 0;
  let sftDiscarded = 0;
  let sftInConflict = 0;
  let squares = 0;
  for (const name of base.tensorNames()) {
    const dtype = base.info(name).dtype;
    if (!isFloatDType(dtype)) continue;
    const b = { shape: base.info(name).shape, data: base.readFloat32(name) };
    const c = ct.readFloat32(name);
    const { stats } = tiesTensor(
      {
        base: b,
        models: [
          { tensor: { shape: b.shape, data: sft.readFloat32(name) }, weight: 1, density: o.sftDensity ?? 0.2 },
          { tensor: { shape: b.shape, data: c }, weight: 1, density: o.ctDensity ?? 1 },
        ],
      },
      { dtype, mode: o.mode ?? "f32", consensus: "sum", normalize: true },
    );
    sftNnzTrimmed += stats.models[0]!.nnzTrimmed;
    sftDiscarded += stats.models[0]!.discarded;
    sftInConflict += stats.models[0]!.inConflict;
    for (let j = 0; j < c.length; j++) squares += (c[j]! - b.data[j]!) ** 2;
  }
  return {
    sftNnzTrimmed,
    sftDiscarded,
    discardedShare: sftDiscarded / sftNnzTrimmed,
    sftInConflict,
    conflictShare: sftInConflict / sftNnzTrimmed,
    ctDeltaNorm: Math.sqrt(squares),
  };
}
