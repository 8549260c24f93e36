// Tokenizer merges (mergekit `tokenizer_source:` / `tokenizer:`): reads every input's
// tokenizer, builds the output vocabulary (vocab.ts), plans each input's embedding / lm_head
// rows in it (embed-rows.ts, applied natively as the tensors load) and reports what could not
// be merged. The output tokenizer files are written by write.ts.
import type { Recipe, RecipeTokenizer } from "../recipe/types";
import type { NativeEmbedRowMap } from "../types";
import { EngineError } from "../output/errors";
import { planEmbedRows, type EmbedRowStats, type RowInput, type TokenSetting } from "./embed-rows";
import { configVocabSize, hasTokenizerJson, modelFolder, readTokenizer, type ReadRoots, type TokenizerData } from "./read";
import { buildOutputVocab, permutation, strippedVocab, UNION_ORDER_RULE, type OutputVocab } from "./vocab";

export { writeTokenizerFiles } from "./write";
export { UNION_ORDER_RULE } from "./vocab";

/** One input of the native request: -1 = base, 0.. = models (request order). */
export interface TokenizerPlanInput {
  index: number;
  /** Model path (no LoRA): where its tokenizer and config.json are. */
  path: string;
  /** As written in the recipe (`model+lora`). */
  label: string;
  /** modelIdentity(): path, plus `+lora path`. */
  identity: string;
}

const SAMPLE = 50;

/** What the tokenizer merge did, for the statistics and the model card. */
export interface TokenizerReport {
  source: string;
  /** Output vocabulary (config vocab_size) and embedding rows (with pad_to_multiple_of). */
  vocab_size: number;
  embedding_rows: number;
  /** The deterministic numbering rule used where mergekit's is random (union only). */
  order_rule: string | null;
  inputs: { model: string; tokenizer_tokens: number; config_vocab_size: number | null; missing_tokens: number; tokenizer: "own" | "base's (none found)" }[];
  /** Embedding rows that cannot be merged: tokens only one model has (their rows are that model's). */
  not_merged: { count: number; tokens: EmbedRowStats["singleHolder"] };
  zero_rows: { count: number; tokens: EmbedRowStats["zero"] };
  averaged_rows: { count: number; tokens: EmbedRowStats["averaged"] };
  /** Tokens of the base tokenizer above its config vocab_size, dropped (mergekit strips them too). */
  stripped_from_base: number;
}

export interface TokenizerPlan {
  vocab: OutputVocab;
  /** Row map per native model index. */
  rowMaps: Map<number, NativeEmbedRowMap>;
  report: TokenizerReport;
  warnings: string[];
}

function sourceLabel(t: RecipeTokenizer): string {
  return t.source.kind === "model" ? (t.source.model.lora ? `${t.source.model.source}+${t.source.model.lora.source}` : t.source.model.source) : t.source.kind;
}

const identityOf = (ref: { path: string; lora?: { path: string } | null }) => (ref.lora ? `${ref.path}+${ref.lora.path}` : ref.path);

