// Importing results into the database: model matching by path, scores kept
// under the file's model name and attached later, idempotent re-imports,
// split choices, malformed files, the task catalogue and Table-3 averages.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { TRPCError } from "@trpc/server";
import { callerAs } from "../../support/auth";
import { db } from "../../../server/db/client";
import { AppError } from "../../../server/errors";
import { deleteMapping, languageAverages, listMappings, resetMappings, unmappedTasks, upsertMapping } from "../../../server/services/scores/catalogue";
import { attachImports, deleteImport, importResultsFiles, importResultsText, listImports, listScores, listUnattached } from "../../../server/services/scores/import";
import { fixture, freshDataDir, registerModel, resultsFile } from "./helpers";

const env = freshDataDir("ms-scores-import-");
after(() => env.cleanup());

const V042 = "results_2024-06-01T10-15-30.123456.json";
const V045 = "results_2024-07-15T08-30-12.654321.json";

describe("score import", () => {
  it("should match the file's pretrained path to a registered model", async () => {
    const model = await registerModel(env.dir, "TIES-ben-flan");
    const text = fixture(V042).replaceAll("/models/merges/TIES-ben-flan", `${model.path}/`); // trailing slash: still the same folder
    const s = await importResultsText({ fileName: V042, text });
    assert.equal(s.modelId, model.id);
    assert.equal(s.matchedBy, "path");
    assert.equal(s.modelLabel, "TIES-ben-flan");
    assert.equal(s.created, 10);
    assert.equal(s.duplicate, false);
    const rows = await listScores({ modelId: model.id });
    assert.equal(rows.length, 10);
    const bele = rows.find((r) => r.task === "belebele_ben_Beng" && r.metric === "acc")!;
    assert.equal(bele.value, 0.3402);
    assert.equal(bele.stderr, 0.0088);
    assert.equal(bele.sourceFile, V042);
    assert.equal(bele.splitSource, "config test_split=test");
    assert.equal(rows.find((r) => r.task === "mgsm_direct_bn" && r.filter === "remove_whitespace")?.stderr, null);
  });

  it("should not duplicate scores when the same file is imported again", async () => {
    const client = await db();
    const before = await client.score.count();
    const model = await client.model.findFirstOrThrow({ where: { name: "TIES-ben-flan" } });
    const text = fixture(V042).replaceAll("/models/merges/TIES-ben-flan", `${model.path}/`);
    const again = await importResultsText({ fileName: "renamed.json", text });
    assert.equal(again.created, 0);
    assert.equal(again.unchanged, 10);
    assert.equal(again.duplicate, true);
    assert.equal(await client.score.count(), before);
    const both = await Promise.all([importResultsText({ fileName: "a.json", text }), importResultsText({ fileName: "b.json", text })]);
    assert.ok(both.every((r) => r.created === 0));
    assert.equal(await client.score.count(), before);
    assert.equal((await listImports()).length, 1);
  });

  it("should keep scores under the file's model name when no model matches, then attach them", async () => {
    const s = await importResultsText({ fileName: V045, text: fixture(V045) });
    assert.equal(s.modelId, null);
    assert.equal(s.matchedBy, null);
    assert.equal(s.modelName, "/models/ct/CT-bod-1B");
    const unattached = await listUnattached();
    assert.deepEqual(unattached.map((u) => [u.modelName, u.scores, u.sourceFile, u.candidates]), [["/models/ct/CT-bod-1B", 8, V045, []]]);
    const ct = await registerModel(env.dir, "CT-bod", "CT", "bod");
    const r = await attachImports({ items: [{ sourceHash: s.sourceHash, modelId: ct.id }] });
    assert.deepEqual(r, [{ sourceHash: s.sourceHash, sourceFile: V045, modelId: ct.id, modelLabel: "CT-bod", modelPath: ct.path, attached: 8 }]);
    assert.equal((await listScores({ modelId: ct.id })).length, 8);
    assert.equal((await listImports()).find((i) => i.sourceHash === s.sourceHash)?.matchedBy, "confirmed");
    assert.deepEqual(await listUnattached(), []);
    // Re-importing the file afterwards does not detach it.
    const again = await importResultsText({ fileName: V045, text: fixture(V045) });
    assert.equal(again.modelId, ct.id);
    assert.equal(again.duplicate, true);
    // Unknown files or models refuse the whole request.
    const before = await listScores({ modelId: ct.id });
    await assert.rejects(attachImports({ items: [{ sourceHash: s.sourceHash, modelId: ct.id }, { sourceHash: "f".repeat(64), modelId: ct.id }] }), /no imported results file with sha256 f{64}/);
    await assert.rejects(attachImports({ items: [{ sourceHash: s.sourceHash, modelId: "nope" }] }), (e: unknown) => e instanceof AppError && e.code === "NOT_FOUND");
    await assert.rejects(attachImports({ items: [{ sourceHash: s.sourceHash, modelId: ct.id }, { sourceHash: s.sourceHash, modelId: ct.id }] }), /listed twice/);
    assert.deepEqual(await listScores({ modelId: ct.id }), before);
  });

  it("should file scores under an explicit model and split, and move them when re-imported with another split", async () => {
    const m = await registerModel(env.dir, "TIES-tam-flan");
    const text = fixture("results_legacy-0.3.json");
    const s = await importResultsText({ fileName: "legacy.json", text, modelId: m.id, split: "dev" });
    assert.equal(s.matchedBy, "option");
    assert.ok(s.tasks.every((t) => t.split === "dev" && t.splitSource === "option"));
    assert.deepEqual([...new Set((await listScores({ modelId: m.id })).map((r) => r.split))], ["dev"]);
    const moved = await importResultsText({ fileName: "legacy.json", text, modelId: m.id, split: "test" });
    assert.equal(moved.updated, 3);
    assert.equal(moved.created, 0);
    const rows = await listScores({ modelId: m.id });
    assert.equal(rows.length, 3);
    assert.deepEqual([...new Set(rows.map((r) => r.split))], ["test"]);
    // Without an option, the earlier explicit choice stays.
    const kept = await importResultsText({ fileName: "legacy.json", text });
    assert.equal(kept.duplicate, true);
    await assert.rejects(importResultsText({ fileName: "x.json", text, modelId: "missing" }), /model missing is not registered/);
  });

  it("should refuse malformed files with the line and field, and import the good ones of a batch", async () => {
    const client = await db();
    const before = await client.score.count();
    await assert.rejects(importResultsText({ fileName: "results_2024.json", text: fixture("malformed/results_2024.json") }), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(e.code, "BAD_INPUT");
      assert.equal(e.message, "results_2024.json line 14: results.belebele_ben_Beng: expected an object of metric values, got a string");
      return true;
    });
    const out = await importResultsFiles({
      files: [
        { fileName: "results_syntax.json", text: fixture("malformed/results_syntax.json") },
        { fileName: "good.json", text: resultsFile({ pretrained: "/elsewhere/m1", scores: { belebele_ory_Orya: { "acc,none": 0.3111 } } }) },
      ],
    });
    assert.equal(out[0]?.ok, false);
    assert.match(out[0]!.ok ? "" : out[0]!.error, /^results_syntax\.json line 5, column 7: not valid JSON/);
    assert.equal(out[1]?.ok, true);
    assert.equal(await client.score.count(), before + 1);
    const r = await deleteImport(out[1]!.ok ? out[1]!.summary.sourceHash : "");
    assert.equal(r.deleted, 1);
    assert.equal(await client.score.count(), before);
    // Through the API: a BAD_REQUEST carrying the same message.
    const caller = await callerAs("researcher");
    await assert.rejects(caller.scores.importFile({ fileName: "results_2024.json", text: fixture("malformed/results_2024.json") }), (e: unknown) => {
      assert.ok(e instanceof TRPCError);
      assert.equal(e.code, "BAD_REQUEST");
      assert.equal(e.message, "results_2024.json line 14: results.belebele_ben_Beng: expected an object of metric values, got a string");
      return true;
    });
    const viaApi = await caller.scores.importFile({ fileName: "api.json", text: resultsFile({ pretrained: "/elsewhere/api", scores: { belebele_tel_Telu: { "acc,none": 0.3306 } } }), split: "test" });
    assert.equal(viaApi.created, 1);
    assert.equal((await caller.scores.list({ modelName: "/elsewhere/api" }))[0]?.value, 0.3306);
    await caller.scores.deleteImport({ sourceHash: viaApi.sourceHash });
  });
});

