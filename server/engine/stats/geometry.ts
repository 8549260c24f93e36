// Task-vector geometry in the statistics report (docs/merge-methods.md "Task-vector geometry").
// tau_i = R(x_i - base): model i's untrimmed task vector in the compute dtype (the rounded deltas
// the TIES trim ranks). Stored as sums, so tensors aggregate exactly into layers, modules and the
// model; the ratios are derived from the sums:
//   tv_norm[i]     = sqrt(tv_sum_sq[i])                 (a group: sqrt of the summed squares)
//   cosine         = dot / (tv_norm[0] * tv_norm[1])    (null when a norm is 0 or not finite)
//   sign_agreement = signs_agree / both_nonzero         (positions where tau_0 and tau_1 are both non-zero)
//   jaccard        = mask_intersection / mask_union     (the top-k masks the trims keep; null without a
//                                                        magnitude trim or when both masks are empty)
// Pair values are for models 0 and 1 (the paper's recipes: SFT, CT); null with one model.
import type { NativeTensorGeometry } from "../types";

/** The additive part: what a group sums over its tensors. */
export interface GeometrySums {
  /** Per model (recipe order): sum of tau_i^2. */
  tv_sum_sq: number[];
  /** sum tau_0 * tau_1. */
  dot: number | null;
  both_nonzero: number | null;
  signs_agree: number | null;
  mask_intersection: number | null;
  mask_union: number | null;
}

export interface Geometry extends GeometrySums {
  /** Per model: ||tau_i||_2 (null when not finite, e.g. a NaN entry). */
  tv_norm: (number | null)[];
  cosine: number | null;
  sign_agreement: number | null;
  jaccard: number | null;
}

const ratio = (a: number | null, b: number | null): number | null => (a === null || b === null || b === 0 ? null : a / b);
const finite = (x: number | null | undefined): number | null => (typeof x === "number" && Number.isFinite(x) ? x : null);

/** The derived ratios of some sums. */
export function withRatios(s: GeometrySums): Geometry {
  const norms = s.tv_sum_sq.map((q) => (finite(q) === null ? null : Math.sqrt(q)));
  const n0 = norms[0] ?? null;
  const n1 = norms[1] ?? null;
  const dot = finite(s.dot);
  const cosine = dot === null || n0 === null || n1 === null || n0 === 0 || n1 === 0 ? null : dot / (n0 * n1);
  return {
    ...s,
    tv_norm: norms,
    cosine,
    sign_agreement: ratio(s.signs_agree, s.both_nonzero),
    jaccard: ratio(s.mask_intersection, s.mask_union),
  };
}

/** A tensor's geometry from the engine's sums. */
export function geometryOf(g: NativeTensorGeometry): Geometry {
  return withRatios({
    tv_sum_sq: [...g.sumSq],
    dot: g.dot,
    both_nonzero: g.bothNonzero,
    signs_agree: g.signsAgree,
    mask_intersection: g.maskIntersection,
    mask_union: g.maskUnion,
  });
}

const plus = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : a + b);

/** Sums of a group (null: empty so far) and one more tensor. */
export function addGeometry(group: GeometrySums | null, t: GeometrySums): Geometry {
  if (!group) return withRatios({ ...t, tv_sum_sq: [...t.tv_sum_sq] });
  return withRatios({
    tv_sum_sq: group.tv_sum_sq.map((q, i) => q + (t.tv_sum_sq[i] ?? 0)),
    dot: plus(group.dot, t.dot),
    both_nonzero: plus(group.both_nonzero, t.both_nonzero),
    signs_agree: plus(group.signs_agree, t.signs_agree),
    mask_intersection: plus(group.mask_intersection, t.mask_intersection),
    mask_union: plus(group.mask_union, t.mask_union),
  });
}
