// Paths are checked where files are opened, not only where they arrive: jobs
// accepted at enqueue, then a folder or file is swapped for a symlink leading
// out of the roots (or for a FIFO) before a worker runs them. The worker's
// open (the engine's descriptor check, server/paths for side and results files)
// refuses with PATH_NOT_ALLOWED / PATH_NOT_REGULAR, publishes nothing and
// leaks nothing of the outside file.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { env as settings } from "../../../server/env";
import { closeOffloadThreads } from "../../../server/offload/pool";
import { claimJob } from "../../../server/jobs/embedded/lease";
import { enqueueJob, getJob } from "../../../server/jobs/client";
import { runClaimedJob } from "../helpers/run-claimed-job";
import { freshModelEnv, tinyFamily } from "../models/helpers";

const env = freshModelEnv("ms-worker-paths-");
const never = new AbortController().signal;
let family: string;
let outside: string;
after(async () => {
  await closeOffloadThreads();
  await env.cleanup();
});
before(() => {
  family = path.join(env.root, "family");
  tinyFamily(family, 2);
  outside = path.join(env.dir, "outside");
  mkdirSync(outside, { recursive: true });
});

async function runNext() {
  const job = await claimJob(`test/${process.pid}/w`);
  assert.ok(job, "a job is queued");
  const outcome = await runClaimedJob(job, never);
  return { outcome, details: await getJob(job.id) };
}

/** A private copy of a family member (each test swaps its own). */
function copyModel(name: string, as: string): string {
  const to = path.join(env.root, as);
  cpSync(path.join(family, name), to, { recursive: true });
  return to;
}

function recipe(base: string, ct: string): string {
  return `merge_method: ties\nbase_model: ${base}\nmodels:\n  - model: ${path.join(family, "sft")}\n    parameters: { weight: 1.0, density: 0.5 }\n  - model: ${ct}\n    parameters: { weight: 1.0, density: 1.0 }\n`;
}

describe("paths re-checked in the worker", () => {
  it("should refuse a checked folder swapped for a symlink out between enqueue and run", async () => {
    const ct = copyModel("ct-2B", "swap-ct");
    const { created } = await enqueueJob({ type: "analyze", payload: { recipeYaml: recipe(path.join(family, "base"), ct), recipeDir: env.root } });
    assert.ok(created, "accepted at enqueue: the folder is inside the root");
    // The swap: the folder moves out and a symlink to it takes its place.
    renameSync(ct, path.join(outside, "swap-ct"));
    symlinkSync(path.join(outside, "swap-ct"), ct);
    const { outcome, details } = await runNext();
    assert.equal(outcome, "failed");
    assert.equal(details.job.errorCode, "PATH_NOT_ALLOWED");
    assert.match(details.job.errorMessage ?? "", new RegExp(`${ct} resolves to ${path.join(outside, "swap-ct")}, which is outside the allowed model roots`));
  });

  it("should refuse a shard swapped for a symlink out inside a model folder", async () => {
    const ct = copyModel("ct-4B", "swap-shard");
    await enqueueJob({ type: "merge", payload: { recipeYaml: recipe(path.join(family, "base"), ct), recipeDir: env.root } });
    cpSync(path.join(ct, "model.safetensors"), path.join(outside, "shard.safetensors"));
    rmSync(path.join(ct, "model.safetensors"));
    symlinkSync(path.join(outside, "shard.safetensors"), path.join(ct, "model.safetensors"));
    const { outcome, details } = await runNext();
    assert.equal(outcome, "failed");
    assert.equal(details.job.errorCode, "PATH_NOT_ALLOWED");
    assert.match(details.job.errorMessage ?? "", /swap-shard\/model\.safetensors resolves to .*outside\/shard\.safetensors/);
    const merges = settings().outputDir;
    assert.deepEqual(existsSync(merges) ? readdirSync(merges).filter((f) => !f.startsWith(".")) : [], [], "nothing published");
  });

  it("should refuse a base model's tokenizer or config that leads out of the roots, or is a FIFO, when the merge copies it", async () => {
    const base = copyModel("base", "side-base");
    await enqueueJob({ type: "merge", payload: { recipeYaml: recipe(base, path.join(family, "ct-2B")), recipeDir: env.root } });
    writeFileSync(path.join(outside, "tokenizer.json"), '{"secret": "TOKENIZER-SECRET"}');
    symlinkSync(path.join(outside, "tokenizer.json"), path.join(base, "tokenizer.json"));
    const linked = await runNext();
    assert.equal(linked.outcome, "failed");
    assert.equal(linked.details.job.errorCode, "PATH_NOT_ALLOWED");
    assert.match(linked.details.job.errorMessage ?? "", /side-base\/tokenizer\.json" resolves to/);
    assert.doesNotMatch(linked.details.job.errorMessage ?? "", /TOKENIZER-SECRET/);

    const fifoBase = copyModel("base", "fifo-base");
    await enqueueJob({ type: "merge", payload: { recipeYaml: recipe(fifoBase, path.join(family, "ct-2B")), recipeDir: env.root } });
    rmSync(path.join(fifoBase, "config.json"));
    execFileSync("mkfifo", [path.join(fifoBase, "config.json")]);
    const fifo = await runNext(); // would hang forever on a blocking open of the FIFO
    assert.equal(fifo.outcome, "failed");
    assert.equal(fifo.details.job.errorCode, "PATH_NOT_REGULAR");
    assert.match(fifo.details.job.errorMessage ?? "", /config\.json" is a FIFO \(named pipe\), not a regular file/);
  });

  it("should refuse a results file swapped for a symlink out (or a FIFO) before the import job reads it, leaking nothing", async () => {
    const dir = path.join(env.root, "evals");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, "results_a.json");
    writeFileSync(file, JSON.stringify({ results: { t: { "acc,none": 0.5 } }, model_name: "m" }));
    await enqueueJob({ type: "import-scores", payload: { paths: [file] } });
    writeFileSync(path.join(outside, "results_secret.json"), JSON.stringify({ results: { t: { "acc,none": 0.9 } }, model_name: "RESULTS-SECRET" }));
    rmSync(file);
    symlinkSync(path.join(outside, "results_secret.json"), file);
    const linked = await runNext();
    assert.equal(linked.outcome, "failed");
    assert.equal(linked.details.job.errorCode, "PATH_NOT_ALLOWED");
    assert.doesNotMatch(JSON.stringify(linked.details), /RESULTS-SECRET/);

    const other = path.join(dir, "results_b.json");
    writeFileSync(other, JSON.stringify({ results: { t: { "acc,none": 0.5 } }, model_name: "m2" }));
    await enqueueJob({ type: "import-scores", payload: { paths: [other] } });
    rmSync(other);
    execFileSync("mkfifo", [other]);
    const fifo = await runNext();
    assert.equal(fifo.outcome, "failed");
    assert.equal(fifo.details.job.errorCode, "PATH_NOT_REGULAR");
    assert.ok(existsSync(other));
  });
});
