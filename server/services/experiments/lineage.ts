// The roadmap of the paper's Figure 1 as a laid-out graph: BASE → SFT;
// BASE → CT-X → CTSFT-X; CT-X + SFT → merged models (TIES-X, WAVG-X, …).
// Merged nodes group the experiment's merge jobs per CT checkpoint and method;
// a CT checkpoint without merges shows the paper's TIES-X and WAVG-X as planned.
// Pure: the UI only draws what this returns.
import { formatTokens } from "../models/tokens";
import type { JobCounts, Lineage, LineageEdge, LineageNode } from "./schemas";

export interface LineageModel {
  id: string;
  name: string;
  ctTokens: number | null;
}

export interface LineageMerge {
  ctModelId: string;
  method: string;
  status: string;
}

export interface LineageInput {
  base: LineageModel | null;
  sft: LineageModel | null;
  cts: LineageModel[];
  ctsfts: LineageModel[];
  merges: LineageMerge[];
}

export const METHOD_LABELS: Record<string, string> = {
  linear: "WAVG",
  task_arithmetic: "TA",
  ties: "TIES",
  ties_sv: "TIES-SV",
  breadcrumbs: "Breadcrumbs",
  breadcrumbs_ties: "Breadcrumbs-TIES",
  dare_linear: "DARE",
  dare_ties: "DARE-TIES",
  slerp: "SLERP",
  model_stock: "Model Stock",
  passthrough: "Passthrough",
  sce: "SCE",
  nuslerp: "NuSLERP",
  multislerp: "Multi-SLERP",
  karcher: "Karcher",
  arcee_fusion: "Arcee Fusion",
  nearswap: "NearSwap",
};
const METHOD_ORDER = Object.keys(METHOD_LABELS);
/** What Figure 1 shows for every CT checkpoint. */
const ROADMAP_METHODS = ["ties", "linear"];

const NODE_W = 168;
const NODE_H = 46;
const SLOT = 60;
const PAD = 16;
const COL_X = [PAD, PAD + NODE_W + 60, PAD + 2 * (NODE_W + 60)] as const;

function emptyCounts(): JobCounts {
  return { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
}

function countsText(c: JobCounts): string {
  const total = c.queued + c.running + c.done + c.failed + c.cancelled;
  const parts = (Object.keys(c) as (keyof JobCounts)[]).filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
  return `${total} merge${total === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

function tokensLabel(m: LineageModel): string {
  return m.ctTokens !== null ? formatTokens(m.ctTokens) : m.name;
}

export function buildLineage(input: LineageInput): Lineage {
  const nodes: LineageNode[] = [];
  const edges: LineageEdge[] = [];
  const node = (n: Omit<LineageNode, "x" | "y" | "width" | "height">, col: 0 | 1 | 2, slotCenter: number): LineageNode => {
    const full = { ...n, x: COL_X[col], y: PAD + slotCenter * SLOT + (SLOT - NODE_H) / 2, width: NODE_W, height: NODE_H };
    nodes.push(full);
    return full;
  };
  const edge = (from: string, to: string, kind: LineageEdge["kind"], planned = false) =>
    edges.push({ id: `${from}->${to}`, from, to, kind, planned });

  const baseId = input.base ? `model:${input.base.id}` : "base:missing";
  const sftId = input.sft ? `model:${input.sft.id}` : "sft:missing";
  let slot = 0;
  node(
    { id: sftId, kind: "SFT", label: "SFT", detail: input.sft?.name ?? "no SFT model", modelId: input.sft?.id ?? null, method: null, planned: !input.sft, jobs: null },
    1,
    slot++,
  );
  edge(baseId, sftId, "sft", !input.sft);

  const byTokens = (a: LineageModel, b: LineageModel) => (a.ctTokens ?? Infinity) - (b.ctTokens ?? Infinity) || a.name.localeCompare(b.name);
  const cts = [...input.cts].sort(byTokens);
  const unpaired = [...input.ctsfts].sort(byTokens);
  for (const ct of cts) {
    const ctId = `model:${ct.id}`;
    const x = tokensLabel(ct);
    const right: Omit<LineageNode, "x" | "y" | "width" | "height">[] = [];
    const pairIdx = unpaired.findIndex((c) => c.ctTokens !== null && c.ctTokens === ct.ctTokens);
    const pair = pairIdx >= 0 ? unpaired.splice(pairIdx, 1)[0]! : null;
    if (pair) {
      right.push({ id: `model:${pair.id}`, kind: "CTSFT", label: `CTSFT-${x}`, detail: pair.name, modelId: pair.id, method: null, planned: false, jobs: null });
    }
    const groups = new Map<string, JobCounts>();
    for (const m of input.merges.filter((mm) => mm.ctModelId === ct.id)) {
      const c = groups.get(m.method) ?? emptyCounts();
      if (m.status in c) c[m.status as keyof JobCounts]++;
      groups.set(m.method, c);
    }
    const methods = groups.size > 0 ? METHOD_ORDER.filter((m) => groups.has(m)) : ROADMAP_METHODS;
    for (const method of methods) {
      const counts = groups.get(method) ?? null;
      right.push({
        id: `merge:${ct.id}:${method}`,
        kind: "MERGED",
        label: `${METHOD_LABELS[method] ?? method}-${x}`,
        detail: counts ? countsText(counts) : "not merged yet",
        modelId: null,
        method,
        planned: counts === null,
        jobs: counts,
      });
    }
    const slots = Math.max(1, right.length);
    node({ id: ctId, kind: "CT", label: `CT-${x}`, detail: ct.name, modelId: ct.id, method: null, planned: false, jobs: null }, 1, slot + (slots - 1) / 2);
    edge(baseId, ctId, "ct");
    right.forEach((r, i) => {
      node(r, 2, slot + i);
      if (r.kind === "CTSFT") edge(ctId, r.id, "sft");
      else {
        edge(ctId, r.id, "merge", r.planned);
        edge(sftId, r.id, "merge", r.planned);
      }
    });
    slot += slots;
  }
  // CTSFT checkpoints whose CT checkpoint is not in the experiment.
  for (const c of unpaired) {
    const id = `model:${c.id}`;
    node({ id, kind: "CTSFT", label: `CTSFT-${tokensLabel(c)}`, detail: c.name, modelId: c.id, method: null, planned: false, jobs: null }, 2, slot++);
    edge(baseId, id, "ct");
  }
  const slotsTotal = Math.max(slot, 1);
  node(
    { id: baseId, kind: "BASE", label: "BASE", detail: input.base?.name ?? "no base model", modelId: input.base?.id ?? null, method: null, planned: !input.base, jobs: null },
    0,
    (slotsTotal - 1) / 2,
  );
  return { width: COL_X[2] + NODE_W + PAD, height: 2 * PAD + slotsTotal * SLOT, nodes, edges };
}
