// The path-escape suite of issue #12: every payload of escape-tree.ts against
// every path-taking procedure (and the engine's own check the workers run):
// 0 escapes, each refusal a clear error naming the path and the rule.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { TRPCError } from "@trpc/server";
import { inspectModel } from "../../../server/engine/native-merge";
import { closeOffloadThreads } from "../../../server/offload/pool";
import { registerModel } from "../../../server/services/models/registry";
import { callProcedure } from "../../support/trpc-caller";
import { freshModelEnv, tinyFamily } from "../models/helpers";
import { buildEscapeTree, escapePayloads, namesPath, RULE, SECRET, type EscapeTree } from "./escape-tree";

const env = freshModelEnv("ms-escape-");
after(async () => {
  await closeOffloadThreads();
  await env.cleanup();
});

let tree: EscapeTree;
let family: string;
before(async () => {
  family = path.join(env.root, "family");
  tinyFamily(family, 1);
  tree = buildEscapeTree(env.dir, family);
  for (const m of ["base", "sft"]) await registerModel({ path: path.join(family, m), role: m === "base" ? "BASE" : "SFT" });
  const template = (await callProcedure("scores.templates.create", { name: "lm-eval", command: TEMPLATE })) as { id: string };
  templateId = template.id;
});

const TEMPLATE = "lm_eval --model hf --model_args pretrained={model} --tasks {tasks} --output_path {out}";
let templateId = "";

function recipe(opts: { model?: string; base?: string }): string {
  const q = (p: string) => JSON.stringify(p); // a YAML double-quoted scalar: any character survives
  return [
    "merge_method: ties",
    `base_model: ${q(opts.base ?? path.join(family, "base"))}`,
    "models:",
    `  - model: ${q(opts.model ?? path.join(family, "ct-2B"))}`,
    "    parameters: { weight: 1.0, density: 0.5 }",
    "",
  ].join("\n");
}

interface Procedure {
  name: string;
  call(p: string): Promise<unknown>;
  /** Payloads this operation may accept, and why (it reads nothing they could redirect). */
  legit?: Record<string, string>;
}

const fifoWeightsAreRegular = "the model's weights are regular files inside the root; its FIFO config.json is refused when something opens it (worker tests)";
const dotIsTheRecipeFolder = "relative to the recipe's folder: the root itself, inside (the engine then finds no weights there)";

const procedures: Procedure[] = [
  { name: "models.register", call: (p) => callProcedure("models.register", { path: p }) },
  { name: "models.registerFolder", call: (p) => callProcedure("models.registerFolder", { path: p }) },
  {
    // a moved checkpoint is pointed at its new folder: the same checks as registering it
    name: "models.update (path of a moved model)",
    call: async (p) => {
      const models = (await callProcedure("models.list", {})) as { id: string }[];
      assert.ok(models.length > 0, "the control registered a model");
      return callProcedure("models.update", { id: models[0]!.id, path: p });
    },
  },
  {
    name: "jobs.enqueue merge (models[].model)",
    call: (p) => callProcedure("jobs.enqueue", { type: "merge", payload: { recipeYaml: recipe({ model: p }), recipeDir: env.root } }),
    legit: { "fifo-config": fifoWeightsAreRegular, dot: dotIsTheRecipeFolder },
  },
  {
    name: "jobs.enqueue analyze (base_model)",
    call: (p) => callProcedure("jobs.enqueue", { type: "analyze", payload: { recipeYaml: recipe({ base: p }), recipeDir: env.root } }),
    legit: { "fifo-config": fifoWeightsAreRegular, dot: dotIsTheRecipeFolder },
  },
  {
    name: "jobs.enqueue analyze (recipeDir of a relative model)",
    call: (p) => callProcedure("jobs.enqueue", { type: "analyze", payload: { recipeYaml: recipe({ model: "./" }), recipeDir: p } }),
    legit: { "fifo-config": fifoWeightsAreRegular },
  },
  {
    name: "jobs.sweep (checkpoints)",
    call: (p) => callProcedure("jobs.sweep", { type: "analyze", recipeYaml: recipe({}), recipeDir: env.root, checkpoints: [p] }),
    legit: { "fifo-config": fifoWeightsAreRegular, dot: dotIsTheRecipeFolder },
  },
  { name: "jobs.enqueue import-scores (paths)", call: (p) => callProcedure("jobs.enqueue", { type: "import-scores", payload: { paths: [p] } }) },
  {
    name: "jobs.enqueue evaluate (modelPath)",
    call: (p) => callProcedure("jobs.enqueue", { type: "evaluate", payload: { modelPath: p, tasks: ["t"], templateId, timeoutSeconds: 60 } }),
    legit: { "fifo-config": "a model folder inside the root; the evaluation command reads it" },
  },
  {
    name: "builder.parseYaml (models[].model)",
    call: async (p) => {
      const r = (await callProcedure("builder.parseYaml", { yaml: recipe({ model: p }) })) as { ok: boolean; issues: { message: string }[] };
      if (!r.ok) throw new Error(r.issues.map((i) => i.message).join("; "));
      return r;
    },
  },
  {
    name: "engine inspectModel with the model roots (the check the workers' engine runs on open)",
    call: async (p) => inspectModel(p, { allowedRoots: [env.root] }),
    legit: { "fifo-config": fifoWeightsAreRegular },
  },
];

describe("path escapes", () => {
  it("should have at least 40 payloads, each a distinct path", () => {
    const payloads = escapePayloads(tree);
    assert.ok(payloads.length >= 40, `${payloads.length} payloads`);
    assert.equal(new Set(payloads.map((x) => x.path)).size, payloads.length);
  });

  it("should accept the control: a model inside the root", async () => {
    await callProcedure("models.register", { path: tree.inside });
    const created = (await callProcedure("jobs.enqueue", { type: "analyze", payload: { recipeYaml: recipe({}), recipeDir: env.root } })) as { created: boolean };
    assert.equal(created.created, true);
    assert.equal(inspectModel(path.join(env.root, "trail"), { allowedRoots: [env.root] }).shards.length, 1, "the real 'trail' folder is fine");
  });

  for (const proc of procedures) {
    it(`${proc.name}: 0 escapes, each refusal naming the path and the rule`, async () => {
      const escapes: string[] = [];
      const unclear: string[] = [];
      let refused = 0;
      for (const { name, path: p } of escapePayloads(tree)) {
        let error: unknown = null;
        try {
          await proc.call(p);
        } catch (err) {
          error = err;
        }
        if (error === null) {
          if (!proc.legit?.[name]) escapes.push(`${name}: ${JSON.stringify(p.slice(0, 120))} was accepted`);
          continue;
        }
        refused++;
        const message = error instanceof Error ? error.message : String(error);
        const internal = error instanceof TRPCError && error.code === "INTERNAL_SERVER_ERROR";
        // zod refuses some shapes (an empty string, a relative path) before any service: it names the field and the rule.
        const zod = /Too small|must be an absolute path|Too big|non-empty model path|expected a path string/.test(message);
        const clear = !internal && (zod || (RULE.test(message) && (namesPath(message, p) || p.trim() === "" || p === ".")));
        if (!clear) unclear.push(`${name}: ${message.slice(0, 300)}`);
        assert.ok(!message.includes(SECRET), `${name}: the refusal leaks file content: ${message}`);
      }
      assert.deepEqual(escapes, [], `${proc.name}: escapes`);
      assert.deepEqual(unclear, [], `${proc.name}: unclear refusals`);
      assert.ok(refused >= 40, `${proc.name}: ${refused} payloads refused`);
    });
  }
});
