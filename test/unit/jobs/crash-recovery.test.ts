// A sweep of 12 merges through real worker processes: one worker is killed
// with SIGKILL mid-merge and the whole pool is restarted once. Every job must
// end done, none lost or duplicated, every output identical (sha256) to a
// serial in-process run, and no staging folder left behind.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { db } from "../../../server/db/client";
import { merge } from "../../../server/engine/merge";
import { verifyOutput } from "../../../server/engine/output";
import { parseRecipeYaml } from "../../../server/engine/recipe";
import { enqueueSweep } from "../../../server/services/sweeps/sweep";
import { freshDataDir, tiesRecipe, tinyFamily } from "./helpers";

const env = freshDataDir("ms-crash-");
const family = path.join(env.dir, "family");
const workers = new Set<ChildProcess>();

function startWorker(): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "server/worker/main.ts"], {
    env: { ...process.env, MERGESCOPE_WORKERS: "2" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  workers.add(child);
  child.on("exit", () => workers.delete(child));
  return child;
}

async function stopAll(signal: NodeJS.Signals): Promise<void> {
  const exits = [...workers].map((w) => new Promise((r) => w.once("exit", r)));
  for (const w of workers) w.kill(signal);
  await Promise.all(exits);
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 180_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

before(() => {
  // ~28M parameters per model: a merge takes long enough to be killed in the middle.
  tinyFamily(family, { ctCheckpoints: 3, hidden: 512, layers: 4, vocab: 16000 });
});
after(async () => {
  await stopAll("SIGKILL");
  await env.cleanup();
});

describe("job queue under worker crashes", () => {
  it("should finish a 12-merge sweep exactly once despite kill -9 and a restart", async () => {
    const { jobs, created } = await enqueueSweep({
      type: "merge",
      recipeYaml: tiesRecipe(family, "ct-2B"),
      recipeDir: family,
      checkpoints: ["./ct-2B", "./ct-4B", "./ct-6B"],
      methods: ["ties", "ties_sv"],
      densities: [[0.2, 0.4], [1.0]],
    });
    assert.equal(created, 12);
    startWorker();
    startWorker();
    const client = await db();

    // Kill -9 the worker of a merge that is under way.
    const victim = await waitFor("a running merge", async () =>
      client.job.findFirst({ where: { status: "running", startedAt: { lt: new Date(Date.now() - 150) } } }),
    );
    const pid = Number(victim.leaseOwner!.split("/")[1]);
    const killed = [...workers].find((w) => w.pid === pid);
    assert.ok(killed, `worker ${pid} of job ${victim.id} is one of ours`);
    killed.kill("SIGKILL");
    await new Promise((r) => killed.once("exit", r));
    startWorker();

    // Restart the whole pool once while work is still queued.
    await waitFor("more progress", async () => (await client.job.count({ where: { status: "done" } })) >= 3);
    await stopAll("SIGTERM");
    startWorker();
    startWorker();

    await waitFor("every job to finish", async () => (await client.job.count({ where: { status: { in: ["queued", "running"] } } })) === 0);
    const rows = await client.job.findMany({ where: { id: { in: jobs.map((j) => j.id) } } });
    assert.deepEqual(rows.map((r) => r.status).sort(), new Array(12).fill("done"));
    const victimRow = rows.find((r) => r.id === victim.id)!;
    assert.ok(victimRow.attempts >= 2, "the killed job ran again");

    // One output per job, no duplicates, no staging left behind.
    const mergesDir = path.join(env.dir, "data", "merges");
    await waitFor("stale staging swept", async () => !readdirSync(mergesDir).some((n) => n.includes(".staging-")), 10_000);
    const outputs = readdirSync(mergesDir).sort();
    assert.equal(outputs.length, 12);
    assert.equal(new Set(rows.map((r) => r.outputPath)).size, 12);

    // Every output verifies and equals a serial in-process run bit for bit.
    const serialDir = mkdtempSync(path.join(env.dir, "serial-"));
    for (const row of rows) {
      assert.ok(existsSync(row.outputPath!));
      const verified = await verifyOutput(row.outputPath!);
      assert.ok(verified.ok, JSON.stringify(verified.problems));
      const payload = JSON.parse(row.payload) as { recipeYaml: string; recipeDir: string };
      const serial = await merge(parseRecipeYaml(payload.recipeYaml, { recipeDir: payload.recipeDir }), path.join(serialDir, row.id));
      const shardHashes = (dir: string) => JSON.parse(readFileSync(path.join(dir, "mergescope-manifest.json"), "utf8")).files.filter((f: { path: string }) => f.path.endsWith(".safetensors"));
      assert.deepEqual(shardHashes(serial.outDir), shardHashes(row.outputPath!), `job ${row.id} output equals the serial run`);
    }
  });
});
