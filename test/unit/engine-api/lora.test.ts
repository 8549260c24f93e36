// LoRA inputs (`model+lora`): PEFT adapter folders read and checked (lora/adapter.ts), and the
// merged weights against the reference (test/reference/lora.ts) on random adapters: plain,
// fan_in_fan_out, rsLoRA scale, an embedding adapter; the same bytes for any thread count.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { loadLoraAdapter } from "@/server/engine/lora/adapter";
import { merge } from "@/server/engine/merge";
import { parseRecipeYaml } from "@/server/engine/recipe";
import { writeSafetensors } from "@/server/engine/safetensors";
import { roundTo } from "@/server/engine/dtype";
import { loraMerge } from "@/test/reference";
import { openCheckpoint } from "@/test/support/safetensors";
import { nativeMergeSkipReason, tempDir } from "./helpers";

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
const values = (n: number, dtype: "BF16" | "F32") => Float32Array.from({ length: n }, () => roundTo(dtype, (rnd() - 0.5) * 2));

interface AdapterSpec {
  config?: Record<string, unknown>;
  tensors: { name: string; shape: [number, number]; data: Float32Array }[];
}

function writeAdapter(dir: string, spec: AdapterSpec): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 4, lora_alpha: 8, bias: "none", fan_in_fan_out: false, use_rslora: false, ...spec.config }));
  writeSafetensors(
    path.join(dir, "adapter_model.safetensors"),
    spec.tensors.map((t) => ({ name: t.name, dtype: "F32" as const, shape: t.shape, data: t.data })),
    { format: "pt" },
  );
}

