// Settings a caller (the CLI's --seed / --tie-order / --random) puts over a parsed recipe, with
// the rules the parser applies to the same recipe keys (parse.ts): a setting the method does not
// use is noted, one it cannot take is refused.
import type { RandomStream, TieOrder } from "../types";
import { RecipeError } from "./errors";
import { DELLA_METHODS, RANDOM_METHODS, RANKING_METHODS, type Recipe } from "./types";

export interface RecipeOverrides {
  seed?: number;
  tieOrder?: TieOrder;
  randomStream?: RandomStream;
}

export function applyRecipeOverrides(recipe: Recipe, o: RecipeOverrides): Recipe {
  const out: Recipe = { ...recipe, notes: [...recipe.notes] };
  const m = recipe.method;
  if (o.seed !== undefined) {
    if (!RANDOM_METHODS.includes(m)) out.notes.push(`--seed only affects ${RANDOM_METHODS.join(", ")}; it has no effect on ${m}`);
    out.seed = o.seed;
  }
  if (o.tieOrder !== undefined) {
    if (!RANKING_METHODS.includes(m)) out.notes.push(`--tie-order only affects ${RANKING_METHODS.join(", ")}; it has no effect on ${m}`);
    else out.tieOrder = o.tieOrder;
  }
  if (o.randomStream !== undefined) {
    if (DELLA_METHODS.includes(m)) {
      if (o.randomStream === "counter") {
        throw new RecipeError([{ path: "", line: null, message: `${m} draws its keep masks from mergekit's random stream only; drop --random counter` }]);
      }
    } else if (m === "dare_linear" || m === "dare_ties") out.randomStream = o.randomStream;
    else out.notes.push(`--random only affects dare_linear and dare_ties; it has no effect on ${m}`);
  }
  return out;
}
