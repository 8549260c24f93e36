// README.md of a merged model: Hugging Face front matter, the recipe as mergekit YAML and
// what the merge did (per-model trim/election totals, sign conflicts).
import { stringify } from "yaml";
import { recipeToYaml } from "../recipe/to-yaml";
import type { Recipe } from "../recipe/types";
import { modelOrderRule } from "../recipe/newer-methods";
import { markdownTable, methodStatLines, modelTotalsTable, signConflictLine } from "../stats/summary";
import type { StatsReport } from "../stats/report";

const METHOD_TITLES: Record<Recipe["method"], string> = {
  linear: "linear (weighted average)",
  task_arithmetic: "task arithmetic",
  ties: "TIES",
  ties_sv: "TIES-SV (TIES with a slack variable for the favored model)",
  breadcrumbs: "Model Breadcrumbs (magnitude outliers removed, task arithmetic)",
  breadcrumbs_ties: "Model Breadcrumbs with TIES sign election",
  dare_linear: "DARE (random drop and L1 rescale, task arithmetic)",
  dare_ties: "DARE with TIES sign election",
  slerp: "SLERP (spherical interpolation)",
  model_stock: "Model Stock",
  passthrough: "passthrough (tensors copied, optionally scaled; layer slices)",
  della: "DELLA (magnitude-ranked random drop and L1 rescale, TIES sign election)",
  della_linear: "DELLA (magnitude-ranked random drop and L1 rescale, task arithmetic)",
  sce: "SCE (select by variance, calculate weights, erase minority signs)",
  nuslerp: "NuSLERP (spherical interpolation of two models)",
  multislerp: "Multi-SLERP (barycentric interpolation on the hypersphere)",
  karcher: "Karcher mean (Riemannian mean on the hypersphere)",
  arcee_fusion: "Arcee Fusion (importance-masked task vector)",
  nearswap: "NearSwap (take the model's value where it is close to the base)",
};

export interface ModelCardInput {
  title: string;
  recipe: Recipe;
  stats: StatsReport;
  engineVersion: string;
}

/** How the merge resolved what mergekit leaves to its sort order and its random generator. */
function reproducibility(stats: StatsReport): string[] {
  const lines: string[] = [];
  if (stats.tie_order === "mergekit") {
    lines.push("- Magnitude ties at a trim threshold: mergekit's order (the entries torch's sort places first), as mergekit keeps them.");
  } else if (stats.tie_order === "index") {
    lines.push(
      "- Magnitude ties at a trim threshold: lowest flat index first (`tie_order: index`); mergekit keeps the entries its sort places first, so values at tied positions can differ from mergekit's output.",
    );
  }
  if (stats.random?.stream === "mergekit") {
    lines.push(
      `- Random keep masks: mergekit's stream, torch's MT19937 seeded with ${stats.random.seed} as by \`mergekit-yaml --random-seed ${stats.random.seed}\` (one draw per element, tensors in name order).`,
    );
  } else if (stats.random?.stream === "counter") {
    lines.push(
      `- Random keep masks: MergeScope's counter-based generator, seed ${stats.random.seed} (each draw depends only on the seed, tensor name, model and element; not mergekit's stream).`,
    );
  }
  return lines.length > 0 ? ["## Reproducibility", "", ...lines, ""] : [];
}

export function buildModelCard({ title, recipe, stats, engineVersion }: ModelCardInput): string {
  const sources = recipe.baseSource !== null ? [recipe.baseSource] : recipe.models.map((m) => m.source);
  const frontMatter = stringify({ tags: ["merge", "mergescope"], base_model: sources.length === 1 ? sources[0] : sources, library_name: "transformers" });
  const lines = [
    "---",
    frontMatter.trimEnd(),
    "---",
    `# ${title}`,
    "",
    `This model is a merge made with MergeScope (native engine ${engineVersion}) using the ${METHOD_TITLES[recipe.method]} method` +
      (recipe.baseSource !== null && recipe.method !== "linear" ? `, with \`${recipe.baseSource}\` as the base model.` : "."),
    "",
    "## Recipe",
    "",
    "```yaml",
    recipeToYaml(recipe, { paths: "as-written" }).trimEnd(),
    "```",
    "",
    ...reproducibility(stats),
    "## Merge statistics",
    "",
    ...markdownTable(modelTotalsTable(stats)),
  ];
  const conflicts = signConflictLine(stats);
  if (conflicts) {
    lines.push(
      "",
      `${conflicts[0]!.toUpperCase()}${conflicts.slice(1)}.`,
      "",
      "*nnz trimmed*: non-zero entries of the model's task vector after magnitude trimming; " +
        "*discarded*: of those, entries whose sign lost the election; *rescued*: (TIES-SV) lost entries kept thanks to the slack.",
    );
  }
  const extra = methodStatLines(stats);
  if (extra.length > 0) lines.push("", ...extra.map((l) => `${l[0]!.toUpperCase()}${l.slice(1)}.`));
  const order = modelOrderRule(recipe.method, recipe.models.length);
  if (order) lines.push("", `**Model order.** ${order}`);
  lines.push(
    "",
    `${stats.totals.tensors} tensors, ${stats.totals.numel.toLocaleString("en-US")} parameters. ` +
      "Per-tensor, per-layer and per-module statistics: `mergescope analyze <recipe> --json`.",
  );
  for (const w of stats.warnings) lines.push("", `> Warning: ${w}`);
  return `${lines.join("\n")}\n`;
}
