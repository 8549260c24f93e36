// Checks of the statistics report's task-vector geometry against the TypeScript reference
// (test/reference/geometry.ts), shared by the engine-api and stored-analysis tests.
// Tolerances: per-tensor sums and counts exact (the reference sums in the engine's order);
// ratios and group sums within 1e-12 relative.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import type { Geometry, StatsGroup, StatsReport, TensorStatsEntry } from "@/server/engine/stats";
import type { TieOrder } from "@/server/engine/types";
import { tensorGeometry, type Precision, type TensorGeometryRef } from "@/test/reference";
import { readSafetensors } from "@/test/support/safetensors/read";

/** Every tensor of a model folder (or one .safetensors file), widened to f32. */
export function loadModel(where: string): Map<string, Float32Array> {
  const files = where.endsWith(".safetensors") ? [where] : readdirSync(where).filter((f) => f.endsWith(".safetensors")).map((f) => path.join(where, f));
  const out = new Map<string, Float32Array>();
  for (const file of files) {
    const st = readSafetensors(file);
    for (const name of st.tensorNames()) out.set(name, st.readFloat32(name));
  }
  return out;
}

const close = (a: number | null, b: number | null, what: string) => {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(Math.abs(a), Math.abs(b)), `${what}: ${a} vs ${b}`);
};

/** The ratios the report derives, from reference sums. */
function refRatios(r: TensorGeometryRef) {
  const n = r.sumSq.map(Math.sqrt);
  return {
    norm: n,
    cosine: r.dot === null || !n[0] || !n[1] ? null : r.dot / (n[0] * n[1]),
    signAgreement: r.bothNonzero ? r.signsAgree! / r.bothNonzero : null,
    jaccard: r.maskUnion ? r.maskIntersection! / r.maskUnion : null,
  };
}

function assertTensorGeometry(where: string, got: Geometry | null, ref: TensorGeometryRef): void {
  assert.ok(got, `${where}: no geometry`);
  assert.deepEqual(got.tv_sum_sq, ref.sumSq, `${where} tv_sum_sq`);
  assert.equal(got.dot, ref.dot, `${where} dot`);
  assert.equal(got.both_nonzero, ref.bothNonzero, `${where} both_nonzero`);
  assert.equal(got.signs_agree, ref.signsAgree, `${where} signs_agree`);
  assert.equal(got.mask_intersection, ref.maskIntersection, `${where} mask_intersection`);
  assert.equal(got.mask_union, ref.maskUnion, `${where} mask_union`);
  const r = refRatios(ref);
  got.tv_norm.forEach((v, i) => close(v, r.norm[i]!, `${where} tv_norm[${i}]`));
  close(got.cosine, r.cosine, `${where} cosine`);
  close(got.sign_agreement, r.signAgreement, `${where} sign_agreement`);
  close(got.jaccard, r.jaccard, `${where} jaccard`);
}

function sumRefs(refs: TensorGeometryRef[]): TensorGeometryRef {
  const add = (a: number | null, b: number | null) => (a === null || b === null ? null : a + b);
  return refs.reduce((acc, r) => ({
    sumSq: acc.sumSq.map((q, i) => q + r.sumSq[i]!),
    dot: add(acc.dot, r.dot),
    bothNonzero: add(acc.bothNonzero, r.bothNonzero),
    signsAgree: add(acc.signsAgree, r.signsAgree),
    maskIntersection: add(acc.maskIntersection, r.maskIntersection),
    maskUnion: add(acc.maskUnion, r.maskUnion),
  }));
}

function assertGroupGeometry(where: string, group: StatsGroup, tensors: TensorStatsEntry[], refs: Map<string, TensorGeometryRef>): void {
  const g = group.geometry;
  assert.ok(g, `${where}: no geometry`);
  const expected = sumRefs(tensors.map((t) => refs.get(t.name)!));
  g.tv_sum_sq.forEach((v, i) => close(v, expected.sumSq[i]!, `${where} tv_sum_sq[${i}]`));
  close(g.dot, expected.dot, `${where} dot`);
  assert.equal(g.both_nonzero, expected.bothNonzero, `${where} both_nonzero`);
  assert.equal(g.signs_agree, expected.signsAgree, `${where} signs_agree`);
  assert.equal(g.mask_intersection, expected.maskIntersection, `${where} mask_intersection`);
  assert.equal(g.mask_union, expected.maskUnion, `${where} mask_union`);
  const r = refRatios(expected);
  close(g.cosine, r.cosine, `${where} cosine`);
  close(g.jaccard, r.jaccard, `${where} jaccard`);
  close(g.sign_agreement, r.signAgreement, `${where} sign_agreement`);
}

/** The whole report against the reference: every tensor, every layer and module, the totals. */
export function assertReportGeometry(report: StatsReport, base: Map<string, Float32Array>, models: Map<string, Float32Array>[], precision: Precision, tieOrder: TieOrder = "mergekit"): void {
  const densities = report.models.map((m) => m.density);
  const refs = new Map<string, TensorGeometryRef>();
  for (const t of report.tensors) {
    const ref = tensorGeometry(base.get(t.name)!, models.map((m) => m.get(t.name)!), precision, densities, tieOrder);
    refs.set(t.name, ref);
    assertTensorGeometry(`${t.name} at ${densities}`, t.geometry, ref);
  }
  assertGroupGeometry("totals", report.totals, report.tensors, refs);
  for (const g of report.byLayer) assertGroupGeometry(`layer ${g.layer}`, g, report.tensors.filter((t) => t.layer === g.layer), refs);
  for (const g of report.byModule) assertGroupGeometry(`module ${g.module}`, g, report.tensors.filter((t) => t.module === g.module), refs);
}

