// mergekit's rule for list-valued parameters (golden README "Gradients, filters and slices"):
// a number; a gradient (values spread evenly over the layers of a slice, linearly
// interpolated); or `{filter, value}` conditions, the first whose filter is missing, `*` or a
// substring of the tensor name winning. A condition list that matches nothing yields null
// (the lookup falls through to the next level: source → slice → top-level → default).
import type { ParamSpec } from "./types";

/** Gradient value at position t in [0, 1], in float64 exactly as mergekit computes it. */
export function gradientAt(g: readonly number[], t: number): number {
  if (g.length === 1) return g[0]!;
  const s = t * (g.length - 1);
  const i0 = Math.trunc(s);
  const i1 = Math.min(g.length - 1, i0 + 1);
  const f = s - i0;
  return (1 - f) * g[i0]! + f * g[i1]!;
}

/** True when a condition's filter selects `tensorName` (substring match, `*` and missing match all). */
export function filterMatches(filter: string | null, tensorName: string): boolean {
  return filter === null || filter === "*" || tensorName.includes(filter);
}

/** The spec's value for one tensor at layer position t, or null when no condition matches. */
export function evaluateSpec(spec: ParamSpec, tensorName: string, t: number): number | null {
  if (typeof spec === "number") return spec;
  if (spec.length === 0) return null;
  if (typeof spec[0] === "number") return gradientAt(spec as number[], t);
  for (const c of spec as Exclude<ParamSpec, number | number[]>) {
    if (filterMatches(c.filter, tensorName)) return typeof c.value === "number" ? c.value : gradientAt(c.value, t);
  }
  return null;
}

/** True for a plain number (the same value for every tensor). */
export function isScalarSpec(spec: ParamSpec | undefined): spec is number {
  return typeof spec === "number";
}

/**
 * One number standing for the spec where a single value is shown (forms, model cards, the
 * report's model list): its value for tensors no filter names, at the first layer; else the
 * first condition's value there.
 */
export function representativeValue(spec: ParamSpec | undefined): number | undefined {
  if (spec === undefined) return undefined;
  const v = evaluateSpec(spec, "", 0);
  if (v !== null) return v;
  const first = (spec as Exclude<ParamSpec, number | number[]>)[0]!;
  return typeof first.value === "number" ? first.value : first.value[0]!;
}
