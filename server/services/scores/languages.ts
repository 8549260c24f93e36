// The paper's languages (Table 1) in its column order. No server imports: the
// browser uses this module too.
export const PAPER_LANGUAGES = [
  { code: "tam", name: "Tamil", flores: "tam_Taml", iso1: "ta" },
  { code: "tel", name: "Telugu", flores: "tel_Telu", iso1: "te" },
  { code: "ory", name: "Odia", flores: "ory_Orya", iso1: "or" },
  { code: "ben", name: "Bengali", flores: "ben_Beng", iso1: "bn" },
  { code: "bod", name: "Tibetan", flores: "bod_Tibt", iso1: "bo" },
  { code: "uig", name: "Uyghur", flores: "uig_Arab", iso1: "ug" },
  { code: "mvf", name: "Mongolian (traditional script)", flores: "mvf_Mong", iso1: "mn" },
] as const;

export function languageName(code: string): string {
  return PAPER_LANGUAGES.find((l) => l.code === code)?.name ?? code;
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

export const EXAMPLE_EVAL_TEMPLATE = "lm_eval --model hf --model_args pretrained={model},dtype=bfloat16 --tasks {tasks} --output_path {out}";
