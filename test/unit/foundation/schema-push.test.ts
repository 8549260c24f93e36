import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { pushSchema, schemaFilePath } from "../../../server/db/schema-push";

const dir = mkdtempSync(path.join(os.tmpdir(), "ms-schema-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function modelNames(): string[] {
  const schema = readFileSync(schemaFilePath(), "utf8");
  return [...schema.matchAll(/^model (\w+) \{/gm)].map((m) => m[1]!).sort();
}

describe("schema push (schema-engine-wasm, no binary engine)", () => {
  it("creates one table per model of prisma/schema.prisma, then is a no-op", async () => {
    const file = path.join(dir, "a.db");
    const first = await pushSchema(file);
    assert.ok(first.executedSteps > 0);
    const tables = new Database(file)
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all()
      .map((r) => (r as { name: string }).name)
      .sort();
    assert.deepEqual(tables, modelNames());
    const second = await pushSchema(file);
    assert.equal(second.executedSteps, 0);
  });

  it("adds a column when the schema gains one, keeping existing rows", async () => {
    const file = path.join(dir, "b.db");
    await pushSchema(file);
    const sqlite = new Database(file);
    sqlite.prepare("INSERT INTO SavedView (id, state) VALUES ('v1', '{}')").run();
    sqlite.prepare("ALTER TABLE SavedView DROP COLUMN createdAt").run();
    sqlite.close();
    const r = await pushSchema(file);
    assert.ok(r.executedSteps > 0);
    const row = new Database(file).prepare("SELECT id, state, createdAt FROM SavedView").get() as { id: string };
    assert.equal(row.id, "v1");
  });

  it("upgrades a database of the version before accounts without losing its rows", async () => {
    const file = path.join(dir, "c.db");
    await pushSchema(file, path.resolve("test/fixtures/schema/before-accounts.prisma"));
    const old = new Database(file);
    old.prepare("INSERT INTO Experiment (id, name, language, evalCommandTemplate, createdAt) VALUES ('e1', 'ben', 'ben', 'lm_eval {model} {out}', 0)").run();
    old.prepare("INSERT INTO Job (id, type, version, payload, idempotencyKey, experimentId, updatedAt) VALUES ('j1', 'merge', 1, '{}', 'k1', 'e1', 0)").run();
    old.prepare("INSERT INTO SavedView (id, state) VALUES ('v1', '{}')").run();
    old.close();
    const r = await pushSchema(file);
    assert.ok(r.executedSteps > 0);
    const db = new Database(file);
    assert.deepEqual(db.prepare("SELECT id, evalCommandTemplate, evalTemplateId, createdById FROM Experiment").all(), [{ id: "e1", evalCommandTemplate: "lm_eval {model} {out}", evalTemplateId: null, createdById: null }]);
    assert.deepEqual(db.prepare("SELECT id, experimentId, createdById FROM Job").all(), [{ id: "j1", experimentId: "e1", createdById: null }]);
    assert.deepEqual(db.prepare("SELECT id, createdById FROM SavedView").all(), [{ id: "v1", createdById: null }]);
    for (const table of ["User", "Session", "Account", "Verification", "Apikey", "Invite", "EvalTemplate", "PublicLink"])
      assert.equal((db.prepare("SELECT count(*) AS n FROM " + table).get() as { n: number }).n, 0, table);
    db.close();
    assert.equal((await pushSchema(file)).executedSteps, 0);
  });
});
