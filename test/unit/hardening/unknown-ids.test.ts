// Every procedure, called with ids that do not exist (and otherwise valid
// input), answers a clean 4xx AppError naming what is missing — never a 500
// with Prisma's text. The table must list every procedure of the router, so a
// new procedure without a case fails here.
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { TRPCError } from "@trpc/server";
import { closeOffloadThreads } from "../../../server/offload/pool";
import { registerFolder } from "../../../server/services/models/registry";
import { callProcedure, procedurePaths } from "../../support/trpc-caller";
import { freshModelEnv, tinyFamily } from "../models/helpers";

const env = freshModelEnv("ms-unknown-ids-");
const family = path.join(env.root, "family");
after(async () => {
  await closeOffloadThreads();
  await env.cleanup();
});

const NOPE = "nope0000000000000000000000";
let modelIds: Record<string, string> = {};
before(async () => {
  tinyFamily(family, 1);
  const r = await registerFolder({ path: family, role: "CT", language: "nep" });
  modelIds = Object.fromEntries(r.entries.map((e) => [e.name, e.model!.id]));
});

const recipe = () => `merge_method: ties\nbase_model: ${path.join(family, "base")}\nmodels:\n  - model: ${path.join(family, "ct-2B")}\n    parameters: { weight: 1, density: 0.5 }\n`;
const settings = (over: Record<string, unknown> = {}) => ({
  experimentId: NOPE,
  method: "ties",
  baseModelId: NOPE,
  models: [{ modelId: NOPE, weight: 1, density: 1, gamma: 0.01, favored: false }],
  lambda: 1,
  normalize: true,
  consensus: "sum",
  slack: 0.04,
  slackScope: "model",
  dtype: null,
  ...over,
});

