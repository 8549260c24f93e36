// Shared by the engine-api tests: temporary folders, the native-binding guard, and golden
// mergekit recipes made runnable (the golden YAML names `./model_a`, the files are
// `model_a.safetensors`; count-consensus cases need our `consensus: count` extension).
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse, stringify } from "yaml";
import { loadNative } from "@/server/engine/native";
import { GOLDEN_DIR, type GoldenCase } from "../engine/golden-fixtures";

export function tempDir(t: { after(fn: () => void): void }, prefix = "ms-engine-api-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** false when the native merge binding is usable, else why the end-to-end tests are skipped. */
export function nativeMergeSkipReason(): string | false {
  try {
    const addon = loadNative() as unknown as Record<string, unknown>;
    if (typeof addon.startMerge !== "function") {
      return "native addon has no startMerge yet (the merge binding is not built); run `npm run build:native` once it exists";
    }
    return false;
  } catch (err) {
    return `native addon not loadable: ${(err as Error).message}`;
  }
}

export interface GoldenCaseFull extends GoldenCase {
  mergekit_yaml_expected: string | null;
  mergekit_yaml_native: string | null;
}

export function caseDir(id: string): string {
  return path.join(GOLDEN_DIR, id);
}

/** The golden YAML with file names that exist and the case's consensus made explicit. */
export function runnableGoldenYaml(c: GoldenCaseFull, yamlText: string): string {
  const doc = parse(yamlText) as { base_model?: string; models: { model: string }[]; parameters?: Record<string, unknown> };
  const file = (ref: string) => `${ref}.safetensors`;
  if (doc.base_model) doc.base_model = file(doc.base_model);
  for (const m of doc.models) m.model = file(m.model);
  if (c.consensus === "count") doc.parameters = { ...doc.parameters, consensus: "count" };
  return stringify(doc);
}
