// Synthetic model families generated inside the e2e server's data directory
// (its allowed model root), once per family name.
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateModelFamily } from "../../server/engine/synthetic/family";

export function e2eFamily(name: string, shape: { hidden: number; layers: number; vocab: number; ctCheckpoints: number }): string {
  const dataDir = process.env.E2E_DATA_DIR;
  if (!dataDir) throw new Error("E2E_DATA_DIR is not set (playwright.config.ts sets it)");
  const out = path.join(dataDir, "models", name);
  const done = path.join(out, ".complete");
  if (!existsSync(done)) {
    generateModelFamily({
      out,
      hidden: shape.hidden,
      layers: shape.layers,
      intermediate: shape.hidden * 2,
      vocab: shape.vocab,
      heads: 4,
      kvHeads: 2,
      ctCheckpoints: shape.ctCheckpoints,
      tokensPerCheckpoint: 2,
      dtype: "bf16",
      seed: 11,
      overwrite: true,
    });
    writeFileSync(done, "");
  }
  return out;
}

export function tiesRecipeYaml(ct: string, method: "ties" | "ties_sv" = "ties"): string {
  return [
    `merge_method: ${method}`,
    "base_model: ./base",
    "models:",
    "  - model: ./sft",
    "    parameters: { weight: 1.0, density: 0.2" + (method === "ties_sv" ? ", favored: true }" : " }"),
    `  - model: ./${ct}`,
    "    parameters: { weight: 1.0, density: 1.0 }",
    "parameters:",
    "  normalize: true",
    ...(method === "ties_sv" ? ["  slack: 0.04"] : []),
    "",
  ].join("\n");
}
