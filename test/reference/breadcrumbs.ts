// Model Breadcrumbs (mergekit `breadcrumbs`, `breadcrumbs_ties`): like TIES, but the sparsify
// step also removes the largest-magnitude outliers of each task vector (fraction `gamma`).
//
//   target = int(density * numel), n_top = int(gamma * numel), n_bot = numel - target - n_top
//   (if n_bot < 0: n_top += n_bot, n_bot = 0); keep ascending ranks [n_bot, numel - n_top) of
//   mergekit's torch.sort(|d|) (tie order "mergekit": introsort's order of equal magnitudes),
//   or, with tie order "index", descending ranks n_top .. n_top + target - 1 of the ranking
//   |d| descending, lowest flat index first.
// mergekit keeps `sorted_ascending[n_bot:-n_top]`, which is empty when n_top == 0: the whole
// task vector is dropped. We reproduce that unless `keepIfNoOutliers` (then: the top `target`).
// breadcrumbs: no election; breadcrumbs_ties: sign election as ties. normalize defaults to false.
import { isEmbedTensorName } from "./embed";
import { disjointMerge, elect, weighTaskVectors, type TiesModel, type TiesOptions, type TiesTensorInput, type WeightedTaskVectors } from "./ties";
import { tiesStats, type TiesTensorStats } from "./tiesStats";
import type { TieOrder } from "@/server/engine/types";
import { magnitudeKey, magnitudeOrder, trimCount, type TrimInfo } from "./trim";

export const DEFAULT_GAMMA = 0.01;

export interface OutlierTrimInfo extends TrimInfo {
  gamma: number;
  // k: kept entries (0 for a dropped tensor; null when density >= 1); threshold: smallest kept |d|;
  // nGreaterThanThreshold counts the removed outliers too.
  /** Largest-magnitude entries removed (n_top; 0 for a dropped tensor). */
  nTopRemoved: number;
  /** Smallest |d| among the removed outliers (null when none were removed). */
  topThreshold: number | null;
  /** mergekit's edge case hit: n_top == 0 and the whole task vector was dropped. */
  droppedWhole: boolean;
}

export function outlierTrim(
  delta: Float32Array,
  density: number,
  gamma: number,
  keepIfNoOutliers: boolean,
  tieOrder: TieOrder = "mergekit",
): { trimmed: Float32Array; info: OutlierTrimInfo } {
  const numel = delta.length;
  const none = { nGreaterThanThreshold: null, nEqualToThreshold: null, nKeptAtThreshold: null, threshold: null };
  if (density >= 1) {
    return { trimmed: delta.slice(), info: { density, numel, gamma, k: null, ...none, nTopRemoved: 0, topThreshold: null, droppedWhole: false } };
  }
  const target = Math.max(0, trimCount(density, numel));
  let nTop = trimCount(gamma, numel);
  let nBot = numel - target - nTop;
  if (nBot < 0) {
    nTop += nBot;
    nBot = 0;
  }
  const trimmed = new Float32Array(numel);
  if (nTop === 0 && !keepIfNoOutliers) {
    return { trimmed, info: { density, numel, gamma, k: 0, ...none, nTopRemoved: 0, topThreshold: null, droppedWhole: true } };
  }

  // `order` descending: the kept entries are ranks [nTop, nTop + target), the removed outliers [0, nTop)
  const order =
    tieOrder === "mergekit" ? magnitudeOrder(delta, "mergekit", true).reverse() : magnitudeOrder(delta, "index");
  const kept = new Uint8Array(numel); // explicit, since a kept 0 looks like a dropped one in `trimmed`
  for (let r = nTop; r < nTop + target; r++) {
    kept[order[r]!] = 1;
    trimmed[order[r]!] = delta[order[r]!]!;
  }
  const topThreshold = nTop > 0 ? Math.abs(delta[order[nTop - 1]!]!) : null;
  if (target === 0) return { trimmed, info: { density, numel, gamma, k: 0, ...none, nTopRemoved: nTop, topThreshold, droppedWhole: false } };

  const threshold = Math.abs(delta[order[nTop + target - 1]!]!);
  const tk = magnitudeKey(threshold);
  let nGreater = 0;
  let nEqual = 0;
  let nKeptAtThreshold = 0;
  for (let j = 0; j < numel; j++) {
    const m = magnitudeKey(delta[j]!);
    if (m > tk) nGreater++;
    else if (m === tk) {
      nEqual++;
      nKeptAtThreshold += kept[j]!;
    }
  }
  return {
    trimmed,
    info: { density, numel, gamma, k: target, threshold, nGreaterThanThreshold: nGreater, nEqualToThreshold: nEqual, nKeptAtThreshold, nTopRemoved: nTop, topThreshold, droppedWhole: false },
  };
}

export interface BreadcrumbsModel extends TiesModel {
  gamma?: number; // default 0.01
}

export interface BreadcrumbsOptions extends TiesOptions {
  /** Keep the top int(density * numel) entries when int(gamma * numel) == 0 instead of dropping the tensor. */
  keepIfNoOutliers?: boolean; // default false (mergekit's behaviour)
}

export interface BreadcrumbsTensorResult {
  merged: Float32Array;
  vectors: WeightedTaskVectors<OutlierTrimInfo>;
  /** Elected signs (breadcrumbs_ties) or null (breadcrumbs: no election). */
  elected: Int8Array | null;
  stats: TiesTensorStats;
}

function breadcrumbsVectors(input: TiesTensorInput<BreadcrumbsModel>, options: BreadcrumbsOptions): WeightedTaskVectors<OutlierTrimInfo> {
  const keep = options.keepIfNoOutliers ?? false;
  return weighTaskVectors(input, options, (delta, m) => outlierTrim(delta, m.density, m.gamma ?? DEFAULT_GAMMA, keep, options.tieOrder));
}

/** `election`: false = breadcrumbs (every entry contributes), true = breadcrumbs_ties. */
export function breadcrumbsTensor(input: TiesTensorInput<BreadcrumbsModel>, options: BreadcrumbsOptions, election: boolean): BreadcrumbsTensorResult {
  const opts = { ...options, normalize: options.normalize ?? false };
  const vectors = breadcrumbsVectors(input, opts);
  const elected = election ? elect(vectors, opts).elected : null;
  const merged = disjointMerge(input.base.data, vectors, elected, opts);
  return { merged, vectors, elected, stats: tiesStats(vectors, elected) };
}

export function breadcrumbsModel(
  tensors: ReadonlyMap<string, TiesTensorInput<BreadcrumbsModel>>,
  options: BreadcrumbsOptions,
  election: boolean,
): Map<string, BreadcrumbsTensorResult> {
  const out = new Map<string, BreadcrumbsTensorResult>();
  for (const [name, input] of tensors) out.set(name, breadcrumbsTensor({ ...input, isEmbed: input.isEmbed ?? isEmbedTensorName(name) }, options, election));
  return out;
}
