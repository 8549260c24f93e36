// A language outside the paper's seven, end to end in the services: its tasks
// proposed from imported results and confirmed in one step, dev tasks paired
// with test tasks, and the averages and the grid search reading that pairing.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { TRPCError } from "@trpc/server";
import { db } from "../../../server/db/client";
import { AppError } from "../../../server/errors";
import { listLanguages } from "../../../server/services/languages/store";
import { computeAverages, languageAverages, listMappings, unmappedTasks, upsertMapping } from "../../../server/services/scores/catalogue";
import { gridSearch } from "../../../server/services/scores/grid-search";
import { importResultsText } from "../../../server/services/scores/import";
import { addProposedTasks, benchmarkOf, primaryMetric, proposeTasks } from "../../../server/services/scores/task-proposals";
import { callProcedure } from "../../support/trpc-caller";
import { freshDataDir, registerModel, resultsFile } from "./helpers";

const env = freshDataDir("ms-scores-lang-");
after(() => env.cleanup());

const XKA = { code: "xka", script: "Geor" };
const recipe = (sft: number, ct: number) =>
  ["merge_method: ties", "base_model: ./base", "models:", "  - model: ./sft", "    parameters:", "      weight: 1.0", `      density: ${sft}`, "  - model: ./ct-xka", "    parameters:", "      weight: 1.0", `      density: ${ct}`, ""].join("\n");

// [k_sft, k_ct, dev Belebele, dev SIB, test Belebele, test SIB]: dev picks (0.2, 1.0); (0.4, 1.0) is better on test only.
const grid: [number, number, number, number, number, number][] = [
  [0.2, 1.0, 0.6, 0.7, 0.5, 0.55],
  [0.4, 1.0, 0.4, 0.5, 0.9, 0.9],
];

before(async () => {
  const client = await db();
  const recipeDir = path.join(env.dir, "family");
  mkdirSync(recipeDir, { recursive: true });
  let i = 0;
  for (const [sft, ct, devB, devS, testB, testS] of grid) {
    i++;
    const out = (await registerModel(env.dir, `ties-xka-${sft}-${ct}`, "MERGED", "xka")).path;
    await client.job.create({ data: { type: "merge", version: 1, payload: JSON.stringify({ recipeYaml: recipe(sft, ct), recipeDir }), idempotencyKey: `x${i}`, status: "done", outputPath: out, finishedAt: new Date(Date.now() + i) } });
    // Dev tasks are named differently from the test tasks, as a custom lm-eval task set names them.
    await importResultsText({ fileName: `${i}-dev.json`, text: resultsFile({ pretrained: out, split: "dev", scores: { xka_belebele_dev: { "acc,none": devB, "acc_norm,none": devB - 0.1 }, xka_sib200_dev: { "acc,none": devS } } }) });
    await importResultsText({
      fileName: `${i}-test.json`,
      text: resultsFile({ pretrained: out, split: "test", scores: { belebele_xka_Geor: { "acc,none": testB, "acc_norm,none": testB - 0.1 }, sib200_xka_Geor: { "acc,none": testS }, belebele_kat_Geor: { "acc,none": 0.3 } } }),
    });
  }
});

