// builder.preview: the form's settings as a validated mergekit recipe.
import { METHOD_LABELS } from "../experiments/lineage";
import { usesDensity } from "./method-rules";
import { buildRecipeYaml, builderRecipeDir, loadModelRefs, validateRecipeYaml, type BuilderModelRef } from "./recipe-build";
import type { BuilderSettings, PreviewResult } from "./schemas";

/**
 * "TIES-SV ct-4B d=0.2/1 slack=0.04": the method, the last (CT) model and what varies
 * between jobs (densities; TIES-SV's slack; t for slerp), as the jobs list shows it.
 */
export function mergeLabel(s: BuilderSettings, refs: Map<string, BuilderModelRef>): string {
  const last = s.models.at(-1);
  const name = last ? (refs.get(last.modelId)?.name ?? "model") : "model";
  if (s.slices?.length) return `${METHOD_LABELS[s.method] ?? s.method} ${name} ${s.slices.length} slices`;
  const layered = s.parameters || s.models.some((m) => m.parameters) ? " per-layer" : "";
  const dens = usesDensity(s.method) ? ` d=${s.models.map((m) => m.density).join("/")}` : "";
  const t =
    s.method === "slerp" || s.method === "nearswap" ? ` t=${s.t}` : s.method === "sce" ? ` topk=${s.selectTopk}` : s.method === "ties_sv" ? ` slack=${s.slack}` : "";
  return `${METHOD_LABELS[s.method] ?? s.method} ${name}${dens}${t}${layered}`;
}

function fileNameOf(label: string): string {
  return `${label.toLowerCase().replace(/[^a-z0-9.]+/g, "-").replace(/^-+|-+$/g, "") || "recipe"}.yml`;
}

export async function previewRecipe(s: BuilderSettings): Promise<PreviewResult> {
  const refs = await loadModelRefs([s.baseModelId, ...s.models.map((m) => m.modelId), ...(s.slices ?? []).flatMap((x) => x.sources.map((src) => src.modelId))]);
  const built = buildRecipeYaml(s, refs);
  const recipeDir = builderRecipeDir();
  const label = mergeLabel(s, refs);
  const base = { recipeDir, label, fileName: fileNameOf(label) };
  if (built.issues.length > 0) return { ok: false, yaml: built.yaml, issues: built.issues, notes: [], ...base };
  const v = validateRecipeYaml(built.yaml, recipeDir);
  if (!v.ok) return { ok: false, yaml: built.yaml, issues: v.issues, notes: [], ...base };
  return { ok: true, yaml: v.yaml, issues: [], notes: v.recipe.notes, ...base };
}

