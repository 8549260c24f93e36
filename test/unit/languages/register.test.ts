// Languages at registration and experiment creation: the FLORES-style code a
// checkpoint's trainer_state.json (or config.json) names is proposed, codes are
// stored as ISO 639-3 with the script kept once in the Language table, and an
// existing database gains the table and the dev-task column in place.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import Database from "better-sqlite3";
import { db } from "../../../server/db/client";
import { pushSchema } from "../../../server/db/schema-push";
import { AppError } from "../../../server/errors";
import { createExperiment } from "../../../server/services/experiments/store";
import { listLanguages } from "../../../server/services/languages/store";
import { registerFolder, registerModel, updateModel } from "../../../server/services/models/registry";
import { freshModelEnv, tinyFamily } from "../models/helpers";

const env = freshModelEnv("ms-lang-register-");
const family = path.join(env.root, "family");
after(() => env.cleanup());

function addToJson(file: string, extra: Record<string, unknown>) {
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    // absent: start empty
  }
  writeFileSync(file, JSON.stringify({ ...doc, ...extra }));
}

before(() => {
  tinyFamily(family, 3);
  // ct-2B: a run on Mingrelian, with an English eval set logged less often.
  addToJson(path.join(family, "ct-2B", "trainer_state.json"), {
    log_history: [{ step: 1, "eval_xka_Geor_loss": 2.5 }, { step: 2, "eval_xka_Geor_loss": 2.4, "eval_eng_Latn_loss": 1.2 }],
    args: { dataset_name: "corpora/xka_Geor" },
  });
  // ct-4B: only config.json names it.
  addToJson(path.join(family, "ct-4B", "config.json"), { mergescope_training_data: "cc100/xka_Geor" });
});

describe("languages at registration and experiment creation", () => {
  it("should propose the most frequent FLORES code of trainer_state.json and say where it came from", async () => {
    const r = await registerModel({ path: path.join(family, "ct-2B"), role: "CT" });
    assert.equal(r.model.language, "xka");
    assert.match(r.languageSource!, /^trainer_state\.json \(xka_Geor 3×; 1 other code less often\)$/);
    const lang = (await listLanguages()).find((l) => l.code === "xka")!;
    assert.equal(lang.script, "Geor");
    assert.equal(lang.flores, "xka_Geor");
  });

  it("should fall back to config.json, and let an entered language win with a warning", async () => {
    const r4 = await registerModel({ path: path.join(family, "ct-4B"), role: "CT" });
    assert.equal(r4.model.language, "xka");
    assert.match(r4.languageSource!, /^config\.json/);
    const r6 = await registerModel({ path: path.join(family, "ct-6B"), role: "CT", language: "kat" });
    assert.equal(r6.model.language, "kat");
    assert.equal(r6.languageSource, "entered");
    const base = await registerModel({ path: path.join(family, "base") });
    assert.equal(base.model.language, null);
    assert.equal(base.languageSource, null);
    // The user can still change a proposed language.
    assert.equal((await updateModel({ id: r6.model.id, language: "xka_Geor" })).language, "xka");
  });

  it("should refuse a 2-letter language at registration with the code to use", async () => {
    await assert.rejects(registerModel({ path: path.join(family, "sft"), language: "ka" }), (e: unknown) => e instanceof AppError && e.code === "BAD_INPUT" && /use the 3-letter ISO 639-3 code kat \(Georgian\)/.test(e.message));
    await assert.rejects(registerFolder({ path: family, language: "xx_Geor" }), /'xx_Geor' is a 2-letter code, not an ISO 639-1 language/);
  });

  it("should create an experiment for xka_Geor, storing the code, the script and the name once", async () => {
    const client = await db();
    const ids = Object.fromEntries((await client.model.findMany()).map((m) => [path.basename(m.path), m.id]));
    const sft = ids.sft ?? (await registerModel({ path: path.join(family, "sft"), role: "SFT" })).model.id;
    const e = await createExperiment({ name: "Mingrelian", language: "XKA_geor", languageName: "Mingrelian", baseModelId: ids.base!, sftModelId: sft, ctModelIds: [ids["ct-2B"]!, ids["ct-4B"]!] });
    assert.equal(e.language, "xka");
    const lang = await client.language.findUnique({ where: { code: "xka" } });
    assert.deepEqual([lang?.script, lang?.name], ["Geor", "Mingrelian"]);
    await assert.rejects(
      createExperiment({ name: "x", language: "kat", baseModelId: ids.base!, sftModelId: sft, ctModelIds: [ids["ct-2B"]!] }),
      /CT checkpoint 'ct-2B' is for language 'xka', the experiment for 'kat'/,
    );
    // The paper's seven are seeded, the new language listed with its name.
    const labels = (await listLanguages()).map((l) => l.label);
    assert.deepEqual(labels.slice(0, 7), ["Tamil (tam_Taml)", "Telugu (tel_Telu)", "Odia (ory_Orya)", "Bengali (ben_Beng)", "Tibetan (bod_Tibt)", "Uyghur (uig_Arab)", "Mongolian (traditional script) (mvf_Mong)"]);
    assert.ok(labels.includes("Mingrelian (xka_Geor)"));
    assert.ok(labels.includes("Georgian (kat)"));
  });

  it("should keep older rows with 2-letter codes working (read as the catalogue's code)", async () => {
    const client = await db();
    const legacy = await client.model.update({ where: { path: path.join(family, "ct-6B") }, data: { language: "ka" } });
    const base = await client.model.findFirstOrThrow({ where: { role: "BASE" } });
    const sft = await client.model.findFirstOrThrow({ where: { role: "SFT" } });
    const e = await createExperiment({ name: "Georgian", language: "kat", baseModelId: base.id, sftModelId: sft.id, ctModelIds: [legacy.id] });
    assert.equal(e.language, "kat");
    assert.ok((await listLanguages()).some((l) => l.code === "ka"), "a legacy code is still listed");
  });
});

describe("schema upgrade for languages", () => {
  it("should add the Language table and TaskMapping.devTask to an existing database, keeping its rows", async () => {
    const file = path.join(env.dir, "older.db");
    await pushSchema(file);
    const old = new Database(file);
    old.prepare("DROP TABLE Language").run();
    old.prepare("ALTER TABLE TaskMapping DROP COLUMN devTask").run();
    old.prepare("INSERT INTO TaskMapping (task, benchmark, language, metric, filter, scale, priority, isDefault, updatedAt) VALUES ('belebele_kat_Geor', 'Belebele', 'kat', 'acc', 'none', 100, 0, 0, 0)").run();
    old.prepare("INSERT INTO Experiment (id, name, language, createdAt) VALUES ('e1', 'old', 'te', 0)").run();
    old.close();
    const r = await pushSchema(file);
    assert.ok(r.executedSteps > 0);
    const up = new Database(file);
    assert.deepEqual(up.prepare("SELECT task, language, devTask FROM TaskMapping").all(), [{ task: "belebele_kat_Geor", language: "kat", devTask: null }]);
    assert.deepEqual(up.prepare("SELECT id, language FROM Experiment").all(), [{ id: "e1", language: "te" }]);
    assert.equal((up.prepare("SELECT count(*) AS n FROM Language").get() as { n: number }).n, 0);
    up.close();
    assert.equal((await pushSchema(file)).executedSteps, 0);
  });
});