describe("task catalogue and averages", () => {
  it("should seed the paper's tasks with their primary metrics", async () => {
    const rows = await listMappings();
    const get = (t: string) => rows.find((r) => r.task === t);
    assert.deepEqual(
      ["belebele_ben_Beng", "sib200_ben_Beng", "mgsm_direct_bn", "mgsm_native_cot_bn", "mlic_bod_tc", "mlic_mvf_math"].map((t) => {
        const r = get(t)!;
        return [r.benchmark, r.language, r.metric, r.filter, r.priority];
      }),
      [
        ["Belebele", "ben", "acc", "none", 0],
        ["SIB-200", "ben", "acc", "none", 0],
        ["MGSM", "ben", "exact_match", "flexible-extract", 0],
        ["MGSM", "ben", "exact_match", "flexible-extract", 1],
        ["MLiC-TC", "bod", "acc", "none", 0],
        ["MLiC-Math", "mvf", "exact_match", "flexible-extract", 0],
      ],
    );
    assert.equal(new Set(rows.map((r) => r.language)).size, 7);
    assert.ok(rows.every((r) => r.isDefault));
  });

  it("should average a language like Table 3: the primary metric of each benchmark, in %", async () => {
    const rows = await languageAverages({ split: "test", language: "ben" });
    const ties = rows.find((r) => r.modelLabel === "TIES-ben-flan")!;
    const ben = ties.languages[0]!;
    // (7.5 + 79.41 + 34.02) / 3, from mgsm_direct_bn flexible-extract, sib200 and belebele acc.
    assert.equal(ben.covered, 3);
    assert.equal(ben.expected, 3);
    assert.ok(Math.abs(ben.average! - (7.5 + 79.41176470588235 + 34.02) / 3) < 1e-9);
    assert.equal(ben.average!.toFixed(2), "40.31");
    assert.deepEqual(ben.parts.map((p) => [p.benchmark, p.task]), [["Belebele", "belebele_ben_Beng"], ["MGSM", "mgsm_direct_bn"], ["SIB-200", "sib200_ben_Beng"]]);
    // Dev: only SIB-200 for Bengali in the 0.4.5 file: a partial average, not a full one.
    const dev = await languageAverages({ split: "dev" });
    const bod = dev.find((r) => r.modelLabel === "CT-bod")!;
    const b = bod.languages.find((l) => l.language === "bod")!;
    assert.equal(b.covered, 4);
    assert.ok(Math.abs(b.average! - (77.08333333333334 + 55 + 42.5 + 15) / 4) < 1e-9);
    const partial = bod.languages.find((l) => l.language === "ben")!;
    assert.equal(partial.average, null);
    assert.equal(partial.covered, 1);
    assert.ok(Math.abs(partial.partialAverage! - 80.3921568627451) < 1e-9);
    assert.match(partial.parts.find((p) => p.benchmark === "Belebele")!.missing!, /no dev score for belebele_ben_Beng/);
  });

  it("should let users edit the mapping, and say when the primary filter is missing", async () => {
    await upsertMapping({ task: "mgsm_direct_bn", benchmark: "MGSM", language: "ben", metric: "exact_match", filter: "strict-match", scale: 100, priority: 0 });
    await upsertMapping({ task: "mgsm_native_cot_bn", benchmark: "MGSM", language: "ben", metric: "exact_match", filter: "strict-match", scale: 100, priority: 1 });
    const rows = await languageAverages({ split: "test", language: "ben" });
    const ben = rows.find((r) => r.modelLabel === "TIES-ben-flan")!.languages[0]!;
    // mgsm_direct_bn has no strict-match; mgsm_native_cot_bn (priority 1) does: 3.5.
    const mgsm = ben.parts.find((p) => p.benchmark === "MGSM")!;
    assert.equal(mgsm.task, "mgsm_native_cot_bn");
    assert.ok(Math.abs(mgsm.value! - 3.5) < 1e-9);
    await deleteMapping("mgsm_native_cot_bn");
    const after = (await languageAverages({ split: "test", language: "ben" })).find((r) => r.modelLabel === "TIES-ben-flan")!.languages[0]!;
    assert.equal(after.average, null);
    assert.equal(after.parts.find((p) => p.benchmark === "MGSM")!.missing, "mgsm_direct_bn has no exact_match,strict-match (has exact_match,remove_whitespace, exact_match,flexible-extract)");
    assert.equal((await listMappings()).find((r) => r.task === "mgsm_direct_bn")?.isDefault, false);
    await resetMappings();
    const restored = (await listMappings()).find((r) => r.task === "mgsm_native_cot_bn");
    assert.equal(restored?.filter, "flexible-extract");
    assert.equal(restored?.isDefault, true);
  });

  it("should suggest mappings for tasks it does not know", async () => {
    await importResultsText({ fileName: "hin.json", text: resultsFile({ pretrained: "/elsewhere/hin", scores: { belebele_hin_Deva: { "acc,none": 0.4 }, my_task: { "acc,none": 0.5 } } }) });
    const un = await unmappedTasks();
    assert.deepEqual(un.find((u) => u.task === "belebele_hin_Deva")?.suggestion, { task: "belebele_hin_Deva", benchmark: "Belebele", language: "hin", metric: "acc", filter: "none", scale: 100, priority: 0 });
    assert.equal(un.find((u) => u.task === "my_task")?.suggestion, null);
  });
});