describe("languages as data: proposals, dev pairing, averages, grid search", () => {
  it("should derive benchmark names and primary metrics from what was imported", () => {
    assert.equal(benchmarkOf("belebele_xka_Geor", XKA), "Belebele");
    assert.equal(benchmarkOf("xka_belebele_dev", XKA), "Belebele");
    assert.equal(benchmarkOf("sib_200_xka_Geor_test", XKA), "SIB-200");
    assert.equal(benchmarkOf("mgsm_direct_xka", XKA), "MGSM");
    assert.equal(benchmarkOf("xnli_xka_Geor", XKA), "xnli");
    assert.deepEqual(primaryMetric([{ metric: "f1", filter: "none" }, { metric: "acc_norm", filter: "none" }, { metric: "acc", filter: "none" }]), { metric: "acc", filter: "none" });
    assert.deepEqual(primaryMetric([{ metric: "exact_match", filter: "strict-match" }, { metric: "exact_match", filter: "flexible-extract" }]), { metric: "exact_match", filter: "flexible-extract" });
    assert.deepEqual(primaryMetric([{ metric: "bleu", filter: "none" }, { metric: "chrf", filter: "none" }]), { metric: "bleu", filter: "none" });
  });

  it("should propose the language's uncatalogued tasks with splits, metrics and dev pairings", async () => {
    const p = await proposeTasks("XKA_geor");
    assert.deepEqual(p.language, { code: "xka", script: "Geor", flores: "xka_Geor", name: null, label: "xka_Geor" });
    assert.equal(p.catalogued, 0);
    assert.deepEqual(
      p.proposals.map((x) => [x.task, x.benchmark, x.splits, x.metric, x.filter, x.scale, x.devTask, x.scores]),
      [
        ["belebele_xka_Geor", "Belebele", ["test"], "acc", "none", 100, "xka_belebele_dev", 4],
        ["sib200_xka_Geor", "SIB-200", ["test"], "acc", "none", 100, "xka_sib200_dev", 2],
      ],
    );
    assert.deepEqual(p.proposals[0]!.metrics.map((m) => m.metric), ["acc", "acc_norm"]);
    // Before the rows exist, the grid search has nothing to score xka by.
    await assert.rejects(gridSearch({ language: "xka" }), /no tasks for language 'xka'/);
  });

  it("should refuse a 2-letter code at the API boundary with the 3-letter code to use", async () => {
    await assert.rejects(callProcedure("scores.catalogue.proposals", { language: "ka" }), (err: unknown) => {
      assert.ok(err instanceof TRPCError && err.code === "BAD_REQUEST");
      assert.match(String((err.cause as { issues?: { message: string }[] })?.issues?.[0]?.message), /use the 3-letter ISO 639-3 code kat \(Georgian\)/);
      return true;
    });
  });

  it("should add the confirmed rows, the script and the name in one step, all or nothing", async () => {
    const p = await proposeTasks("xka_Geor");
    const tasks = p.proposals.map(({ task, benchmark, metric, filter, scale, priority, devTask }) => ({ task, benchmark, metric, filter, scale, priority, devTask }));
    await assert.rejects(addProposedTasks({ language: "xka_Geor", tasks: [tasks[0]!, { ...tasks[1]!, devTask: "xka_belebele_dev" }] }), (e: unknown) => e instanceof AppError && /xka_belebele_dev chosen twice/.test(e.message));
    await assert.rejects(addProposedTasks({ language: "xka_Geor", tasks: [{ ...tasks[0]!, task: "sib200_tam_Taml" }] }), (e: unknown) => e instanceof AppError && e.code === "CONFLICT" && /already in the catalogue: sib200_tam_Taml/.test(e.message));
    assert.equal((await listMappings()).filter((m) => m.language === "xka").length, 0, "a refused confirmation adds nothing");

    const r = await addProposedTasks({ language: "xka_Geor", languageName: "Mingrelian", tasks });
    assert.equal(r.message, "Added 4 tasks for Mingrelian (xka_Geor) (2 of them as dev tasks of the others)");
    const rows = (await listMappings()).filter((m) => m.language === "xka");
    assert.deepEqual(rows.map((m) => [m.task, m.benchmark, m.devTask]), [["belebele_xka_Geor", "Belebele", "xka_belebele_dev"], ["sib200_xka_Geor", "SIB-200", "xka_sib200_dev"]]);
    const lang = (await listLanguages()).find((l) => l.code === "xka")!;
    assert.deepEqual([lang.script, lang.name, lang.label, lang.catalogueTasks], ["Geor", "Mingrelian", "Mingrelian (xka_Geor)", 2]);
    // Nothing left to propose; dev tasks are catalogued too (not "unmapped").
    assert.deepEqual((await proposeTasks("xka")).proposals, []);
    assert.deepEqual((await unmappedTasks()).map((u) => u.task), ["belebele_kat_Geor"]);
    await assert.rejects(addProposedTasks({ language: "xka", tasks }), (e: unknown) => e instanceof AppError && e.code === "CONFLICT");
  });

  it("should average the dev split over the dev tasks and the test split over the test tasks", async () => {
    const dev = await languageAverages({ split: "dev", language: "xka_Geor" });
    const test = await languageAverages({ split: "test", language: "xka" });
    const byName = (rows: typeof dev) => new Map(rows.map((r) => [r.modelLabel, r.languages[0]!]));
    const d = byName(dev).get("ties-xka-0.2-1")!;
    assert.ok(Math.abs(d.average! - (60 + 70) / 2) < 1e-9);
    assert.deepEqual(d.parts.map((x) => x.task), ["xka_belebele_dev", "xka_sib200_dev"]);
    const t = byName(test).get("ties-xka-0.4-1")!;
    assert.ok(Math.abs(t.average! - 90) < 1e-9);
    assert.deepEqual(t.parts.map((x) => x.task), ["belebele_xka_Geor", "sib200_xka_Geor"]);
  });

  it("should pick densities by the paired dev tasks and report the test tasks", async () => {
    const r = await gridSearch({ language: "xka" });
    assert.equal(r.groups.length, 1);
    const g = r.groups[0]!;
    assert.deepEqual(g.bestDensities, [0.2, 1.0]);
    assert.ok(Math.abs(g.devScore! - 65) < 1e-9);
    assert.ok(Math.abs(g.testScore! - 52.5) < 1e-9);
    assert.ok(g.candidates.every((c) => c.devComplete && c.testComplete));
    assert.match(r.score.label, /xka average over Belebele, SIB-200 \(dev tasks: xka_belebele_dev → belebele_xka_Geor, xka_sib200_dev → sib200_xka_Geor\)/);
    // One task: its dev task counts on dev too.
    const one = await gridSearch({ task: "belebele_xka_Geor" });
    assert.ok(Math.abs(one.groups[0]!.devScore! - 60) < 1e-9);
  });

  it("should keep a row's dev task editable, refusing one that is taken", async () => {
    const row = { task: "sib200_xka_Geor", benchmark: "SIB-200", language: "xka_Geor", metric: "acc", filter: "none", scale: 100, priority: 0 };
    await assert.rejects(upsertMapping({ ...row, devTask: "xka_belebele_dev" }), /xka_belebele_dev is already the dev task of belebele_xka_Geor/);
    await assert.rejects(upsertMapping({ ...row, devTask: "belebele_xka_Geor" }), /belebele_xka_Geor is a catalogue task of its own/);
    await assert.rejects(upsertMapping({ ...row, devTask: "sib200_xka_Geor" }), /is the task itself/);
    await assert.rejects(upsertMapping({ ...row, language: "ka" }), /use the 3-letter ISO 639-3 code kat/);
    const saved = await upsertMapping({ ...row, devTask: null });
    assert.equal(saved.language, "xka");
    assert.equal(saved.devTask, null);
    // Without its dev task the SIB-200 dev score is missing: the dev average is partial.
    const dev = (await languageAverages({ split: "dev", language: "xka" }))[0]!.languages[0]!;
    assert.equal(dev.average, null);
    assert.equal(dev.covered, 1);
  });

  it("should pair in the pure average too (dev split only)", () => {
    const at = new Date(0);
    const scores = [
      { modelId: "m", modelName: "m", task: "t_dev", split: "dev", metric: "acc", filter: "none", value: 0.25, createdAt: at },
      { modelId: "m", modelName: "m", task: "t", split: "dev", metric: "acc", filter: "none", value: 0.75, createdAt: at },
      { modelId: "m", modelName: "m", task: "t", split: "test", metric: "acc", filter: "none", value: 0.5, createdAt: at },
    ];
    const mapping = { task: "t", benchmark: "B", language: "xyz", metric: "acc", filter: "none", scale: 100, priority: 0, devTask: "t_dev" };
    assert.equal(computeAverages(scores, [mapping], "dev")[0]!.languages[0]!.average, 25);
    assert.equal(computeAverages(scores, [mapping], "test")[0]!.languages[0]!.average, 50);
    assert.equal(computeAverages(scores, [{ ...mapping, devTask: null }], "dev")[0]!.languages[0]!.average, 75);
  });
});
