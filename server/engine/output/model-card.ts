// README.md of a merged model: Hugging Face front matter, the recipe as mergekit YAML and
// what the merge did (per-model trim/election totals, sign conflicts, tokenizer, LoRA).
// Like mergekit's card, `base_model` lists only Hugging Face ids (models and adapters
// referenced as org/name), never local paths: a merged model is often shared publicly.
import { stringify } from "yaml";
import { recipeToYaml } from "../recipe/to-yaml";
import type { Recipe } from "../recipe/types";
import { modelOrderRule } from "../recipe/newer-methods";
import { markdownTable, methodStatLines, modelTotalsTable, signConflictLine } from "../stats/summary";
import type { StatsReport } from "../stats/report";
import { publicPathRewriter } from "./public-paths";

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

/** Hugging Face ids the recipe references (models, then their adapters), in recipe order, once each. */
export function hubBaseModels(recipe: Recipe): string[] {
  const ids: string[] = [];
  // Only ids actually found in the Hugging Face cache (a merge cannot run without them anyway).
  const add = (hf: { id: string; commit: string | null } | null | undefined) => {
    if (hf?.commit && !ids.includes(hf.id)) ids.push(hf.id);
  };
  add(recipe.baseHf);
  add(recipe.baseLora?.hf);
  for (const m of recipe.models) {
    add(m.hf);
    add(m.lora?.hf);
  }
  return ids;
}

function tokenizerLines(stats: StatsReport, local: (s: string) => string): string[] {
  const t = stats.tokenizer;
  if (!t) return [];
  const lines = [
    "## Tokenizer",
    "",
    `Tokenizer source: \`${local(t.source)}\`; output vocabulary ${t.vocab_size} tokens` +
      (t.embedding_rows !== t.vocab_size ? ` (${t.embedding_rows} embedding rows with padding)` : "") +
      ". Embedding and output-projection rows were re-indexed by token into the output vocabulary before merging (mergekit's rule).",
  ];
  if (t.order_rule) lines.push("", `Token numbering: ${t.order_rule}.`);
  lines.push(
    "",
    ...markdownTable({
      header: ["model", "tokenizer tokens", "config vocab_size", "output tokens it lacks"],
      rows: t.inputs.map((m) => [local(m.model), String(m.tokenizer_tokens), m.config_vocab_size === null ? "-" : String(m.config_vocab_size), String(m.missing_tokens)]),
    }),
  );
  if (t.not_merged.count > 0) {
    const shown = t.not_merged.tokens.slice(0, 20).map((x) => `\`${JSON.stringify(x.token).slice(1, -1)}\``).join(", ");
    lines.push(
      "",
      `${t.not_merged.count} embedding row(s) could not be merged because only one model has the token; they keep that model's rows: ${shown}${t.not_merged.count > 20 ? ", ..." : ""}.`,
    );
  }
  if (t.zero_rows.count > 0) lines.push("", `${t.zero_rows.count} token(s) exist in no model; their rows are zeros.`);
  if (t.averaged_rows.count > 0) lines.push("", `${t.averaged_rows.count} token(s) missing from the base take the average of the models that have them.`);
  return [...lines, ""];
}

function loraLines(stats: StatsReport, local: (s: string) => string): string[] {
  if (!stats.loras || stats.loras.length === 0) return [];
  return [
    "## LoRA adapters",
    "",
    "Applied to their model's weights before merging: W' = W + (B·A)·scale in float32, rounded to the weight's dtype (as peft's merge_and_unload).",
    "",
    ...markdownTable({
      header: ["model", "adapter", "r", "lora_alpha", "scale", "tensors changed"],
      rows: stats.loras.map((l) => [local(l.model), local(l.adapter), String(l.r), String(l.lora_alpha), `${l.scale}${l.use_rslora ? " (rsLoRA)" : ""}`, String(l.tensors)]),
    }),
    "",
  ];
}

export function buildModelCard({ title, recipe, stats, engineVersion }: ModelCardInput): string {
  const local = publicPathRewriter(recipe);
  const frontMatter = stringify({ base_model: hubBaseModels(recipe), library_name: "transformers", tags: ["merge", "mergekit", "mergescope"] });
  const baseText =
    recipe.baseSource !== null && recipe.method !== "linear"
      ? `, with \`${local(recipe.baseLora ? `${recipe.baseSource}+${recipe.baseLora.source}` : recipe.baseSource)}\` as the base model.`
      : ".";
  const lines = [
    "---",
    frontMatter.trimEnd(),
    "---",
    `# ${title}`,
    "",
    `This model is a merge made with MergeScope (native engine ${engineVersion}) using the ${METHOD_TITLES[recipe.method]} method${baseText}`,
    "",
    "## Recipe",
    "",
    "```yaml",
    local(recipeToYaml(recipe, { paths: "as-written" })).trimEnd(),
    "```",
    "",
    ...reproducibility(stats),
    ...tokenizerLines(stats, local),
    ...loraLines(stats, local),
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
  for (const w of stats.warnings) lines.push("", `> Warning: ${local(w)}`);
  return `${lines.join("\n")}\n`;
}

