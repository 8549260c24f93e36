// Reading a recipe file: relative model paths resolve against the file's own folder,
// so a recipe next to its checkpoints works from any working directory.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { RecipeError } from "./errors";
import { parseRecipeYaml } from "./parse";
import type { Recipe } from "./types";

export async function loadRecipeFile(file: string): Promise<Recipe> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (err as Error).message;
    throw new RecipeError([{ path: "", line: null, message: `cannot read recipe ${abs}: ${why}` }]);
  }
  try {
    return parseRecipeYaml(text, { recipeDir: path.dirname(abs) });
  } catch (err) {
    if (err instanceof RecipeError) {
      // Prefix the file so CLI and job logs say which recipe is wrong.
      throw new RecipeError(err.issues, abs);
    }
    throw err;
  }
}
