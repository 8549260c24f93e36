// The language-code module: parsing and normalising ISO 639-3 (+ ISO 15924 script)
// codes, refusing 2-letter codes with the code to use, names, and finding
// FLORES-style codes in task names and trainer_state.json documents.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  catalogueLanguage,
  floresCodesIn,
  iso3FromIso1,
  languageLabel,
  languageName,
  languageOfTaskName,
  mostFrequentFloresCode,
  normalizeLanguageCode,
  parseLanguageCode,
} from "../../../server/services/languages/codes";
import { ISO_639_1 } from "../../../server/services/languages/iso639";
import { languageCodeInput, optionalLanguageCodeInput } from "../../../server/services/languages/schemas";

const error = (input: string) => {
  const r = parseLanguageCode(input);
  assert.equal(r.ok, false, `${input} should be refused`);
  return (r as { error: string }).error;
};

describe("language codes", () => {
  it("should parse a 3-letter code, with or without a script, in any case and with _ or -", () => {
    assert.deepEqual(parseLanguageCode("xka"), { ok: true, value: { code: "xka", script: null } });
    assert.deepEqual(parseLanguageCode("xka_Geor"), { ok: true, value: { code: "xka", script: "Geor" } });
    assert.deepEqual(parseLanguageCode("XKA_geor"), { ok: true, value: { code: "xka", script: "Geor" } });
    assert.deepEqual(parseLanguageCode("  ben-BENG "), { ok: true, value: { code: "ben", script: "Beng" } });
    assert.equal(normalizeLanguageCode("UIG_arab"), "uig_Arab");
    assert.equal(normalizeLanguageCode("te"), null);
  });

  it("should refuse a 2-letter code naming the 3-letter code (and the paper's choice where it differs)", () => {
    assert.equal(error("ne"), "'ne' is a 2-letter ISO 639-1 code; use the 3-letter ISO 639-3 code nep (Nepali)");
    assert.match(error("te"), /use the 3-letter ISO 639-3 code tel \(Telugu\)$/);
    assert.match(error("KA_Geor"), /'KA_Geor' is a 2-letter ISO 639-1 code; use the 3-letter ISO 639-3 code kat \(Georgian\)/);
    // Odia: ISO 639-1 `or` is the macrolanguage ori; the paper's catalogue uses ory.
    assert.match(error("or"), /code ori \(Oriya\), or ory \(Odia\) as in the paper's catalogue/);
    assert.match(error("zz"), /'zz' is a 2-letter code, not an ISO 639-1 language; language codes are 3-letter ISO 639-3 codes/);
  });

  it("should refuse garbage with what is expected", () => {
    assert.match(error(""), /a language code is required/);
    assert.match(error("Nepali"), /'Nepali' is not an ISO 639-3 code \(3 letters/);
    assert.match(error("ben_Bengali"), /'Bengali' is not an ISO 15924 script code \(4 letters/);
    assert.match(error("ben_Beng_x"), /not a language code: expected an ISO 639-3 code of 3 letters, optionally with an ISO 15924 script/);
    assert.match(error("b3n"), /not a language code/);
    assert.match(error("x"), /'x' is not an ISO 639-3 code/);
  });

  it("should embed the ISO 639-1 table: 184 languages, unique codes, 3-letter targets", () => {
    assert.equal(ISO_639_1.length, 184);
    assert.equal(new Set(ISO_639_1.map((r) => r[0])).size, 184);
    assert.equal(new Set(ISO_639_1.map((r) => r[1])).size, 184);
    for (const [iso1, iso3, name] of ISO_639_1) assert.ok(/^[a-z]{2}$/.test(iso1) && /^[a-z]{3}$/.test(iso3) && name.length > 1, iso1);
    assert.equal(iso3FromIso1("de"), "deu");
    assert.equal(iso3FromIso1("mn"), "mvf"); // the paper's Mongolian
    assert.equal(iso3FromIso1("xx"), null);
  });

  it("should name the paper's and the ISO 639-1 languages, otherwise show the code", () => {
    assert.equal(languageName("ory"), "Odia");
    assert.equal(languageName("kat"), "Georgian");
    assert.equal(languageName("xka"), "xka");
    assert.equal(languageLabel({ code: "xka", script: "Geor", name: "Mingrelian" }), "Mingrelian (xka_Geor)");
    assert.equal(languageLabel({ code: "xka", script: null }), "xka");
    assert.equal(languageLabel({ code: "ben", script: "Beng" }), "Bengali (ben_Beng)");
  });

  it("should read older stored codes as the catalogue's", () => {
    assert.equal(catalogueLanguage("te"), "tel");
    assert.equal(catalogueLanguage("Telugu"), "tel");
    assert.equal(catalogueLanguage("ne"), "nep");
    assert.equal(catalogueLanguage("xka_Geor"), "xka");
    assert.equal(catalogueLanguage("xka"), "xka");
  });

  it("should validate once at the boundary and pass the canonical code on", () => {
    assert.equal(languageCodeInput.parse("XKA_geor"), "xka_Geor");
    const r = languageCodeInput.safeParse("bn");
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0]!.message, /use the 3-letter ISO 639-3 code ben \(Bengali\)/);
    assert.equal(optionalLanguageCodeInput.parse(""), null);
    assert.equal(optionalLanguageCodeInput.parse(undefined), undefined);
    assert.equal(optionalLanguageCodeInput.safeParse("ta").success, false);
  });
});

describe("FLORES-style codes in names and documents", () => {
  it("should find the language of an lm-eval task name", () => {
    assert.deepEqual(languageOfTaskName("belebele_xka_Geor"), { code: "xka", script: "Geor" });
    assert.deepEqual(languageOfTaskName("sib200_xka_Geor_dev"), { code: "xka", script: "Geor" });
    assert.equal(languageOfTaskName("xka_belebele_dev"), null); // no script: not a FLORES code
    assert.equal(languageOfTaskName("mgsm_direct_bn"), null);
  });

  it("should only take real scripts and whole words", () => {
    assert.deepEqual(floresCodesIn("data/xka_Geor.jsonl eval_ben_Beng_loss"), [
      { code: "xka", script: "Geor" },
      { code: "ben", script: "Beng" },
    ]);
    assert.deepEqual(floresCodesIn("max_Step num_Tokens"), []); // not ISO 15924 scripts
    assert.deepEqual(floresCodesIn("abxka_Geor xka_Georgian"), []);
  });

  it("should pick the most frequent code of a trainer_state.json, anywhere in it", () => {
    const state = {
      global_step: 1280,
      log_history: [
        { step: 10, loss: 2.1, "eval_xka_Geor_loss": 2.4 },
        { step: 20, loss: 2.0, "eval_xka_Geor_loss": 2.3, "eval_eng_Latn_loss": 1.1 },
      ],
      args: { dataset_name: "corpus/xka_Geor", eval_datasets: ["flores/xka_Geor", "flores/eng_Latn"] },
    };
    assert.deepEqual(mostFrequentFloresCode(state), { code: "xka", script: "Geor", count: 4, codes: 2 });
    assert.equal(mostFrequentFloresCode({ global_step: 3, log_history: [{ loss: 1 }] }), null);
    // Ties: the first seen wins.
    assert.equal(mostFrequentFloresCode(["kat_Geor", "xka_Geor"])!.code, "kat");
  });
});
