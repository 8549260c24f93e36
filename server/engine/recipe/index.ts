export { RecipeError, formatIssue, type RecipeIssue } from "./errors";
export { loadRecipeFile } from "./load";
export { applyRecipeOverrides, type RecipeOverrides } from "./overrides";
export { parseRecipeYaml, type ParseRecipeOptions } from "./parse";
export { recipeToNativeRequest, type RecipeRequestOptions } from "./to-request";
export { recipeToYaml, type RecipeYamlOptions } from "./to-yaml";
export {
  MERGE_METHODS,
  RECIPE_DTYPES,
  computeDtypeOf,
  storageDtypeOf,
  torchDtypeName,
  type Recipe,
  type RecipeDtype,
  type RecipeModel,
} from "./types";
