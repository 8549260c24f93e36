// The engine's side files (tokenizer.json, config.json, adapter_config.json) are opened
// with the same checks as every other file a user can name: regular files only (a FIFO
// cannot hang a worker), inside the allowed roots after links are resolved, size-capped.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { loadLoraAdapter } from "../../../server/engine/lora/adapter";
import { configVocabSize, readTokenizer } from "../../../server/engine/tokenizer/read";

const dir = mkdtempSync(path.join(os.tmpdir(), "ms-side-files-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const root = path.join(dir, "root");
const outside = path.join(dir, "outside");
mkdirSync(root);
mkdirSync(outside);

function model(name: string): string {
  const m = path.join(root, name);
  mkdirSync(m);
  return m;
}

describe("engine side files", () => {
  it("should refuse a FIFO tokenizer.json at once instead of blocking", () => {
    const m = model("fifo-tok");
    execFileSync("mkfifo", [path.join(m, "tokenizer.json")]);
    assert.throws(() => readTokenizer(m, [root]), (e: Error & { rule?: string }) => e.rule === "PATH_NOT_REGULAR" && /FIFO/.test(e.message));
  });

  it("should refuse a tokenizer.json that links out of the allowed roots", () => {
    const m = model("link-tok");
    writeFileSync(path.join(outside, "tokenizer.json"), JSON.stringify({ model: { type: "BPE", vocab: {} }, added_tokens: [] }));
    symlinkSync(path.join(outside, "tokenizer.json"), path.join(m, "tokenizer.json"));
    assert.throws(() => readTokenizer(m, [root]), (e: Error & { rule?: string }) => e.rule === "PATH_NOT_ALLOWED");
  });

  it("should still say what is missing when there is no tokenizer.json", () => {
    const m = model("no-tok");
    assert.throws(() => readTokenizer(m, [root]), (e: Error & { code?: string }) => e.code === "MODEL_TOKENIZER_INVALID" && /has no tokenizer\.json/.test(e.message));
  });

  it("should read config.json's vocab_size inside the roots and refuse a FIFO one", () => {
    const ok = model("cfg-ok");
    writeFileSync(path.join(ok, "config.json"), JSON.stringify({ vocab_size: 32000 }));
    assert.equal(configVocabSize(ok, [root]), 32000);
    assert.equal(configVocabSize(model("cfg-none"), [root]), null);
    const fifo = model("cfg-fifo");
    execFileSync("mkfifo", [path.join(fifo, "config.json")]);
    assert.throws(() => configVocabSize(fifo, [root]), (e: Error & { rule?: string }) => e.rule === "PATH_NOT_REGULAR");
  });

  it("should refuse a FIFO adapter_config.json and explain a missing one", () => {
    const fifo = model("lora-fifo");
    writeFileSync(path.join(fifo, "adapter_model.safetensors"), "");
    execFileSync("mkfifo", [path.join(fifo, "adapter_config.json")]);
    assert.throws(() => loadLoraAdapter(fifo, [root]), (e: Error & { rule?: string }) => e.rule === "PATH_NOT_REGULAR");
    const none = model("lora-none");
    assert.throws(() => loadLoraAdapter(none, [root]), (e: Error & { code?: string }) => e.code === "MODEL_NOT_FOUND" || e.code === "MODEL_LORA_INVALID");
  });
});
