import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { anonymousCaller, callerAs } from "../../support/auth";
import { createTRPCRouter, unauthenticatedProcedure, createCallerFactory } from "../../../server/api/trpc";
import { closeDb } from "../../../server/db/client";
import { resetEnvCache } from "../../../server/env";
import { MERGE_METHODS } from "../../../server/engine/types";
import { AppError } from "../../../server/errors";

const dir = mkdtempSync(path.join(os.tmpdir(), "ms-health-"));
process.env.MERGESCOPE_DATA_DIR = path.join(dir, "data");
resetEnvCache();
after(async () => {
  await closeDb();
  rmSync(dir, { recursive: true, force: true });
});

describe("health.status", () => {
  it("creates the data directory and reports db, queue and native engine healthy", async () => {
    const caller = await callerAs("viewer");
    const s = await caller.health.status();
    assert.equal(s.db.ok, true, s.db.detail);
    assert.equal(s.db.file, path.join(dir, "data", "mergescope.db"));
    assert.equal(s.queue.ok, true);
    assert.equal(s.queue.mode, "embedded");
    assert.equal(s.native.ok, true, s.native.detail);
    assert.match(s.native.version ?? "", /^\d+\.\d+\.\d+$/);
    // One source: the engine reports every method it runs, the same list the recipe/builder layer uses.
    assert.deepEqual([...s.native.methods].sort(), [...MERGE_METHODS].sort());
    assert.equal(s.ok, true);
  });

  it("tells a signed-out caller only whether each part works", async () => {
    const s = await (await anonymousCaller()).health.status(); // health is open to anyone
    assert.equal(s.ok, true);
    assert.deepEqual([s.db.ok, s.queue.ok, s.native.ok], [true, true, true]);
    assert.equal(s.db.file, "", "no database location");
    assert.deepEqual(s.queue.counts, {}, "no job counts");
    assert.deepEqual([s.native.version, s.native.methods], [null, []]);
  });
});

describe("error formatter", () => {
  const router = createTRPCRouter({
    missing: unauthenticatedProcedure
      .input(z.object({ id: z.string() }))
      .output(z.null())
      .query(({ input }) => {
        throw new AppError("NOT_FOUND", `model ${input.id} not found`);
      }),
    engine: unauthenticatedProcedure.output(z.null()).query(() => {
      throw new AppError("ENGINE", "bad header", { engineCode: "ST_HEADER_TOO_LARGE" });
    }),
  });
  const caller = createCallerFactory(router)({ headers: new Headers(), principal: { kind: "anonymous", reason: "test" } });

  it("maps AppError codes to tRPC codes", async () => {
    await assert.rejects(caller.missing({ id: "x" }), (err: unknown) => {
      assert.ok(err instanceof TRPCError);
      assert.equal(err.code, "NOT_FOUND");
      assert.equal(err.message, "model x not found");
      return true;
    });
    await assert.rejects(caller.engine(), (err: unknown) => {
      assert.ok(err instanceof TRPCError);
      assert.equal(err.code, "UNPROCESSABLE_CONTENT");
      assert.equal((err.cause as AppError).engineCode, "ST_HEADER_TOO_LARGE");
      return true;
    });
  });

  it("rejects invalid input before the procedure runs", async () => {
    await assert.rejects(caller.missing({ id: 3 as unknown as string }), (err: unknown) => {
      assert.ok(err instanceof TRPCError);
      assert.equal(err.code, "BAD_REQUEST");
      return true;
    });
  });
});