describe("PEFT adapter folders", () => {
  it("reads r, alpha, rsLoRA and the targets; transposes fan_in_fan_out and embedding adapters", (t) => {
    const dir = tempDir(t);
    const A = { shape: [4, 6] as [number, number], data: values(24, "F32") };
    writeAdapter(path.join(dir, "l"), {
      config: { use_rslora: true, lora_alpha: 16, fan_in_fan_out: true },
      tensors: [
        { name: "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", ...A },
        { name: "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", shape: [5, 4], data: values(20, "F32") },
        { name: "base_model.model.model.embed_tokens.lora_embedding_A", shape: [4, 10], data: values(40, "F32") },
        { name: "base_model.model.model.embed_tokens.lora_embedding_B", shape: [6, 4], data: values(24, "F32") },
      ],
    });
    const l = loadLoraAdapter(path.join(dir, "l"));
    assert.equal(l.summary.scale, 16 / Math.sqrt(4));
    assert.deepEqual(l.native.targets.map((x) => [x.tensor, x.transpose]), [
      ["model.embed_tokens.weight", true],
      ["model.layers.0.self_attn.q_proj.weight", true],
    ]);
  });

  it("refuses what it cannot apply exactly, by name", (t) => {
    const dir = tempDir(t);
    const pair = (m: string) => [
      { name: `base_model.model.${m}.lora_A.weight`, shape: [4, 6] as [number, number], data: values(24, "F32") },
      { name: `base_model.model.${m}.lora_B.weight`, shape: [5, 4] as [number, number], data: values(20, "F32") },
    ];
    const cases: [string, AdapterSpec, RegExp][] = [
      ["dora", { config: { use_dora: true }, tensors: pair("q") }, /DoRA adapters \(use_dora: true\) are not supported/],
      ["bias", { config: { bias: "all" }, tensors: pair("q") }, /bias: "all" \(trained biases\) is not supported/],
      ["rank pattern", { config: { rank_pattern: { q: 8 } }, tensors: pair("q") }, /`rank_pattern` .* not supported/],
      ["modules_to_save", { config: { modules_to_save: ["lm_head"] }, tensors: pair("q") }, /`modules_to_save`/],
      ["not lora", { config: { peft_type: "LOHA" }, tensors: pair("q") }, /peft_type is "LOHA"/],
      ["half pair", { tensors: pair("q").slice(0, 1) }, /'q\.weight' has lora_A but not lora_B/],
      ["extra tensor", { tensors: [...pair("q"), { name: "base_model.model.q.bias", shape: [1, 5], data: values(5, "F32") }] }, /'base_model\.model\.q\.bias' is not a LoRA A\/B matrix/],
    ];
    for (const [name, spec, re] of cases) {
      writeAdapter(path.join(dir, name), spec);
      assert.throws(() => loadLoraAdapter(path.join(dir, name)), (err: Error & { code: string }) => {
        assert.equal(err.code, "MODEL_LORA_INVALID", name);
        assert.match(err.message, re, name);
        return true;
      });
    }
    mkdirSync(path.join(dir, "bin"));
    writeFileSync(path.join(dir, "bin", "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r: 4, lora_alpha: 8 }));
    writeFileSync(path.join(dir, "bin", "adapter_model.bin"), "pickle");
    assert.throws(() => loadLoraAdapter(path.join(dir, "bin")), /only the pickle adapter_model\.bin/);
    assert.throws(() => loadLoraAdapter(path.join(dir, "none")), { code: "MODEL_NOT_FOUND" });
  });
});

const skip = nativeMergeSkipReason();

describe("LoRA applied by the engine", { skip }, () => {
  // A tiny model: q_proj [5, 6] (plain), c_attn [6, 5] (fan_in_fan_out), embed [10, 6] (embedding adapter), norm [6].
  function family(root: string, opts: { fanInFanOut: boolean; rslora: boolean }) {
    const model = path.join(root, "base");
    mkdirSync(model, { recursive: true });
    const w = {
      "model.embed_tokens.weight": { shape: [10, 6] as [number, number], data: values(60, "BF16") },
      "model.layers.0.attn.c_attn.weight": { shape: [6, 5] as [number, number], data: values(30, "BF16") },
      "model.layers.0.self_attn.q_proj.weight": { shape: [5, 6] as [number, number], data: values(30, "BF16") },
      "model.norm.weight": { shape: [6] as unknown as [number, number], data: values(6, "BF16") },
    };
    writeSafetensors(path.join(model, "model.safetensors"), Object.entries(w).map(([name, t]) => ({ name, dtype: "BF16" as const, shape: t.shape, data: t.data })));
    writeFileSync(path.join(model, "config.json"), JSON.stringify({ model_type: "mystery", torch_dtype: "bfloat16" }));
    const a = { shape: [3, 6] as [number, number], data: values(18, "F32") };
    const b = { shape: [5, 3] as [number, number], data: values(15, "F32") };
    const ea = { shape: [3, 10] as [number, number], data: values(30, "F32") };
    const eb = { shape: [6, 3] as [number, number], data: values(18, "F32") };
    // fan_in_fan_out applies to every Linear of the adapter: q_proj then also stores W^T, so it
    // is only targeted without it.
    const tensors = opts.fanInFanOut
      ? [
          { name: "base_model.model.model.layers.0.attn.c_attn.lora_A.weight", ...a },
          { name: "base_model.model.model.layers.0.attn.c_attn.lora_B.weight", ...b },
        ]
      : [
          { name: "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", ...a },
          { name: "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", ...b },
          { name: "base_model.model.model.embed_tokens.lora_embedding_A", ...ea },
          { name: "base_model.model.model.embed_tokens.lora_embedding_B", ...eb },
        ];
    writeAdapter(path.join(root, "lora"), { config: { r: 3, lora_alpha: 5, use_rslora: opts.rslora, fan_in_fan_out: opts.fanInFanOut }, tensors });
    return { w, a, b, ea, eb, scale: opts.rslora ? 5 / Math.sqrt(3) : 5 / 3 };
  }

  for (const opts of [
    { fanInFanOut: false, rslora: false },
    { fanInFanOut: false, rslora: true },
    { fanInFanOut: true, rslora: false },
  ]) {
    it(`matches the reference (fan_in_fan_out ${opts.fanInFanOut}, rsLoRA ${opts.rslora}) for 1 and 2 threads`, async (t) => {
      const root = tempDir(t);
      const f = family(root, opts);
      const recipe = parseRecipeYaml("merge_method: linear\nmodels:\n  - model: ./base+./lora\n    parameters: {weight: 1.0}\n", { recipeDir: root });
      const outs = [];
      for (const threads of [1, 2]) {
        const out = path.join(root, `out${threads}`);
        await merge(recipe, out, { threads });
        outs.push(openCheckpoint(out));
      }
      const expected = new Map<string, Float32Array>();
      if (opts.fanInFanOut) {
        expected.set("model.layers.0.attn.c_attn.weight", loraMerge(f.w["model.layers.0.attn.c_attn.weight"], f.a, f.b, f.scale, true, "BF16"));
      } else {
        expected.set("model.layers.0.self_attn.q_proj.weight", loraMerge(f.w["model.layers.0.self_attn.q_proj.weight"], f.a, f.b, f.scale, false, "BF16"));
        expected.set("model.embed_tokens.weight", loraMerge(f.w["model.embed_tokens.weight"], f.ea, f.eb, f.scale, true, "BF16"));
      }
      for (const [name, t0] of Object.entries(f.w)) {
        const want = expected.get(name) ?? t0.data;
        for (const o of outs) assert.deepEqual(Array.from(o.readFloat32(name)), Array.from(want), name);
        if (expected.has(name)) assert.notDeepEqual(Array.from(want), Array.from(t0.data), `${name}: the adapter changes it`);
      }
      assert.deepEqual(outs[0]!.readTensor("model.norm.weight").bytes, outs[1]!.readTensor("model.norm.weight").bytes);
    });
  }

  it("an adapter for another model fails with a clear error and leaves nothing", async (t) => {
    const root = tempDir(t);
    family(root, { fanInFanOut: false, rslora: false });
    writeAdapter(path.join(root, "other"), {
      tensors: [
        { name: "base_model.model.model.layers.7.mlp.down_proj.lora_A.weight", shape: [4, 6], data: values(24, "F32") },
        { name: "base_model.model.model.layers.7.mlp.down_proj.lora_B.weight", shape: [5, 4], data: values(20, "F32") },
      ],
    });
    const recipe = parseRecipeYaml("merge_method: linear\nmodels:\n  - model: ./base+./other\n    parameters: {weight: 1.0}\n", { recipeDir: root });
    await assert.rejects(merge(recipe, path.join(root, "out")), (err: Error & { code: string }) => {
      assert.equal(err.code, "MODEL_TENSOR_MISSING");
      assert.match(err.message, /targets 'model\.layers\.7\.mlp\.down_proj\.weight', which .*base does not have \(is the adapter for this model\?\)/);
      return true;
    });
  });
});
