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
});
