// `tokenizer_source:` and the `tokenizer:` block (mergekit TokenizerConfig) → RecipeTokenizer.
// Types and keys are checked by schema.ts; this resolves the model references and applies
// mergekit's rules (not both keys; `tokenizer.source` defaults to union; token sources must
// name a model of the merge).
import type { ResolvedModelRef } from "../model-ref/parse-ref";
import type { RawRecipe } from "./schema";
import type { RecipeModelRef, RecipeTokenEmbeddingSource, RecipeTokenizer } from "./types";

type YamlPath = PropertyKey[];

export interface TokenizerParseContext {
  resolve: (p: YamlPath, v: unknown) => ResolvedModelRef | null;
  /** The merge's models (base first), to match token sources against. */
  models: RecipeModelRef[];
  fail: (p: YamlPath, message: string) => void;
}

const key = (r: { path: string; lora: { path: string } | null }) => (r.lora ? `${r.path}+${r.lora.path}` : r.path);

function toModelRef(r: ResolvedModelRef): RecipeModelRef {
  return { path: r.model.path, source: r.model.source, lora: r.lora };
}

function parseSource(v: unknown, p: YamlPath, ctx: TokenizerParseContext): RecipeTokenizer["source"] | null {
  if (v === "base" || v === "union") return { kind: v };
  const ref = ctx.resolve(p, v);
  return ref === null ? null : { kind: "model", model: toModelRef(ref) };
}

function mergeModel(v: unknown, p: YamlPath, ctx: TokenizerParseContext): RecipeModelRef | null {
  const ref = ctx.resolve(p, v);
  if (ref === null) return null;
  const want = key({ path: ref.model.path, lora: ref.lora });
  const found = ctx.models.find((m) => key(m) === want);
  if (!found) {
    ctx.fail(p, `\`${typeof v === "string" ? v : want}\` is not one of the merged models (mergekit: "Model referenced but not part of merge"); name a model of the recipe`);
    return null;
  }
  return found;
}

function parseTokenSource(v: unknown, p: YamlPath, ctx: TokenizerParseContext): RecipeTokenEmbeddingSource | null | undefined {
  if (v == null) return null;
  if (typeof v === "object" && !Array.isArray(v) && "kind" in (v as object)) {
    const o = v as Record<string, unknown>;
    if (o.kind === "zero") {
      const extra = Object.keys(o).filter((k) => k !== "kind");
      if (extra.length > 0) ctx.fail([...p, extra[0]!], "`kind: zero` takes no other keys");
      return { kind: "zero" };
    }
    if (o.kind === "model_token") {
      const extra = Object.keys(o).filter((k) => !["kind", "model", "token_id", "token"].includes(k));
      if (extra.length > 0) ctx.fail([...p, extra[0]!], `unknown key \`${extra[0]}\` (supported: kind, model, token_id, token)`);
      const hasId = o.token_id != null;
      const hasToken = o.token != null;
      if (hasId === hasToken) {
        ctx.fail(p, "`kind: model_token` needs exactly one of `token_id` and `token`");
        return undefined;
      }
      if (hasId && !(Number.isSafeInteger(o.token_id) && (o.token_id as number) >= 0)) {
        ctx.fail([...p, "token_id"], "expected an integer >= 0");
        return undefined;
      }
      if (hasToken && typeof o.token !== "string") {
        ctx.fail([...p, "token"], "expected a token string");
        return undefined;
      }
      const model = mergeModel(o.model, [...p, "model"], ctx);
      if (model === null) return undefined;
      return { kind: "model_token", model, tokenId: hasId ? (o.token_id as number) : null, token: hasToken ? (o.token as string) : null };
    }
    ctx.fail([...p, "kind"], `expected \`zero\` or \`model_token\`, got ${JSON.stringify(o.kind)}`);
    return undefined;
  }
  const model = mergeModel(v, p, ctx);
  return model === null ? undefined : { kind: "model", model };
}

export function parseTokenizerSettings(raw: RawRecipe, ctx: TokenizerParseContext): RecipeTokenizer | null {
  if (raw.tokenizer_source != null && raw.tokenizer != null) {
    ctx.fail(["tokenizer"], "give either `tokenizer_source` or `tokenizer`, not both (mergekit refuses both)");
    return null;
  }
  if (raw.tokenizer_source != null) {
    const source = parseSource(raw.tokenizer_source, ["tokenizer_source"], ctx);
    return source === null ? null : { key: "tokenizer_source", source, tokens: [], padToMultipleOf: null };
  }
  if (raw.tokenizer == null) return null;
  const block = raw.tokenizer;
  const source = block.source === undefined ? ({ kind: "union" } as const) : parseSource(block.source, ["tokenizer", "source"], ctx);
  const tokens: RecipeTokenizer["tokens"] = [];
  for (const [token, cfg] of Object.entries(block.tokens ?? {})) {
    const parsed = parseTokenSource(cfg.source, ["tokenizer", "tokens", token, "source"], ctx);
    if (parsed === undefined) continue;
    tokens.push({ token, source: parsed, force: cfg.force ?? false });
  }
  if (source === null) return null;
  return { key: "tokenizer", source, tokens, padToMultipleOf: block.pad_to_multiple_of ?? null };
}
