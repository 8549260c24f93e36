// A model root full of traps, and the payloads that try to use them to read
// outside it (issue #12: traversal, absolute, symlinks out at any depth,
// sibling prefixes, encodings, NUL, long, unicode, edge whitespace, shard and
// index symlinks, FIFOs). Every payload must be refused.
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { inspectModel } from "../../../server/engine/native-merge";
import { normalizePath } from "../../../server/paths/normalize";

export interface EscapeTree {
  dir: string;
  root: string;
  outside: string;
  /** A valid checkpoint inside the root (the control: it is accepted). */
  inside: string;
  secret: string;
}

export const SECRET = "TOP-SECRET-CONTENT-42";

/**
 * Builds the traps under `dir` (whose `models/` is the allowed root and `family/`
 * inside it a valid model family) — `family` must already hold base, sft, ct-2B.
 */
export function buildEscapeTree(dir: string, family: string): EscapeTree {
  const root = path.join(dir, "models");
  const outside = path.join(dir, "outside");
  const model = path.join(outside, "model");
  mkdirSync(outside, { recursive: true });
  cpSync(path.join(family, "ct-2B"), model, { recursive: true });
  const secret = path.join(outside, "secret.json");
  writeFileSync(secret, `{"results": {"t": {"acc,none": 0.5}}, "note": "${SECRET}"}`);
  writeFileSync(path.join(outside, "passwd"), `root:x:0:0:${SECRET}:/root:/bin/sh\n`);
  const link = (target: string, at: string) => {
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(target, at);
  };
  link(model, path.join(root, "link-out"));
  link(model, path.join(root, "deep", "a", "b", "link-out"));
  link(outside, path.join(root, "dirlink"));
  link(path.join(root, "chain2"), path.join(root, "chain1"));
  link(model, path.join(root, "chain2"));
  link("../outside/model", path.join(root, "rel"));
  link(path.join(root, "loop2"), path.join(root, "loop1"));
  link(path.join(root, "loop1"), path.join(root, "loop2"));
  link(secret, path.join(root, "results_link.json"));
  link(path.join(outside, "passwd"), path.join(root, "passwd-link.json"));
  link(outside, path.join(root, "evals-out"));
  // "trail" is a real model inside; "trail " (and tab, newline variants) are links out: a check
  // that trims and an open that does not would read the outside one.
  cpSync(path.join(family, "ct-2B"), path.join(root, "trail"), { recursive: true });
  for (const ws of [" ", "\t", "\n", "\r\n", "\u00a0"]) link(model, path.join(root, `trail${ws}`));
  // A model folder inside whose shard, index or tokenizer leads out.
  const shard = path.join(root, "shardlink");
  cpSync(path.join(family, "ct-2B"), shard, { recursive: true });
  rmSync(path.join(shard, "model.safetensors"));
  link(path.join(model, "model.safetensors"), path.join(shard, "model.safetensors"));
  // The sharded layout: the index names a shard file that is a link out.
  const indexed = path.join(root, "indexlink");
  cpSync(path.join(family, "ct-2B"), indexed, { recursive: true });
  const names = inspectModel(path.join(indexed, "model.safetensors")).tensors.map((x) => x.name);
  rmSync(path.join(indexed, "model.safetensors"));
  writeFileSync(path.join(indexed, "model.safetensors.index.json"), JSON.stringify({ weight_map: Object.fromEntries(names.map((n) => [n, "model-00001-of-00001.safetensors"])) }));
  link(path.join(model, "model.safetensors"), path.join(indexed, "model-00001-of-00001.safetensors"));
  // Siblings sharing the root's prefix.
  cpSync(path.join(family, "ct-2B"), path.join(dir, "models-evil", "model"), { recursive: true });
  cpSync(path.join(family, "ct-2B"), path.join(dir, "modelsevil"), { recursive: true });
  // A FIFO where a model file and a results file would be.
  const fifoModel = path.join(root, "fifo-model");
  cpSync(path.join(family, "ct-2B"), fifoModel, { recursive: true });
  rmSync(path.join(fifoModel, "config.json"));
  execFileSync("mkfifo", [path.join(fifoModel, "config.json")]);
  execFileSync("mkfifo", [path.join(root, "results_fifo.json")]);
  return { dir, root, outside, inside: path.join(family, "ct-2B"), secret };
}

