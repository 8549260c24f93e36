// A merged model is often shared publicly: what the output folder says about its inputs must
// not reveal this machine's folders. Inputs are named as the recipe wrote them (relative paths,
// Hugging Face ids); an input the recipe gave as an absolute path (e.g. a recipe built in the
// dashboard from registered models) is named by its folder name only.
import path from "node:path";
import type { Recipe } from "../recipe/types";

/** The public name of one input: its recipe text, or the folder name of an absolute path. */
export function publicSource(source: string): string {
  return path.isAbsolute(source) ? path.basename(source) : source;
}

/** Replaces every input's absolute path (resolved or as written) in `text` by its public name. */
export function publicPathRewriter(recipe: Recipe): (text: string) => string {
  const pairs = new Map<string, string>();
  const add = (p: string | null | undefined, source: string | null | undefined) => {
    if (!p || !source) return;
    const name = publicSource(source);
    if (p !== name) pairs.set(p, name);
    if (source !== name) pairs.set(source, name);
  };
  add(recipe.basePath, recipe.baseSource);
  add(recipe.baseLora?.path, recipe.baseLora?.source);
  for (const m of recipe.models) {
    add(m.path, m.source);
    add(m.lora?.path, m.lora?.source);
  }
  if (recipe.tokenizer?.source.kind === "model") add(recipe.tokenizer.source.model.path, recipe.tokenizer.source.model.source);
  const ordered = [...pairs].sort((a, b) => b[0].length - a[0].length);
  return (text) => ordered.reduce((t, [p, name]) => t.split(p).join(name), text);
}
