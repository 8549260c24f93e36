// Matching results files made on another machine to registered models: fingerprints
// (merged models' digests, job keys in merge folder names), path suffixes, ambiguity —
// pure functions first, then through the import service and the review's attach step.
import assert from "node:assert/strict";
import { mkdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { attachImports, importResultsText, listScores, listUnattached } from "../../../server/services/scores/import";
import { automaticMatch, fingerprintTokens, matchCandidates, pathSegments, sharedSuffix, type MatchableModel } from "../../../server/services/scores/match";
import { freshDataDir, resultsFile } from "./helpers";

const OUT = "a3f9c2e18b7d4c6e5f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6";
const RECIPE = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

function model(id: string, p: string, extra: Partial<MatchableModel> = {}): MatchableModel {
  return { id, name: path.basename(p), path: p, role: "OTHER", outputSha256: null, recipeSha256: null, ...extra };
}

const registered = [
  model("base", "/data/family/base", { role: "BASE" }),
  model("sft", "/data/family/sft", { role: "SFT" }),
  model("ct4", "/data/family/run7/ct-4B", { role: "CT" }),
  model("ct4-other", "/data/other/run3/ct-4B", { role: "CT" }),
  model("base2", "/data/other/base", { role: "BASE" }),
  model("ties", "/srv/merges/ties-ct-4B-9c1d2e3f4a5b", { role: "MERGED" }),
  model("sv", "/srv/merges/copied-elsewhere", { role: "MERGED", outputSha256: OUT, recipeSha256: RECIPE }),
];

describe("score matching (pure)", () => {
  it("should find hex runs of 12+ characters as fingerprints, not dates, steps or words", () => {
    assert.deepEqual(fingerprintTokens("/home/a/merges/ties-ct-4B-9C1D2E3F4A5B"), ["9c1d2e3f4a5b"]);
    assert.deepEqual(fingerprintTokens("/runs/2024061510153012/checkpoint-000000012800"), []);
    assert.deepEqual(fingerprintTokens("/x/deadbeefcafe1"), ["deadbeefcafe1"]);
    assert.deepEqual(fingerprintTokens("/x/deadbeefcafeZ /y/abcdef"), []);
  });

  it("should split POSIX and Windows paths and count shared trailing segments", () => {
    assert.deepEqual(pathSegments("C:\\runs\\run7\\ct-4B\\"), ["C:", "runs", "run7", "ct-4B"]);
    assert.deepEqual(pathSegments("./a//b/./c"), ["a", "b", "c"]);
    assert.equal(sharedSuffix(["x", "run7", "ct-4B"], ["data", "family", "run7", "ct-4B"]), 2);
    assert.equal(sharedSuffix(["a"], ["b"]), 0);
  });

  it("should match a merge folder's job key and a merged model's digest prefix as fingerprints", () => {
    const byKey = matchCandidates({ pretrained: "/scratch/alice/merges/ties-ct-4B-9c1d2e3f4a5b", modelName: "x" }, registered);
    assert.deepEqual(byKey.map((c) => [c.modelId, c.by, c.evidence]), [["ties", "fingerprint", "9c1d2e3f4a5b"]]);
    assert.equal(automaticMatch(byKey)?.modelId, "ties");
    const byDigest = matchCandidates({ pretrained: `/hub/lab/ties-sv-${OUT.slice(0, 16)}`, modelName: "x" }, registered);
    assert.deepEqual(byDigest.map((c) => c.modelId), ["sv"]);
    const byRecipe = matchCandidates({ pretrained: null, modelName: "lab/merge", modelArgs: `pretrained=lab/merge,revision=${RECIPE.slice(0, 12)}` }, registered);
    assert.deepEqual(byRecipe.map((c) => c.modelId), ["sv"]);
    // A shorter run than 12 characters is no fingerprint.
    assert.deepEqual(matchCandidates({ pretrained: "/m/ties-ct-4B-9c1d2e3f", modelName: "x" }, registered), []);
  });

  it("should propose the longest shared path suffix and never file it without confirmation", () => {
    const c = matchCandidates({ pretrained: "/scratch/alice/run7/ct-4B", modelName: "/scratch/alice/run7/ct-4B" }, registered);
    assert.deepEqual(c.map((x) => [x.modelId, x.by, x.evidence, x.segments]), [["ct4", "suffix", "run7/ct-4B", 2]]);
    assert.equal(automaticMatch(c), null);
  });

  it("should offer every model on a tie: two folders named base are ambiguous", () => {
    const c = matchCandidates({ pretrained: "/home/bob/base", modelName: "/home/bob/base" }, registered);
    assert.deepEqual(c.map((x) => x.modelId), ["base", "base2"]);
    assert.equal(automaticMatch(c), null);
    assert.deepEqual(matchCandidates({ pretrained: "/home/bob/ct-4B", modelName: "x" }, registered).map((x) => x.modelId), ["ct4", "ct4-other"]);
  });

  it("should not file on a fingerprint two registered models share", () => {
    const twins = [...registered, model("ties-copy", "/backup/ties-ct-4B-9c1d2e3f4a5b", { role: "MERGED" })];
    const c = matchCandidates({ pretrained: "/x/ties-ct-4B-9c1d2e3f4a5b", modelName: "x" }, twins);
    assert.deepEqual(c.map((x) => x.modelId).sort(), ["ties", "ties-copy"]);
    assert.equal(automaticMatch(c), null);
  });

  it("should offer nothing when no registered path shares a segment", () => {
    assert.deepEqual(matchCandidates({ pretrained: "/elsewhere/unknown", modelName: "/elsewhere/unknown" }, registered), []);
  });
});

const env = freshDataDir("ms-scores-match-");
after(() => env.cleanup());

async function folder(rel: string, data: Record<string, unknown> = {}) {
  const p = path.join(env.dir, rel);
  mkdirSync(p, { recursive: true });
  const client = await db();
  return client.model.create({ data: { name: path.basename(rel), path: realpathSync(p), role: "OTHER", ...data } });
}

describe("score matching (import and review)", () => {
  it("should file a merged model's results by its digest at import, and hold suffix matches for review", async () => {
    const merged = await folder("merges/ties-sv-x", { role: "MERGED", outputSha256: OUT, recipeSha256: RECIPE });
    const ct = await folder("family/run7/ct-4B", { role: "CT" });
    await folder("family/base", { role: "BASE" });
    await folder("other/base", { role: "BASE" });
    const scores = { belebele_xka_Geor: { "acc,none": 0.41 } };

    const viaDigest = await importResultsText({ fileName: "m.json", text: resultsFile({ pretrained: `/cluster/u/merges/out-${OUT.slice(0, 20)}`, scores }) });
    assert.equal(viaDigest.modelId, merged.id);
    assert.equal(viaDigest.matchedBy, "fingerprint");

    const viaSuffix = await importResultsText({ fileName: "c.json", text: resultsFile({ pretrained: "/cluster/u/run7/ct-4B", scores }) });
    const ambiguous = await importResultsText({ fileName: "b.json", text: resultsFile({ pretrained: "/cluster/u/base", scores }) });
    assert.equal(viaSuffix.modelId, null);
    assert.equal(ambiguous.modelId, null);

    const review = await listUnattached();
    const bySource = new Map(review.map((r) => [r.sourceFile, r]));
    assert.deepEqual([...bySource.keys()].sort(), ["b.json", "c.json"]);
    assert.equal(bySource.get("c.json")!.modelName, "/cluster/u/run7/ct-4B");
    assert.deepEqual(bySource.get("c.json")!.candidates.map((c) => [c.modelId, c.segments]), [[ct.id, 2]]);
    assert.equal(bySource.get("b.json")!.candidates.length, 2);

    // Confirming several at once files each file under its own model and says what was attached.
    const chosenBase = bySource.get("b.json")!.candidates[0]!;
    const done = await attachImports({
      items: [
        { sourceHash: viaSuffix.sourceHash, modelId: ct.id },
        { sourceHash: ambiguous.sourceHash, modelId: chosenBase.modelId },
      ],
    });
    assert.deepEqual(
      done.map((d) => [d.sourceFile, d.modelId, d.modelPath, d.attached]),
      [
        ["c.json", ct.id, ct.path, 1],
        ["b.json", chosenBase.modelId, chosenBase.path, 1],
      ],
    );
    assert.deepEqual(await listUnattached(), []);
    assert.equal((await listScores({ modelId: ct.id })).length, 1);
  });

  it("should keep two files naming the same folder name apart: each is reviewed on its own", async () => {
    const scores = { arc_easy: { "acc,none": 0.5 } };
    const a = await importResultsText({ fileName: "a/results.json", text: resultsFile({ pretrained: "/m1/mergekit_output", scores }) });
    const b = await importResultsText({ fileName: "b/results.json", text: resultsFile({ pretrained: "/m2/mergekit_output", scores, date: 1717236999 }) });
    const review = await listUnattached();
    assert.deepEqual(review.map((r) => [r.sourceHash, r.modelName]).sort(), [[a.sourceHash, "/m1/mergekit_output"], [b.sourceHash, "/m2/mergekit_output"]].sort());
  });
});
