// DELLA and mergekit's random stream in the TypeScript reference: every golden della case bit
// for bit in both compute modes, with each model's keep mask equal to
// della_keep_mask*.safetensors (the per-tensor cases seed the stream before each tensor); the
// whole-model CLI case (mergekit-yaml --random-seed 42) with ONE stream through its 39
// tensors in name order; the generator against the reference MT19937 outputs; torch's sum.
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { roundTo } from "@/server/engine/dtype";
import { bernoulliKeeps, dellaModel, dellaTensor, MT19937, torchSum, type ComputeMode, type RefTensor } from "@/test/reference";
import { readSafetensors } from "@/test/support/safetensors";
import { countBitDifferences, GOLDEN_DIR, goldenCaseIds, loadCase, loadMask, loadTensors } from "./golden-fixtures";

interface DellaGoldenModel {
  n_kept?: number;
  nnz_after_pruning: number;
  n_discarded_by_sign_election: number;
  n_contributing: number;
  random_draws_first_index?: number;
  random_draws?: number;
  prob_min?: number;
  prob_max?: number;
}
interface DellaGoldenStats {
  models: Record<string, DellaGoldenModel>;
  sign_conflicts: number;
  n_positions_no_contributor: number;
}

const MODES: { mode: ComputeMode; file: string; masks: string; statsKey: "stats" | "stats_native_compute" }[] = [
  { mode: "f32", file: "expected.safetensors", masks: "della_keep_mask.safetensors", statsKey: "stats" },
  { mode: "native", file: "expected_native.safetensors", masks: "della_keep_mask_native.safetensors", statsKey: "stats_native_compute" },
];

for (const id of goldenCaseIds(["della", "della_linear"])) {
  test(`golden ${id}`, () => {
    const c = loadCase(id);
    const base = loadTensors(id, c.base!)!;
    const models = c.models.map((m) => loadTensors(id, m.file)!);
    let checked = 0;
    for (const { mode, file, masks: maskFile, statsKey } of MODES) {
      const expected = loadTensors(id, file);
      if (!expected) continue; // F32 storage: one file
      const masks = loadMask(id, maskFile);
      for (const [name, meta] of Object.entries(c.tensors)) {
        const where = `${id} [${mode}] ${name}`;
        const precision = { dtype: c.storage_dtype, mode };
        const input = {
          base: base.get(name)!,
          models: c.models.map((m, i) => ({ tensor: models[i]!.get(name)!, weight: m.weight, density: m.density ?? 1, epsilon: m.epsilon })),
        };
        const params = c.parameters_effective;
        const options = { ...precision, normalize: params.normalize, lambda: params.lambda, rescale: params.rescale, tieOrder: "mergekit" as const };
        // the per-tensor protocol: torch.manual_seed(seed) right before each tensor
        const r = dellaTensor(input, options, c.method === "della", new MT19937(c.randomness!.seed));
        assert.equal(countBitDifferences(r.merged, expected.get(name)!.data, undefined), 0, `${where}: values differ from mergekit's`);
        const golden = (meta as unknown as Record<string, DellaGoldenStats>)[statsKey]!;
        assert.equal(r.stats.signConflicts, golden.sign_conflicts, `${where} sign_conflicts`);
        assert.equal(r.stats.noContributor, golden.n_positions_no_contributor, `${where} no contributor`);
        c.models.forEach((m, i) => {
          const g = golden.models[m.role]!;
          const info = r.vectors.trims[i]!;
          const w = `${where} ${m.role}`;
          assert.deepEqual(
            [r.stats.models[i]!.nnzTrimmed, r.stats.models[i]!.discarded, r.stats.models[i]!.contributing],
            [g.nnz_after_pruning, g.n_discarded_by_sign_election, g.n_contributing],
            `${w} counts`,
          );
          if (g.n_kept === undefined) {
            assert.equal(info.randomDraws, 0, `${w}: density >= 1 draws nothing`);
            return;
          }
          // mergekit counts mask.sum() in the work dtype (BF16 rounds the count for BF16 task vectors)
          const work = mode === "native" && c.storage_dtype === "BF16" ? "BF16" : "F32";
          assert.equal(roundTo(work, info.k!), g.n_kept, `${w} n_kept`);
          assert.deepEqual([info.randomFirstDraw, info.randomDraws], [g.random_draws_first_index, g.random_draws], `${w} stream position`);
          assert.deepEqual([info.keepProbabilityMin, info.keepProbabilityMax], [Math.fround(g.prob_min!), Math.fround(g.prob_max!)], `${w} keep probabilities`);
          const mask = masks!.get(`${m.role}/${name}`)!;
          assert.deepEqual([...info.keep!], [...mask], `${w}: keep mask differs from mergekit's`);
        });
      }
      checked++;
    }
    assert.ok(checked >= 1);
  });
}

