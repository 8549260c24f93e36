// Writes while another SQLite connection holds the write lock (as a job worker
// does): the retry helper waits and succeeds, passes other errors through at
// once, and gives up with a clear error after its bound; transactions take the
// lock when they begin; a score import — the "Operation has timed out" —
// succeeds and stays idempotent. The lock is held by a real second connection.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { db, writeTransaction } from "../../../server/db/client";
import { isBusyError, withDbRetry } from "../../../server/db/retry";
import { env as appEnv } from "../../../server/env";
import { AppError } from "../../../server/errors";
import { importResultsText, listImports } from "../../../server/services/scores/import";
import { freshDataDir, resultsFile } from "../scores/helpers";

const env = freshDataDir("ms-db-retry-");
let other: Database.Database;

before(async () => {
  await db(); // schema applied
  // The other process's connection; timeout 0: it never waits itself.
  other = new Database(appEnv().databaseFile, { timeout: 0 });
  other.pragma("journal_mode = WAL");
});
after(async () => {
  if (other.inTransaction) other.exec("ROLLBACK");
  other.close();
  await env.cleanup();
});

/** Holds the write lock on the other connection for `ms`, then commits. */
function holdLock(ms: number): Promise<void> {
  other.exec("BEGIN IMMEDIATE");
  other.prepare("UPDATE TaskMapping SET priority = priority WHERE 0").run();
  return new Promise((resolve) =>
    setTimeout(() => {
      other.exec("COMMIT");
      resolve();
    }, ms),
  );
}

async function experimentCount(name: string): Promise<number> {
  return (await db()).experiment.count({ where: { name } });
}

describe("Database writes under a held write lock", () => {
  it("should retry a busy write transaction and succeed once the lock is released", async () => {
    const released = holdLock(400);
    const retries: number[] = [];
    const row = await writeTransaction("creating experiment a", (tx) => tx.experiment.create({ data: { name: "retry-a", language: "ne" } }), {
      retry: { onRetry: (r) => retries.push(r.delayMs) },
    });
    await released;
    assert.ok(retries.length >= 1, "the transaction met the lock and was retried");
    assert.equal(row.name, "retry-a");
    assert.equal(await experimentCount("retry-a"), 1, "written once");
  });

  it("should retry a single statement outside a transaction (the client waits asynchronously)", async () => {
    const released = holdLock(400);
    const t0 = Date.now();
    await (await db()).experiment.create({ data: { name: "retry-b", language: "ne" } });
    const waited = Date.now() - t0;
    await released;
    assert.ok(waited >= 300, `the statement waited for the lock (${waited} ms)`);
    assert.equal(await experimentCount("retry-b"), 1);
  });

  it("should retry a transaction opened directly on the client, as libraries do (Better Auth)", async () => {
    const released = holdLock(400);
    const t0 = Date.now();
    const client = await db();
    await client.$transaction(async (tx) => {
      await tx.experiment.count();
      await tx.experiment.create({ data: { name: "retry-f", language: "ne" } });
    });
    const waited = Date.now() - t0;
    await released;
    assert.ok(waited >= 300, `the transaction waited for the lock (${waited} ms)`);
    assert.equal(await experimentCount("retry-f"), 1);
  });

  it("should retry raw better-sqlite3 SQLITE_BUSY errors", async () => {
    const mine = new Database(appEnv().databaseFile, { timeout: 0 });
    try {
      const released = holdLock(300);
      let attempts = 0;
      const r = await withDbRetry("raw insert", async () => {
        attempts++;
        return mine.prepare("INSERT INTO Experiment (id, name, language) VALUES ('raw-c', 'retry-c', 'ne')").run();
      });
      await released;
      assert.equal(r.changes, 1);
      assert.ok(attempts >= 2, `retried (${attempts} attempts)`);
    } finally {
      mine.close();
    }
  });

  it("should pass errors other than busy through at once, without retrying", async () => {
    let retried = 0;
    await (await db()).experiment.create({ data: { id: "dup-d", name: "retry-d", language: "ne" } });
    await assert.rejects(
      writeTransaction("duplicate id", (tx) => tx.experiment.create({ data: { id: "dup-d", name: "retry-d2", language: "ne" } }), { retry: { onRetry: () => retried++ } }),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, "P2002", "the unique-constraint error itself");
        assert.equal(isBusyError(err), false);
        return true;
      },
    );
    let calls = 0;
    await assert.rejects(
      withDbRetry("plain failure", async () => {
        calls++;
        throw new Error("not a lock");
      }),
      /not a lock/,
    );
    assert.equal(retried, 0);
    assert.equal(calls, 1);
  });

  it("should give up after its bound with an error that names the write, and write nothing", async () => {
    const released = holdLock(1500);
    const t0 = Date.now();
    await assert.rejects(
      writeTransaction("creating experiment e", (tx) => tx.experiment.create({ data: { name: "retry-e", language: "ne" } }), { retry: { budgetMs: 300 } }),
      (err: unknown) => {
        assert.ok(err instanceof AppError, `an AppError, got ${String(err)}`);
        assert.equal(err.code, "UNAVAILABLE");
        assert.match(err.message, /^creating experiment e: the database stayed locked by another process for \d+\.\d s \(\d+ attempts\); nothing was written — try again$/);
        assert.ok(isBusyError(err.cause), "the busy error is kept as the cause");
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 1200, "gave up before the lock was released");
    await released;
    assert.equal(await experimentCount("retry-e"), 0);
  });

  it("should take the write lock when a transaction begins (BEGIN IMMEDIATE), so a read-then-write transaction is never refused mid-way", async () => {
    await writeTransaction("read only so far", async (tx) => {
      await tx.experiment.count();
      // Another connection cannot take the lock now: ours was taken at BEGIN, before any write.
      assert.throws(() => other.exec("BEGIN IMMEDIATE"), (err: unknown) => isBusyError(err));
    });
    other.exec("BEGIN IMMEDIATE"); // free again after the commit
    other.exec("ROLLBACK");
  });

  it("should import a results file while another connection holds the lock, and not duplicate it when both race", async () => {
    // Before the fix: "Invalid prisma.score.createMany() invocation: Operation has timed out".
    const text = resultsFile({ pretrained: "/models/under-lock", scores: { arc_easy: { "acc,none": 0.5 }, hellaswag: { "acc,none": 0.4, "acc_norm,none": 0.45 } } });
    const released = holdLock(500);
    const [a, b] = await Promise.all([importResultsText({ fileName: "a.json", text }), importResultsText({ fileName: "b.json", text })]);
    await released;
    assert.equal(a.created + b.created, 3, "3 scores created once between the two");
    const client = await db();
    assert.equal(await client.score.count({ where: { modelName: "/models/under-lock" } }), 3);
    assert.equal((await listImports()).filter((i) => i.modelName === "/models/under-lock").length, 1);
  });
});