/** Input per procedure; ids point nowhere, everything else is valid. */
const cases: Record<string, () => unknown> = {
  "account.me": () => undefined,
  "account.tokens.create": () => ({ name: "ci", role: "viewer", expiresInDays: 1 }),
  "account.tokens.list": () => undefined,
  "account.tokens.revoke": () => ({ id: NOPE }),
  "admin.invites.create": () => ({ email: null, role: "viewer" }),
  "admin.invites.list": () => undefined,
  "admin.invites.revoke": () => ({ id: NOPE }),
  "admin.users.list": () => undefined,
  "admin.users.remove": () => ({ userId: NOPE }),
  "admin.users.setBlocked": () => ({ userId: NOPE, blocked: true }),
  "admin.users.setRole": () => ({ userId: NOPE, role: "viewer" }),
  "auth.acceptInvite": () => ({ token: NOPE, name: "x", email: null, password: "correct horse battery" }),
  "auth.invite": () => ({ token: NOPE }),
  "auth.signInOptions": () => undefined,
  "builder.parseYaml": () => ({ yaml: recipe() }),
  "builder.preview": () => settings(),
  "builder.sweepPlan": () => ({ settings: settings(), type: "analyze", checkpointIds: [NOPE], methods: ["ties"], densities: [[0.5]] }),
  "charts.compare": () => ({ experimentId: NOPE, checkpointId: NOPE, split: "test" }),
  "charts.figure2": () => ({ experimentId: NOPE, split: "test" }),
  "charts.geometry": () => ({ experimentId: NOPE }),
  "charts.methods": () => ({ experimentId: NOPE, checkpointId: NOPE }),
  "charts.heatmap": () => ({ analysisId: NOPE, experimentId: NOPE }),
  "charts.scoreStats": () => ({ experimentId: NOPE, split: "test", statistic: "sftDiscardPct" }),
  "charts.sweep": () => ({ experimentId: NOPE }),
  "experiments.create": () => ({ name: "x", language: "nep", baseModelId: NOPE, sftModelId: NOPE, ctModelIds: [NOPE] }),
  "experiments.delete": () => ({ id: NOPE }),
  "experiments.get": () => ({ id: NOPE }),
  "experiments.list": () => ({ language: "zz" }),
  "experiments.overview": () => undefined,
  "experiments.update": () => ({ id: NOPE, name: "renamed" }),
  "health.status": () => ({}),
  "jobs.cancel": () => ({ id: NOPE }),
  "jobs.delete": () => ({ id: NOPE }),
  "jobs.enqueue": () => ({ type: "analyze", payload: { recipeYaml: recipe(), recipeDir: env.root }, experimentId: NOPE }),
  "jobs.get": () => ({ id: NOPE }),
  "jobs.groups": () => ({ experimentId: NOPE, page: 3 }),
  "jobs.list": () => ({ experimentId: NOPE, sweepId: NOPE }),
  "jobs.retry": () => ({ id: NOPE }),
  "jobs.setPriority": () => ({ id: NOPE, priority: 3 }),
  "jobs.sweep": () => ({ type: "analyze", recipeYaml: recipe(), recipeDir: env.root, experimentId: NOPE }),
  "models.delete": () => ({ id: NOPE }),
  "models.get": () => ({ id: NOPE }),
  "models.list": () => ({ search: NOPE }),
  "models.register": () => ({ path: path.join(env.root, "nope") }),
  "models.registerFolder": () => ({ path: path.join(env.root, "nope") }),
  "models.roots": () => ({}),
  "models.update": () => ({ id: NOPE, name: "renamed" }),
  "scores.attach": () => ({ items: [{ sourceHash: "0".repeat(64), modelId: NOPE }] }),
  "scores.averages": () => ({ split: "test", modelId: NOPE }),
  "scores.catalogue.list": () => undefined,
  "scores.catalogue.remove": () => ({ task: NOPE }),
  "scores.catalogue.reset": () => undefined,
  "scores.catalogue.unmapped": () => undefined,
  "scores.catalogue.languages": () => undefined,
  "scores.catalogue.proposals": () => ({ language: "xka_Geor" }),
  "scores.catalogue.addProposed": () => ({ language: "xka", tasks: [{ task: NOPE, benchmark: "b", metric: "acc", filter: "none", scale: 100, priority: 0, devTask: NOPE }] }),
  "scores.catalogue.upsert": () => ({ task: "t", benchmark: "b", language: "nep", metric: "acc", filter: "none", scale: 100, priority: 0, previousTask: NOPE }),
  "scores.deleteImport": () => ({ sourceHash: NOPE }),
  "scores.evaluate": () => ({ experimentId: NOPE, modelId: NOPE, tasks: ["x"], templateId: NOPE }),
  "scores.evaluateExperiment": () => ({ experimentId: NOPE }),
  "scores.gridSearch": () => ({ experimentId: NOPE }),
  "scores.importFile": () => ({ fileName: "r.json", text: JSON.stringify({ results: { t: { "acc,none": 0.5 } } }), modelId: NOPE }),
  "scores.importFiles": () => ({ files: [{ fileName: "r.json", text: JSON.stringify({ results: { t: { "acc,none": 0.5 } } }) }], modelId: NOPE }),
  "scores.imports": () => undefined,
  "scores.list": () => ({ modelId: NOPE }),
  "scores.models": () => undefined,
  "scores.paper.consistency": () => undefined,
  "scores.paper.overlay": () => ({ experimentId: NOPE }),
  "scores.paper.tables": () => undefined,
  "scores.templates.create": () => ({ name: "lm-eval", command: "lm_eval --model hf --model_args pretrained={model} --tasks {tasks} --output_path {out}" }),
  "scores.templates.delete": () => ({ id: NOPE }),
  "scores.templates.list": () => undefined,
  "scores.templates.update": () => ({ id: NOPE, name: "renamed" }),
  "scores.unattached": () => undefined,
  "views.create": () => ({ path: "/analysis", query: `experiment=${NOPE}` }),
  "views.get": () => ({ id: NOPE }),
  "views.publicLinks.create": () => ({ viewId: "nope0000", expiresInDays: 1 }),
  "views.publicLinks.list": () => ({ viewId: "nope0000" }),
  "views.publicLinks.revoke": () => ({ id: NOPE }),
};

describe("unknown ids", () => {
  it("should have a case for every procedure of the router", () => {
    assert.deepEqual(Object.keys(cases).sort(), procedurePaths());
  });

  for (const [p, input] of Object.entries(cases)) {
    it(`${p} should answer a clean 4xx (or succeed), never a 500 with internal text`, async () => {
      try {
        await callProcedure(p, input());
      } catch (err) {
        assert.ok(err instanceof TRPCError, `${p}: expected a TRPCError, got ${String(err)}`);
        assert.notEqual(err.code, "INTERNAL_SERVER_ERROR", `${p}: ${err.message}`);
        assert.doesNotMatch(err.message, /prisma|invocation|\bat \w+ \(|node_modules/i, `${p}: ${err.message}`);
      }
    });
  }

  it("should say which experiment is missing when a job names one", async () => {
    await assert.rejects(callProcedure("jobs.enqueue", cases["jobs.enqueue"]!()), (err: unknown) => {
      assert.ok(err instanceof TRPCError);
      assert.equal(err.code, "NOT_FOUND");
      assert.match(err.message, new RegExp(`experiment ${NOPE}`));
      return true;
    });
    assert.ok(modelIds["ct-2B"], "the family was registered, so the recipe itself is valid");
  });
});
