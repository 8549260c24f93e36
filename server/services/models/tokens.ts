// Continual-training token counts: "2B" / "800M" / "12.4B" strings, directory
// names (ct-2B, checkpoint-12.4B, run-800M) and Hugging Face trainer_state.json.
// Pure functions; counts are absolute numbers of tokens.

const UNITS: Record<string, number> = { k: 1e3, m: 1e6, b: 1e9, g: 1e9, t: 1e12 };

/** "2B" → 2e9, "800M" → 8e8, "1.5T", "500k", "2e9", "2,000,000,000"; null when unreadable. */
export function parseTokenCount(text: string): number | null {
  const s = text.trim().replace(/[,_\s]/g, "").replace(/tok(en)?s?$/i, "");
  if (s === "") return null;
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kmbgt])?$/i.exec(s);
  if (!m) return null;
  const value = Number(m[1]) * (m[2] ? UNITS[m[2].toLowerCase()]! : 1);
  return Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
}

/** 2e9 → "2B", 1.24e10 → "12.4B", 8e8 → "800M". */
export function formatTokens(tokens: number): string {
  const steps: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [scale, unit] of steps) {
    if (tokens >= scale) return `${Number((tokens / scale).toPrecision(4))}${unit}`;
  }
  return String(tokens);
}

const COUNT = String.raw`(\d+(?:\.\d+)?)([kmbgt])(?:tok(?:en)?s?)?`;
/** A count right after a keyword: ct-2B, checkpoint-12.4B, ckpt_800M, tokens-1.5T. */
const AFTER_KEYWORD = new RegExp(String.raw`(?:^|[^a-z])(?:ct|cpt|checkpoint|ckpt|tokens?|tok)[-_.]?${COUNT}(?![a-z0-9])`, "gi");
/** A count that ends the name: run-800M, nepali_2B, 2B. */
const AT_END = new RegExp(String.raw`(?:^|[-_.])${COUNT}$`, "i");

/** Token count written in a checkpoint directory name, or null. */
export function tokensFromDirName(name: string): number | null {
  const keyed = [...name.matchAll(AFTER_KEYWORD)].at(-1);
  const m = keyed ?? AT_END.exec(name);
  if (!m) return null;
  return parseTokenCount(`${m[1]}${m[2]}`);
}

export interface TrainerStateTokens {
  tokens: number;
  /** How the count was obtained, for the UI. */
  how: string;
}

function positive(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}

/**
 * Tokens seen according to a parsed trainer_state.json: `num_input_tokens_seen`
 * (top level, else the largest in `log_history`), else `global_step` × tokens per
 * step (given, or a `tokens_per_step` field in the state). Null when not obtainable.
 */
export function tokensFromTrainerState(state: unknown, tokensPerStep?: number | null): TrainerStateTokens | null {
  if (state === null || typeof state !== "object") return null;
  const s = state as Record<string, unknown>;
  if (positive(s.num_input_tokens_seen)) return { tokens: Math.round(s.num_input_tokens_seen), how: "num_input_tokens_seen" };
  if (Array.isArray(s.log_history)) {
    const seen = s.log_history
      .map((e) => (e !== null && typeof e === "object" ? (e as Record<string, unknown>).num_input_tokens_seen : undefined))
      .filter(positive);
    if (seen.length > 0) return { tokens: Math.round(Math.max(...seen)), how: "num_input_tokens_seen in log_history" };
  }
  const perStep = positive(tokensPerStep) ? tokensPerStep : positive(s.tokens_per_step) ? s.tokens_per_step : null;
  if (positive(s.global_step) && perStep !== null) {
    return { tokens: Math.round(s.global_step * perStep), how: `global_step ${s.global_step} × ${perStep} tokens per step` };
  }
  return null;
}
