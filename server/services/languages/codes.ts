// Language codes as MergeScope stores them: the ISO 639-3 code (3 letters,
// `xka`) that experiments, models and catalogue rows carry, and optionally an
// ISO 15924 script (`Geor`) — together the FLORES-style code `xka_Geor` that
// trainer_state.json files and lm-eval task names use. Pure and browser-safe
// (the forms validate with it too): no server imports.
import { ISO_15924_SCRIPTS, ISO_639_1 } from "./iso639";

/** The paper's languages (Table 1) in its column order. */
export const PAPER_LANGUAGES = [
  { code: "tam", name: "Tamil", flores: "tam_Taml", iso1: "ta" },
  { code: "tel", name: "Telugu", flores: "tel_Telu", iso1: "te" },
  { code: "ory", name: "Odia", flores: "ory_Orya", iso1: "or" },
  { code: "ben", name: "Bengali", flores: "ben_Beng", iso1: "bn" },
  { code: "bod", name: "Tibetan", flores: "bod_Tibt", iso1: "bo" },
  { code: "uig", name: "Uyghur", flores: "uig_Arab", iso1: "ug" },
  { code: "mvf", name: "Mongolian (traditional script)", flores: "mvf_Mong", iso1: "mn" },
] as const;

export interface LanguageCode {
  /** ISO 639-3, lower case: what rows carry. */
  code: string;
  /** ISO 15924, title case (`Geor`), or null when not given. */
  script: string | null;
}

export type ParsedLanguage = { ok: true; value: LanguageCode } | { ok: false; error: string };

const BY_ISO1 = new Map(ISO_639_1.map(([iso1, iso3, name]) => [iso1, { iso3, name }]));
const NAME_BY_ISO3 = new Map<string, string>([...ISO_639_1.map(([, iso3, name]) => [iso3, name] as const), ...PAPER_LANGUAGES.map((l) => [l.code, l.name] as const)]);

const EXAMPLE = "e.g. ben, or with its script ben_Beng";

/** The message for a 2-letter ISO 639-1 code: which 3-letter code to use instead, when known. */
function twoLetterMessage(input: string, iso1: string): string {
  const hit = BY_ISO1.get(iso1);
  const paper = PAPER_LANGUAGES.find((l) => l.iso1 === iso1 && l.code !== hit?.iso3);
  if (!hit) return `'${input}' is a 2-letter code, not an ISO 639-1 language; language codes are 3-letter ISO 639-3 codes (${EXAMPLE})`;
  const also = paper ? `, or ${paper.code} (${paper.name}) as in the paper's catalogue` : "";
  return `'${input}' is a 2-letter ISO 639-1 code; use the 3-letter ISO 639-3 code ${hit.iso3} (${hit.name})${also}`;
}

/**
 * Parses `xka`, `xka_Geor`, `XKA_geor` or `xka-Geor` into { code: "xka", script: "Geor" }.
 * A 2-letter code is refused with the 3-letter code to use; anything else with what is expected.
 */
export function parseLanguageCode(input: string): ParsedLanguage {
  const text = input.trim();
  if (!text) return { ok: false, error: `a language code is required (${EXAMPLE})` };
  const m = /^([A-Za-z]+)(?:[_-]([A-Za-z]+))?$/.exec(text);
  if (!m) return { ok: false, error: `'${text}' is not a language code: expected an ISO 639-3 code of 3 letters, optionally with an ISO 15924 script of 4 letters (${EXAMPLE})` };
  const lang = m[1]!.toLowerCase();
  const script = m[2] ? m[2][0]!.toUpperCase() + m[2].slice(1).toLowerCase() : null;
  if (lang.length === 2) return { ok: false, error: twoLetterMessage(text, lang) };
  if (lang.length !== 3) return { ok: false, error: `'${text}': '${m[1]}' is not an ISO 639-3 code (3 letters, ${EXAMPLE})` };
  if (script !== null && script.length !== 4) return { ok: false, error: `'${text}': '${m[2]}' is not an ISO 15924 script code (4 letters, e.g. Latn, Geor, Beng)` };
  return { ok: true, value: { code: lang, script } };
}

/** `xka_Geor` (or `xka` without a script). */
export function formatLanguageCode(l: LanguageCode): string {
  return l.script ? `${l.code}_${l.script}` : l.code;
}

/** The canonical spelling of a valid code (`XKA_geor` → `xka_Geor`), or null when it does not parse. */
export function normalizeLanguageCode(input: string): string | null {
  const r = parseLanguageCode(input);
  return r.ok ? formatLanguageCode(r.value) : null;
}

