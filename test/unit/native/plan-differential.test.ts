// Differential test of the engine's explicit plans (slices, gradients, filters) against the
// TypeScript references on seeded random Llama-shaped checkpoints: for each random recipe the
// expected output tensor is computed here from the rule in the golden README (output layer
// `offset + i` of a slice reads source layer `start + i`; embeddings from the first slice,
// norm / LM head from the last; t = i / (n - 1); filters on tensor names) and the reference
// kernel; the engine's output must match bit for bit, with identical shards for 1 and 3
// threads, and config.json must carry the new layer count.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { roundTo, type FloatDType } from "@/server/engine/dtype";
import { merge } from "@/server/engine/merge";
import { parseRecipeYaml } from "@/server/engine/recipe";
import { evaluateSpec } from "@/server/engine/recipe/param-spec";
import type { ParamSpec } from "@/server/engine/recipe/types";
import { writeSafetensors } from "@/server/engine/safetensors";
import { linear, passthrough, taskArithmetic, type ComputeMode, type RefTensor } from "@/test/reference";
import { openCheckpoint } from "@/test/support/safetensors";
import { nativeMergeSkipReason } from "../engine-api/helpers";

const root = mkdtempSync(path.join(os.tmpdir(), "ms-plan-diff-"));
after(() => rmSync(root, { recursive: true, force: true }));

let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

interface Family {
  dir: string;
  dtype: FloatDType;
  layers: number;
  /** model name → tensor name → values (already representable in dtype) */
  values: Map<string, Map<string, RefTensor>>;
}

const LAYER_TENSORS: [string, (h: number) => number[]][] = [
  ["input_layernorm.weight", (h) => [h]],
  ["self_attn.o_proj.weight", (h) => [h, h]],
  ["mlp.down_proj.weight", (h) => [h, 2 * h]],
];

function makeFamily(name: string, dtype: FloatDType, layers: number, hidden: number, models: string[]): Family {
  const dir = path.join(root, name);
  const values = new Map<string, Map<string, RefTensor>>();
  const shapes = new Map<string, number[]>([
    ["model.embed_tokens.weight", [24, hidden]],
    ["model.norm.weight", [hidden]],
    ["lm_head.weight", [24, hidden]],
  ]);
  for (let l = 0; l < layers; l++) for (const [suffix, shape] of LAYER_TENSORS) shapes.set(`model.layers.${l}.${suffix}`, shape(hidden));
  for (const m of models) {
    const tensors = new Map<string, RefTensor>();
    for (const [n, shape] of shapes) {
      const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => roundTo(dtype, (rnd() - 0.5) * 0.2));
      tensors.set(n, { shape, data });
    }
    values.set(m, tensors);
    mkdirSync(path.join(dir, m), { recursive: true });
    writeSafetensors(path.join(dir, m, "model.safetensors"), [...tensors].map(([n, t]) => ({ name: n, dtype, shape: t.shape, data: t.data })), { format: "pt" });
    writeFileSync(path.join(dir, m, "config.json"), JSON.stringify({ model_type: "llama", num_hidden_layers: layers, torch_dtype: "bfloat16" }));
  }
  return { dir, dtype, layers, values };
}

const scaleSpec = (): ParamSpec | null =>
  pick<ParamSpec | null>([null, Math.fround(0.25 + rnd()), [0.5, 1.5], [{ filter: "o_proj", value: 0.5 }, { filter: null, value: [1, 0.75, 2] }], [{ filter: "norm", value: 2 }]]);

function specYaml(spec: ParamSpec): string {
  return JSON.stringify(spec);
}

interface SliceSrc {
  model: string;
  start: number;
  scale?: ParamSpec | null;
  weight?: ParamSpec;
}

