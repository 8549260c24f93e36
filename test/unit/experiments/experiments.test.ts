import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { AppError } from "../../../server/errors";
import { enqueueJob } from "../../../server/jobs/client";
import { buildLineage } from "../../../server/services/experiments/lineage";
import { createExperiment, deleteExperiment, getExperiment, listExperiments } from "../../../server/services/experiments/store";
import { deleteModel, registerFolder, registerModel, updateModel } from "../../../server/services/models/registry";
import type { ModelSummary } from "../../../server/services/models/schemas";
import { freshModelEnv, tinyFamily } from "../models/helpers";

const env = freshModelEnv("ms-experiments-");
const family = path.join(env.root, "family");
const other = path.join(env.root, "other");
after(() => env.cleanup());

let base: ModelSummary;
let sft: ModelSummary;
let cts: ModelSummary[];
let otherBase: ModelSummary;

before(async () => {
  tinyFamily(family, 2);
  // a family of another shape: cannot be merged with the first
  const { generateModelFamily } = await import("../../../server/engine/synthetic/family");
  generateModelFamily({ out: other, hidden: 16, layers: 1, intermediate: 32, vocab: 64, heads: 4, kvHeads: 2, ctCheckpoints: 0, tokensPerCheckpoint: 1, dtype: "bf16", seed: 1 });
  base = (await registerModel({ path: path.join(family, "base") })).model;
  sft = (await registerModel({ path: path.join(family, "sft"), name: "SFT-flan" })).model;
  const r = await registerFolder({ path: family, language: "nep" });
  // base and sft are skipped (already registered); the two CT checkpoints are new
  assert.equal(r.registered, 2);
  assert.equal(r.skipped, 2);
  cts = r.entries.filter((e) => e.status === "registered").map((e) => e.model!);
  otherBase = (await registerModel({ path: path.join(other, "base") })).model;
});

function appError(code: string, re: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, re);
    return true;
  };
}