test("golden cli_della_seeded_bf16: one stream through 39 tensors in name order (mergekit-yaml --random-seed 42)", () => {
  const dir = path.join(GOLDEN_DIR, "cli_della_seeded_bf16");
  const open = (role: string) => readSafetensors(path.join(dir, "models", role, "model.safetensors"));
  const base = open("base");
  const sft = open("sft");
  const ct = open("ct");
  const tensor = (st: ReturnType<typeof open>, n: string): RefTensor => ({ shape: st.info(n).shape, data: st.readFloat32(n) });
  const inputs = new Map(
    base.tensorNames().map((n) => [
      n,
      {
        base: tensor(base, n),
        models: [
          { tensor: tensor(sft, n), weight: 1.0, density: 0.5, epsilon: 0.1 },
          { tensor: tensor(ct, n), weight: 0.8, density: 0.4 },
        ],
      },
    ]),
  );
  assert.equal(inputs.size, 39);
  for (const [mode, file] of [["f32", "expected.safetensors"], ["native", "expected_native.safetensors"]] as const) {
    const expected = readSafetensors(path.join(dir, file));
    const result = dellaModel(inputs, { dtype: "BF16", mode, seed: 42 }, true);
    let draws = 0;
    for (const [name, r] of result) {
      assert.equal(countBitDifferences(r.merged, expected.readFloat32(name), undefined), 0, `${mode} ${name}`);
      assert.equal(r.vectors.trims[0]!.randomFirstDraw, draws, `${mode} ${name}: the stream continues from the previous tensor`);
      draws += 2 * r.merged.length;
    }
  }
});

test("MT19937: the reference outputs for seed 5489 and torch's seed reduction", () => {
  const g = new MT19937(5489);
  assert.deepEqual([g.next(), g.next(), g.next(), g.next(), g.next()], [3499211612, 581869302, 3890346734, 3586334585, 545404204]);
  for (let i = 5; i < 9999; i++) g.next();
  assert.equal(g.next(), 4123659995); // the 10000th output (C++ standard check value)
  const a = new MT19937(2 ** 32 + 7);
  const b = new MT19937(7);
  for (let i = 0; i < 700; i++) assert.equal(a.next(), b.next()); // torch.manual_seed keeps seed & 0xffffffff
  assert.equal(bernoulliKeeps(0xff000000, 0.5), true); // low 24 bits 0 -> u = 0
  assert.equal(bernoulliKeeps(0x00800000, 0.5), false); // u = 0.5, not < 0.5
  assert.equal(bernoulliKeeps(0x007fffff, 0.5), true);
});

test("torch's sum order: leftover vectors join the first partial, the scalar tail comes first", () => {
  // 8 lanes (AVX2): 20 floats = 2 vectors + a tail of 4; every value different in scale so the
  // order shows: lanes (x[l] + x[8 + l]), then tail sum, then lanes in order.
  const x = Float32Array.from({ length: 20 }, (_, j) => (j % 2 ? 1e8 : 1) * (j + 1));
  const lanes = Array.from({ length: 8 }, (_, l) => Math.fround(Math.fround(0 + x[l]!) + x[8 + l]!));
  let want = 0;
  for (let k = 16; k < 20; k++) want = Math.fround(want + x[k]!);
  for (const v of lanes) want = Math.fround(want + v);
  assert.equal(torchSum(x, false), want);
});