/** The code rows carry for a code as typed in a filter (`xka_Geor` → `xka`); text that does not parse (a legacy `te`) is kept as is. */
export function languageKey(input: string): string {
  const r = parseLanguageCode(input);
  return r.ok ? r.value.code : input.trim();
}

/** The ISO 639-3 code of an ISO 639-1 code (`ne` → `nep`; the paper's choice for its languages: `or` → `ory`), or null. */
export function iso3FromIso1(iso1: string): string | null {
  const l = iso1.trim().toLowerCase();
  return PAPER_LANGUAGES.find((p) => p.iso1 === l)?.code ?? BY_ISO1.get(l)?.iso3 ?? null;
}

/** tel, te, Telugu, tel_Telu → the catalogue's code (tel); ne → nep: the code an experiment's stored language means (rows written before codes were checked may carry a 2-letter or FLORES code). */
export function catalogueLanguage(language: string): string {
  const l = language.trim().toLowerCase();
  const hit = PAPER_LANGUAGES.find((x) => x.code === l || x.iso1 === l || x.name.toLowerCase() === l || x.flores.toLowerCase() === l);
  return hit?.code ?? iso3FromIso1(l) ?? languageKey(l);
}

/** English name: the paper's languages and the ISO 639-1 set; otherwise the code itself. */
export function languageName(code: string): string {
  return NAME_BY_ISO3.get(code) ?? code;
}

/** True when `languageName` knows a name for the code (others need one from the user). */
export function hasBuiltInName(code: string): boolean {
  return NAME_BY_ISO3.has(code);
}

/** "Mingrelian (xka_Geor)", "Bengali (ben)", or the code alone when there is no name. */
export function languageLabel(l: LanguageCode & { name?: string | null }): string {
  const name = l.name || languageName(l.code);
  const code = formatLanguageCode(l);
  return name === l.code ? code : `${name} (${code})`;
}

/** Paper order first, then any other language codes alphabetically. */
export function sortLanguages(codes: Iterable<string>): string[] {
  const order = PAPER_LANGUAGES.map((l) => l.code as string);
  return [...new Set(codes)].sort((a, b) => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    if (ia >= 0 && ib >= 0) return ia - ib;
    if (ia >= 0) return -1;
    if (ib >= 0) return 1;
    return a.localeCompare(b);
  });
}

// A FLORES-style code inside a longer name: `belebele_xka_Geor`, `eval_xka_Geor_loss`,
// `data/xka_Geor.jsonl`. Letters or digits may not touch it; the script must be a real
// ISO 15924 code, so snake_case words (`max_Step`) are not taken for languages.
const FLORES_IN_TEXT = /(?<![A-Za-z0-9])([a-z]{3})_([A-Z][a-z]{3})(?![A-Za-z0-9])/g;

/** Every FLORES-style code in a string, in order. */
export function floresCodesIn(text: string): LanguageCode[] {
  const out: LanguageCode[] = [];
  for (const m of text.matchAll(FLORES_IN_TEXT)) if (ISO_15924_SCRIPTS.has(m[2]!)) out.push({ code: m[1]!, script: m[2]! });
  return out;
}

/** The language an lm-eval task name carries (`belebele_xka_Geor` → xka_Geor), or null. */
export function languageOfTaskName(task: string): LanguageCode | null {
  return floresCodesIn(task)[0] ?? null;
}

export interface DetectedLanguage extends LanguageCode {
  /** How many times the winning code occurs; `codes`: how many distinct codes were seen. */
  count: number;
  codes: number;
}

/**
 * The most frequent FLORES-style code among the keys and string values of a parsed JSON
 * document (ties: the first seen). Walks iteratively with a node budget: a trainer_state.json
 * can hold tens of thousands of log entries.
 */
export function mostFrequentFloresCode(doc: unknown, maxNodes = 2_000_000): DetectedLanguage | null {
  const counts = new Map<string, { l: LanguageCode; n: number; first: number }>();
  let seen = 0;
  const note = (text: string) => {
    for (const l of floresCodesIn(text)) {
      const k = formatLanguageCode(l);
      const c = counts.get(k) ?? { l, n: 0, first: seen++ };
      c.n++;
      counts.set(k, c);
    }
  };
  const stack: unknown[] = [doc];
  for (let visited = 0; stack.length > 0 && visited < maxNodes; visited++) {
    const v = stack.pop();
    if (typeof v === "string") note(v);
    else if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
    else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v as Record<string, unknown>);
      for (const [key] of entries) note(key);
      for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i]![1]);
    }
  }
  const best = [...counts.values()].sort((a, b) => b.n - a.n || a.first - b.first)[0];
  return best ? { ...best.l, count: best.n, codes: counts.size } : null;
}