describe("experiments", () => {
  it("should create an experiment with its CT series ordered by tokens", async () => {
    const e = await createExperiment({
      name: "Nepali",
      language: "nep",
      baseModelId: base.id,
      sftModelId: sft.id,
      ctModelIds: [cts[1]!.id, cts[0]!.id],
    });
    assert.equal(e.ctCount, 2);
    assert.equal(e.baseModel?.name, "base");
    assert.equal(e.sftModel?.name, "SFT-flan");
    assert.equal(e.synthetic, true);
    const d = await getExperiment(e.id);
    assert.deepEqual(
      d.models.map((m) => [m.role, m.position, m.model.name]),
      [["BASE", 0, "base"], ["SFT", 0, "SFT-flan"], ["CT", 0, "ct-2B"], ["CT", 1, "ct-4B"]],
    );
    const list = await listExperiments();
    assert.equal(list[0]?.id, e.id);
  });

  it("should refuse models in the wrong role, language or shape, and duplicates", async () => {
    const input = { name: "x", language: "nep", baseModelId: base.id, sftModelId: sft.id, ctModelIds: [cts[0]!.id] };
    await assert.rejects(createExperiment({ ...input, baseModelId: sft.id, sftModelId: base.id }), appError("BAD_INPUT", /has role SFT but is chosen as the base model/));
    await assert.rejects(createExperiment({ ...input, language: "tam" }), appError("BAD_INPUT", /language 'nep'.*'tam'/));
    await assert.rejects(createExperiment({ ...input, ctModelIds: [cts[0]!.id, cts[0]!.id] }), appError("BAD_INPUT", /chosen twice/));
    await assert.rejects(createExperiment({ ...input, ctModelIds: ["nope"] }), appError("NOT_FOUND", /nope/));
    await assert.rejects(createExperiment({ ...input, baseModelId: otherBase.id }), appError("BAD_INPUT", /same shape/));
    await assert.rejects(createExperiment({ ...input, extraModelIds: [sft.id] }), appError("BAD_INPUT", /chosen twice/));
  });

  it("should refuse to delete a model an experiment uses", async () => {
    await assert.rejects(deleteModel(cts[0]!.id), appError("CONFLICT", /used by experiment 'Nepali'/));
  });

  it("should draw merges of the experiment in its lineage graph", async () => {
    const [e] = await listExperiments();
    const recipe = (method: string) =>
      [
        `merge_method: ${method}`,
        `base_model: ${base.path}`,
        "models:",
        `  - model: ${sft.path}`,
        "    parameters: { weight: 1, density: 0.2, favored: true }",
        `  - model: ${cts[1]!.path}`,
        "    parameters: { weight: 1, density: 1 }",
        "parameters: { slack: 0.04 }",
        "",
      ].join("\n");
    await enqueueJob({ type: "merge", payload: { recipeYaml: recipe("ties_sv"), recipeDir: env.root }, experimentId: e!.id });
    const d = await getExperiment(e!.id);
    assert.equal(d.jobs.queued, 1);
    const labels = d.lineage.nodes.map((n) => n.label);
    assert.deepEqual(labels.filter((l) => l.startsWith("CT-")), ["CT-2B", "CT-4B"]);
    // ct-2B has no merge yet: the roadmap's TIES and WAVG are planned
    const planned = d.lineage.nodes.filter((n) => n.planned).map((n) => n.label);
    assert.deepEqual(planned.sort(), ["TIES-2B", "WAVG-2B"]);
    const sv = d.lineage.nodes.find((n) => n.label === "TIES-SV-4B");
    assert.ok(sv, labels.join(", "));
    assert.equal(sv.jobs?.queued, 1);
    assert.equal(sv.detail, "1 merge: 1 queued");
    const edgesIntoSv = d.lineage.edges.filter((x) => x.to === sv.id).map((x) => x.from).sort();
    assert.deepEqual(edgesIntoSv, [`model:${cts[1]!.id}`, `model:${sft.id}`].sort());
    assert.ok(d.lineage.edges.some((x) => x.from === `model:${base.id}` && x.to === `model:${sft.id}` && x.kind === "sft"));
  });

  it("should pair CTSFT checkpoints with the CT checkpoint of the same tokens", () => {
    const g = buildLineage({
      base: { id: "b", name: "base", ctTokens: null },
      sft: { id: "s", name: "sft", ctTokens: null },
      cts: [{ id: "c2", name: "ct-2B", ctTokens: 2e9 }],
      ctsfts: [
        { id: "cs2", name: "ct-2B-sft", ctTokens: 2e9 },
        { id: "cs9", name: "ct-9B-sft", ctTokens: 9e9 },
      ],
      merges: [{ ctModelId: "c2", method: "linear", status: "done" }],
    });
    assert.ok(g.edges.some((e) => e.from === "model:c2" && e.to === "model:cs2"));
    assert.ok(g.edges.some((e) => e.from === "model:b" && e.to === "model:cs9"), "unpaired CTSFT hangs off the base");
    assert.equal(g.nodes.find((n) => n.id === "merge:c2:linear")?.label, "WAVG-2B");
    for (const n of g.nodes) {
      assert.ok(n.x >= 0 && n.x + n.width <= g.width, `${n.id} fits horizontally`);
      assert.ok(n.y >= 0 && n.y + n.height <= g.height, `${n.id} fits vertically`);
    }
    const ids = g.nodes.map((n) => n.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const e of g.edges) assert.ok(ids.includes(e.from) && ids.includes(e.to), e.id);
  });

  it("should keep roles editable and delete experiments without deleting models", async () => {
    const [e] = await listExperiments();
    await updateModel({ id: cts[0]!.id, language: "NEP" });
    await deleteExperiment(e!.id);
    await assert.rejects(getExperiment(e!.id), appError("NOT_FOUND", /not found/));
    await deleteModel(cts[0]!.id);
  });
});
