import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatTokens, parseTokenCount, tokensFromDirName, tokensFromTrainerState } from "../../../server/services/models/tokens";

describe("token counts", () => {
  it("should parse counts written with units, exponents and separators", () => {
    assert.equal(parseTokenCount("2B"), 2e9);
    assert.equal(parseTokenCount("12.4B"), 12.4e9);
    assert.equal(parseTokenCount("800M"), 8e8);
    assert.equal(parseTokenCount("800m"), 8e8);
    assert.equal(parseTokenCount("1.5T"), 1.5e12);
    assert.equal(parseTokenCount("500k"), 5e5);
    assert.equal(parseTokenCount("2e9"), 2e9);
    assert.equal(parseTokenCount("2,000,000,000"), 2e9);
    assert.equal(parseTokenCount(" 4 B tokens"), 4e9);
    assert.equal(parseTokenCount("2000000000"), 2e9);
  });

  it("should refuse text that is not a count", () => {
    for (const bad of ["", "B", "two billion", "2X", "-2B", "2B3", "1.2.3B"]) assert.equal(parseTokenCount(bad), null, bad);
  });

  it("should read counts from checkpoint directory names", () => {
    assert.equal(tokensFromDirName("ct-2B"), 2e9);
    assert.equal(tokensFromDirName("checkpoint-12.4B"), 12.4e9);
    assert.equal(tokensFromDirName("llama2-nepali-800M"), 8e8);
    assert.equal(tokensFromDirName("ckpt_1.5T"), 1.5e12);
    assert.equal(tokensFromDirName("ct-10B-sft"), 10e9);
    // the keyword wins over a model size earlier in the name
    assert.equal(tokensFromDirName("llama-7b-ct-2B"), 2e9);
    assert.equal(tokensFromDirName("tokens-4B"), 4e9);
  });

  it("should not read step numbers or plain names as token counts", () => {
    assert.equal(tokensFromDirName("checkpoint-12000"), null);
    assert.equal(tokensFromDirName("base"), null);
    assert.equal(tokensFromDirName("sft-flan"), null);
    assert.equal(tokensFromDirName("ct-final"), null);
  });

  it("should read trainer_state.json: tokens seen, log history, then steps × tokens per step", () => {
    assert.deepEqual(tokensFromTrainerState({ num_input_tokens_seen: 2e9, global_step: 477 }), { tokens: 2e9, how: "num_input_tokens_seen" });
    assert.equal(
      tokensFromTrainerState({ num_input_tokens_seen: 0, log_history: [{ num_input_tokens_seen: 1e9 }, { num_input_tokens_seen: 3e9 }, { loss: 1 }] })?.tokens,
      3e9,
    );
    assert.equal(tokensFromTrainerState({ global_step: 1000 }), null, "steps alone are not tokens");
    assert.equal(tokensFromTrainerState({ global_step: 1000 }, 4_194_304)?.tokens, 4_194_304_000);
    assert.equal(tokensFromTrainerState({ global_step: 10, tokens_per_step: 100 })?.tokens, 1000);
    assert.equal(tokensFromTrainerState(null), null);
    assert.equal(tokensFromTrainerState("x"), null);
  });

  it("should format counts as the paper writes them", () => {
    assert.equal(formatTokens(2e9), "2B");
    assert.equal(formatTokens(12.4e9), "12.4B");
    assert.equal(formatTokens(8e8), "800M");
    assert.equal(formatTokens(1.5e12), "1.5T");
    assert.equal(formatTokens(999), "999");
  });
});