/** Every payload must be refused (none names a usable path inside the root). */
export function escapePayloads(t: EscapeTree): { name: string; path: string }[] {
  const r = t.root;
  const p: [string, string][] = [
    // traversal
    ["dotdot", `${r}/../outside/model`],
    ["dotdot-deep", `${r}/family/../../outside/model`],
    ["dot-dotdot", `${r}/./../outside/model`],
    ["double-slash-dotdot", `${r}//../outside/model`],
    ["dotdot-from-model", `${r}/family/ct-2B/../../../outside/model`],
    ["dotdot-many", `${r}/${"../".repeat(20)}etc/passwd`],
    ["dotdot-secret", `${r}/../outside/secret.json`],
    // absolute
    ["etc-passwd", "/etc/passwd"],
    ["etc", "/etc"],
    ["filesystem-root", "/"],
    ["proc-environ", "/proc/self/environ"],
    ["proc-root", "/proc/self/root/etc/passwd"],
    ["dev-zero", "/dev/zero"],
    ["dev-stdin", "/dev/stdin"],
    ["outside-abs", `${t.outside}/model`],
    ["outside-secret", t.secret],
    // symlinks that leave the root, at any depth
    ["link-out", `${r}/link-out`],
    ["link-out-slash", `${r}/link-out/`],
    ["link-out-dot", `${r}/link-out/.`],
    ["link-out-file", `${r}/link-out/model.safetensors`],
    ["link-deep", `${r}/deep/a/b/link-out`],
    ["dir-link", `${r}/dirlink/model`],
    ["dir-link-secret", `${r}/dirlink/secret.json`],
    ["chain", `${r}/chain1`],
    ["relative-link", `${r}/rel`],
    ["loop", `${r}/loop1`],
    ["results-link", `${r}/results_link.json`],
    ["passwd-link", `${r}/passwd-link.json`],
    ["folder-link", `${r}/evals-out`],
    // a model folder inside whose weights lead out
    ["shard-link", `${r}/shardlink`],
    ["indexed-shard-link", `${r}/indexlink`],
    // sibling prefixes
    ["sibling", `${t.dir}/models-evil/model`],
    ["sibling-joined", `${t.dir}/modelsevil`],
    ["sibling-dotdot", `${r}/../models-evil/model`],
    // encodings (used literally: nothing is URL-decoded)
    ["percent-dotdot", `${r}/%2e%2e/outside/model`],
    ["percent-slash", `${r}/..%2foutside%2fmodel`],
    ["backslash", `${r}/..\\outside\\model`],
    ["fullwidth-dots", `${r}/\uff0e\uff0e/outside/model`],
    ["one-dot-leader", `${r}/\u2024\u2024/outside/model`],
    ["file-url", `file://${t.outside}/model`],
    ["tilde", "~/.ssh/id_rsa"],
    // NUL
    ["nul-truncate", `${r}/family/ct-2B\u0000/../../../outside/model`],
    ["nul-end", `${r}/link-out\u0000`],
    ["nul-only", "\u0000"],
    // long
    ["long-name", `${r}/${"a".repeat(300)}`],
    ["long-path", `${r}/${"a/".repeat(2100)}`],
    ["long-abs", `/${"x".repeat(5000)}`],
    // unicode
    ["cyrillic-lookalike", `${r}/famil\u0443/ct-2B`],
    ["zero-width", `${r}/family\u200b/ct-2B`],
    ["rtl-override", `${r}/\u202eledom/../link-out`],
    ["lone-surrogate", `${r}/\ud800/model`],
    ["nbsp-end", `${r}/trail\u00a0`],
    ["line-separator", `${r}/family/ct-2B\u2028`],
    // edge whitespace, tab, newline (the trimmed check vs untrimmed open of issue #12)
    ["trailing-space", `${r}/trail `],
    ["trailing-tab", `${r}/trail\t`],
    ["trailing-newline", `${r}/trail\n`],
    ["trailing-crlf", `${r}/trail\r\n`],
    ["leading-space", ` ${r}/trail`],
    ["vertical-tab", `${r}/trail\u000b`],
    // relative and empty
    ["relative", "models/family/ct-2B"],
    ["relative-dotdot", "../outside/model"],
    ["empty", ""],
    ["blank", "   "],
    ["dot", "."],
    // not regular files
    ["fifo-config", `${r}/fifo-model`],
    ["fifo-results", `${r}/results_fifo.json`],
  ];
  return p.map(([name, path]) => ({ name, path }));
}

/**
 * How a refusal may show the path: verbatim, JSON-quoted, its start (long ones), or the
 * normalized form the check and the open both use (`a/../b` → `b`).
 */
export function namesPath(message: string, p: string): boolean {
  const forms = [p, JSON.stringify(p).slice(1, 200), JSON.stringify(p.slice(0, 100)).slice(1, -1)];
  try {
    forms.push(normalizePath(p));
  } catch {
    // text refused by the normalization: the forms above apply
  }
  return forms.some((f) => f.length > 0 && message.includes(f));
}

/** Words of the rules a refusal may cite. */
export const RULE =
  /outside the allowed|not an absolute path|NUL byte|control character|whitespace|longer than|not valid Unicode|does not exist|no such file|not a regular file|not a folder|FIFO|is empty|levels of symlinks|levels of symbolic links|not a registered model|holds no|holds safetensors weights|no safetensors weights|is a directory|is a file|resolves to/i;
