// The pure half of builder.parseYaml (runs on an offload thread): validate a
// pasted recipe and find, for each merged model, its entry in the YAML (index
// and line) so issues point at the right line. Linear in the number of models:
// each raw entry is resolved once into a map (the old findIndex + path.resolve
// per model was quadratic — 11,500 models froze the server for 46 s).
import { isMap, isSeq, LineCounter, parseDocument } from "yaml";
import { normalizePath } from "../../paths/normalize";
import { validateRecipeYaml, type Validated } from "./validate";

export interface PastedRecipe {
  validated: Validated;
  /** Lines of merge_method and base_model (null when absent). */
  lines: { mergeMethod: number | null; baseModel: number | null };
  /** Per recipe model (recipe order): its index in the YAML `models:` list and the line of its `model:`. */
  models: { rawIndex: number; line: number | null }[];
  /** Line of each slice source's `model:` (slices[i].sources[j]); empty without slices. */
  sliceSourceLines: (number | null)[][];
}

export function analyzePastedRecipe(text: string, recipeDir: string): PastedRecipe {
  const validated = validateRecipeYaml(text, recipeDir);
  if (!validated.ok) return { validated, lines: { mergeMethod: null, baseModel: null }, models: [], sliceSourceLines: [] };
  // Valid, so within the size limit; only node positions are read (no alias expansion).
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const lineOf = (node: unknown) => {
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    return range ? lc.linePos(range[0]).line : null;
  };
  const seq = doc.get("models", true);
  const entries = isSeq(seq) ? seq.items : [];
  const bySource = new Map<string, number>();
  const byPath = new Map<string, number>();
  entries.forEach((it, i) => {
    const ref = isMap(it) ? it.get("model") : undefined;
    if (typeof ref !== "string") return;
    if (!bySource.has(ref)) bySource.set(ref, i);
    try {
      const p = normalizePath(ref, "model path", { relativeTo: recipeDir });
      if (!byPath.has(p)) byPath.set(p, i);
    } catch {
      // the recipe is valid, so every reference resolved; nothing to map otherwise
    }
  });
  const models = validated.recipe.models.map((m) => {
    const rawIndex = bySource.get(m.source) ?? byPath.get(m.path) ?? 0;
    const entry = entries[rawIndex];
    return { rawIndex, line: lineOf(isMap(entry) ? entry.get("model", true) : entry) };
  });
  const slices = doc.get("slices", true);
  const sliceSourceLines = (isSeq(slices) ? slices.items : []).map((slice) => {
    const sources = isMap(slice) ? slice.get("sources", true) : undefined;
    return (isSeq(sources) ? sources.items : []).map((src) => lineOf(isMap(src) ? src.get("model", true) : src));
  });
  return {
    validated,
    lines: { mergeMethod: lineOf(doc.get("merge_method", true)), baseModel: lineOf(doc.get("base_model", true)) },
    models,
    sliceSourceLines,
  };
}