/** Expected output of a slices recipe, tensor by tensor, from the README rule and the references. */
function expectSlices(fam: Family, slices: SliceSrc[][], method: "passthrough" | "linear", mode: ComputeMode, span: number[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const precision = { dtype: fam.dtype, mode };
  const run = (outName: string, slice: SliceSrc[], inName: (s: SliceSrc) => string, t: number) => {
    if (method === "passthrough") {
      const s = slice[0]!;
      const scale = s.scale == null ? null : evaluateSpec(s.scale, inName(s), t);
      out.set(outName, passthrough(fam.values.get(s.model)!.get(inName(s))!, scale, precision));
    } else {
      out.set(outName, linear(slice.map((s) => ({ tensor: fam.values.get(s.model)!.get(inName(s))!, weight: evaluateSpec(s.weight!, inName(s), t)! })), { ...precision, normalize: true }));
    }
  };
  let offset = 0;
  slices.forEach((slice, k) => {
    for (let i = 0; i < span[k]!; i++) {
      const t = span[k]! > 1 ? i / (span[k]! - 1) : 1;
      for (const [suffix] of LAYER_TENSORS) run(`model.layers.${offset + i}.${suffix}`, slice, (s) => `model.layers.${s.start + i}.${suffix}`, t);
    }
    offset += span[k]!;
  });
  run("model.embed_tokens.weight", slices[0]!, () => "model.embed_tokens.weight", 0);
  for (const n of ["model.norm.weight", "lm_head.weight"]) run(n, slices.at(-1)!, () => n, 0);
  return out;
}

function assertOutput(dir: string, expected: Map<string, Float32Array>, label: string): void {
  const ck = openCheckpoint(dir);
  assert.deepEqual(ck.tensorNames().sort(), [...expected.keys()].sort(), `${label}: tensor names`);
  for (const [n, e] of expected) {
    const a = ck.readFloat32(n);
    let differ = 0;
    for (let j = 0; j < e.length; j++) if (!Object.is(a[j], e[j])) differ++;
    assert.equal(differ, 0, `${label} ${n}: ${differ} of ${e.length} values differ`);
  }
}

describe("explicit plans against the references", { skip: nativeMergeSkipReason() }, () => {
  for (let c = 0; c < 12; c++) {
    it(`should reproduce random slice recipe ${c} bit for bit with any thread count`, async () => {
      seed = 1000 + c;
      const dtype = pick<FloatDType>(["F32", "F16", "BF16"]);
      const layers = int(1, 5);
      const method = c % 2 === 0 ? "passthrough" : "linear";
      const fam = makeFamily(`fam-${c}`, dtype, layers, pick([4, 8, 12]), ["a", "b", "c"]);
      const nSlices = int(1, 4);
      const span: number[] = [];
      const slices: SliceSrc[][] = [];
      for (let k = 0; k < nSlices; k++) {
        const n = int(1, layers);
        const start = int(0, layers - n);
        span.push(n);
        slices.push(
          method === "passthrough"
            ? [{ model: pick(["a", "b", "c"]), start, scale: scaleSpec() }]
            : ["a", "b"].map((model) => ({ model, start: int(0, layers - n), weight: pick<ParamSpec>([0.5, [0.2, 1], [{ filter: "mlp", value: [1, 0.2] }, { filter: null, value: 0.3 }]]) })),
        );
      }
      const yaml = [
        `merge_method: ${method}`,
        "slices:",
        ...slices.flatMap((slice, k) => [
          "  - sources:",
          ...slice.flatMap((s) => [
            `      - model: ./${s.model}`,
            `        layer_range: [${s.start}, ${s.start + span[k]!}]`,
            ...(s.scale != null ? [`        parameters: {scale: ${specYaml(s.scale)}}`] : s.weight !== undefined ? [`        parameters: {weight: ${specYaml(s.weight)}}`] : []),
          ]),
        ]),
        ...(c % 4 === 1 ? ["dtype: float32", `out_dtype: ${dtype === "F32" ? "float32" : dtype === "F16" ? "float16" : "bfloat16"}`] : []),
        "",
      ].join("\n");
      const recipe = parseRecipeYaml(yaml, { recipeDir: fam.dir });
      const mode: ComputeMode = c % 4 === 1 ? "f32" : "native";
      const expected = expectSlices(fam, slices, method, mode, span);
      const shas: string[] = [];
      for (const threads of [1, 3]) {
        const out = path.join(fam.dir, `out-${threads}`);
        const o = await merge(recipe, out, { threads });
        assertOutput(out, expected, `${yaml}\nthreads ${threads}`);
        shas.push(o.result.shards.map((s) => s.sha256).join());
        const config = JSON.parse(readFileSync(path.join(out, "config.json"), "utf8")) as { num_hidden_layers: number };
        assert.equal(config.num_hidden_layers, span.reduce((a, b) => a + b, 0));
      }
      assert.equal(shas[0], shas[1], "identical shards for 1 and 3 threads");
    });
  }

  for (const dtype of ["F32", "BF16"] as const) {
    it(`should apply per-layer weights and a filtered lambda gradient (task_arithmetic, ${dtype})`, async () => {
      seed = dtype === "F32" ? 77 : 78;
      const fam = makeFamily(`ta-${dtype}`, dtype, 4, 8, ["base", "a", "b"]);
      const wa: ParamSpec = [0, 0.5, 1];
      const wb: ParamSpec = [{ filter: "self_attn", value: [1, -0.5] }, { filter: null, value: 0.25 }];
      const lambda: ParamSpec = [{ filter: "layernorm", value: 1 }, { filter: null, value: [1.5, 0.5] }];
      const yaml = `merge_method: task_arithmetic\nbase_model: ./base\nmodels:\n  - model: ./a\n    parameters: {weight: ${specYaml(wa)}}\n  - model: ./b\n    parameters: {weight: ${specYaml(wb)}}\nparameters:\n  lambda: ${specYaml(lambda)}\n`;
      const recipe = parseRecipeYaml(yaml, { recipeDir: fam.dir });
      const out = path.join(fam.dir, "out");
      const o = await merge(recipe, out, { threads: 2 });
      const tensors = fam.values.get("base")!;
      const expected = new Map<string, Float32Array>();
      for (const [n, b] of tensors) {
        const layer = /layers\.(\d+)\./.exec(n);
        const t = layer ? Number(layer[1]) / 3 : 0;
        const models = [
          { tensor: fam.values.get("a")!.get(n)!, weight: evaluateSpec(wa, n, t)! },
          { tensor: fam.values.get("b")!.get(n)!, weight: evaluateSpec(wb, n, t)! },
        ];
        expected.set(n, taskArithmetic(b, models, { dtype, mode: "native", lambda: evaluateSpec(lambda, n, t)!, normalize: false }));
      }
      assertOutput(out, expected, yaml);
      // the statistics record each tensor's effective values
      const l2 = o.stats.tensors.find((x) => x.name === "model.layers.2.self_attn.o_proj.weight")!;
      assert.deepEqual(l2.parameters!.models.map((m) => m!.weight), [evaluateSpec(wa, l2.name, 2 / 3), evaluateSpec(wb, l2.name, 2 / 3)]);
      assert.equal(l2.parameters!.lambda, evaluateSpec(lambda, l2.name, 2 / 3));
    });
  }
});