/** Plans a tokenizer merge for `recipe` over the request's inputs. */
/** `roots`: the folders the engine may read (the request's allowed roots; null for the local CLI). */
export function planTokenizer(recipe: Recipe, inputs: TokenizerPlanInput[], roots: ReadRoots = null): TokenizerPlan {
  const settings = recipe.tokenizer;
  if (!settings) throw new Error("planTokenizer needs a recipe with tokenizer settings");
  const warnings: string[] = [];
  const baseIdentity = recipe.basePath === null ? null : identityOf({ path: recipe.basePath, lora: recipe.baseLora });
  const tokBase = inputs.find((m) => m.identity === baseIdentity) ?? inputs[0]!;

  const cache = new Map<string, TokenizerData>();
  const read = (p: string) => {
    const dir = modelFolder(p);
    let t = cache.get(dir);
    if (!t) cache.set(dir, (t = readTokenizer(p, roots)));
    return t;
  };
  if (!hasTokenizerJson(tokBase.path)) {
    throw new EngineError(
      "MODEL_TOKENIZER_INVALID",
      `${settings.key} needs the base model's tokenizer.json, and ${modelFolder(tokBase.path)} has none (recipe says \`${tokBase.label}\`)`,
    );
  }
  const base = read(tokBase.path);
  const stripped = strippedVocab(base);
  // Per input: its own tokenizer, or (like mergekit when one cannot be loaded) the base's.
  const own = inputs.map((m) => {
    if (m === tokBase) return { data: { vocab: stripped.vocab, vocabSize: base.vocabSize }, tokens: stripped.vocab.size, own: true };
    if (hasTokenizerJson(m.path)) {
      const t = read(m.path);
      return { data: t, tokens: t.vocab.size, own: true };
    }
    warnings.push(`${m.label} has no tokenizer.json: its vocabulary is assumed to be the base model's (as mergekit does)`);
    return { data: { vocab: stripped.vocab, vocabSize: configVocabSize(m.path, roots) ?? stripped.vocab.size }, tokens: stripped.vocab.size, own: false };
  });
  const unionModels = [
    { ...base, vocab: stripped.vocab },
    ...inputs.flatMap((m, i) => (m === tokBase || !own[i]!.own ? [] : [own[i]!.data as TokenizerData])),
  ];
  const vocab = buildOutputVocab({
    source: settings.source.kind,
    base,
    models: unionModels,
    sourceTokenizer: settings.source.kind === "model" ? readTokenizer(settings.source.model.path, roots) : undefined,
    addTokens: settings.tokens.map((t) => t.token),
  });

  const rowInputs: RowInput[] = inputs.map((m, i) => ({
    index: m.index,
    label: m.label,
    identity: m.identity,
    perm: permutation(vocab, own[i]!.data),
    vocab: own[i]!.data.vocab,
  }));
  const tokenSettings = new Map<string, TokenSetting>();
  for (const t of settings.tokens) {
    const s = t.source;
    tokenSettings.set(
      t.token,
      s === null
        ? { kind: "none", force: t.force }
        : s.kind === "zero"
          ? { kind: "zero", force: t.force }
          : s.kind === "model"
            ? { kind: "model", identity: identityOf(s.model), force: t.force }
            : { kind: "model_token", identity: identityOf(s.model), tokenId: s.tokenId, token: s.token, force: t.force },
    );
  }
  const plan = planEmbedRows(vocab, rowInputs, baseIdentity, tokenSettings, settings.padToMultipleOf);

  const report: TokenizerReport = {
    source: sourceLabel(settings),
    vocab_size: vocab.tokens.length,
    embedding_rows: plan.rows,
    order_rule: settings.source.kind === "union" ? UNION_ORDER_RULE : null,
    inputs: inputs.map((m, i) => ({
      model: m.label,
      tokenizer_tokens: own[i]!.tokens,
      config_vocab_size: configVocabSize(m.path, roots),
      missing_tokens: plan.stats.missing[i]!.count,
      tokenizer: own[i]!.own ? "own" : "base's (none found)",
    })),
    not_merged: { count: plan.stats.singleHolder.length, tokens: plan.stats.singleHolder.slice(0, SAMPLE) },
    zero_rows: { count: plan.stats.zero.length, tokens: plan.stats.zero.slice(0, SAMPLE) },
    averaged_rows: { count: plan.stats.averaged.length, tokens: plan.stats.averaged.slice(0, SAMPLE) },
    stripped_from_base: stripped.stripped.size,
  };
  if (report.not_merged.count > 0) {
    const byModel = new Map<string, number>();
    for (const t of plan.stats.singleHolder) byModel.set(t.from, (byModel.get(t.from) ?? 0) + 1);
    warnings.push(
      `${report.not_merged.count} embedding row(s) could not be merged: their tokens exist in one model only (${[...byModel].map(([m, n]) => `${n} from ${m}`).join(", ")}); ` +
        "the output keeps that model's rows for them in every embedding / lm_head tensor (statistics: tokenizer.not_merged)",
    );
  }
  if (report.zero_rows.count > 0) warnings.push(`${report.zero_rows.count} output token(s) exist in no model: their embedding rows are zeros`);
  if (report.stripped_from_base > 0) {
    warnings.push(`${report.stripped_from_base} token(s) of the base tokenizer have ids at or above its config vocab_size (${base.vocabSize}) and were removed, as mergekit does`);
  }
  return { vocab, rowMaps: plan.maps, report, warnings };
}
