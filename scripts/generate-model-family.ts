// CLI: generate a synthetic Llama model family (base, sft, ct-2B, ct-4B, ...) for demos,
// tests and benchmarks. See server/engine/synthetic/signal.ts for the statistics.
//
//   tsx scripts/generate-model-family.ts --out DIR --hidden 64 --layers 2 --intermediate 172 \
//     --vocab 256 --heads 4 --kv-heads 2 --ct-checkpoints 6 --tokens-per-checkpoint 2 \
//     --dtype bf16 --seed 1 [--shard-size BYTES] [--force]
import { parseArgs } from "node:util";
import { generateModelFamily, type SyntheticDtype } from "../server/engine/synthetic/family";

const DEFAULTS = {
  hidden: "64",
  layers: "2",
  intermediate: "172",
  vocab: "256",
  heads: "4",
  "kv-heads": "2",
  "ct-checkpoints": "6",
  "tokens-per-checkpoint": "2",
  dtype: "bf16",
  seed: "1",
};

function main(): void {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      hidden: { type: "string" },
      layers: { type: "string" },
      intermediate: { type: "string" },
      vocab: { type: "string" },
      heads: { type: "string" },
      "kv-heads": { type: "string" },
      "ct-checkpoints": { type: "string" },
      "tokens-per-checkpoint": { type: "string" },
      dtype: { type: "string" },
      seed: { type: "string" },
      "shard-size": { type: "string" },
      force: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help || !values.out) {
    console.error("usage: tsx scripts/generate-model-family.ts --out DIR [--hidden 64] [--layers 2] [--intermediate 172] [--vocab 256]");
    console.error("         [--heads 4] [--kv-heads 2] [--ct-checkpoints 6] [--tokens-per-checkpoint 2] [--dtype bf16|f16|f32]");
    console.error("         [--seed 1] [--shard-size BYTES] [--force]");
    process.exit(values.help ? 0 : 2);
  }
  const arg = (name: keyof typeof DEFAULTS) => number(name, values[name] ?? DEFAULTS[name]);
  const started = Date.now();
  let lastReport = 0;
  const family = generateModelFamily({
    out: values.out,
    hidden: arg("hidden"),
    layers: arg("layers"),
    intermediate: arg("intermediate"),
    vocab: arg("vocab"),
    heads: arg("heads"),
    kvHeads: arg("kv-heads"),
    ctCheckpoints: arg("ct-checkpoints"),
    tokensPerCheckpoint: arg("tokens-per-checkpoint"),
    dtype: (values.dtype ?? DEFAULTS.dtype) as SyntheticDtype,
    seed: arg("seed"),
    shardSize: values["shard-size"] === undefined ? undefined : number("shard-size", values["shard-size"]),
    overwrite: values.force,
    onProgress(done, total) {
      if (Date.now() - lastReport < 2000 && done < total) return;
      lastReport = Date.now();
      console.error(`  ${((100 * done) / total).toFixed(1)}% of ${total.toLocaleString()} parameters per model`);
    },
  });
  const seconds = (Date.now() - started) / 1000;
  console.log(
    `wrote ${family.members.length} models (${family.parameterCount.toLocaleString()} parameters, ` +
      `${(family.bytesPerModel / 2 ** 20).toFixed(1)} MiB each, ${family.shardFiles.length} shard(s)) to ${family.out} in ${seconds.toFixed(1)} s`,
  );
  for (const m of family.members) console.log(`  ${m.name}${m.tokensB === null ? "" : `  (${m.tokensB}B tokens)`}`);
}

function number(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw new Error(`--${name} must be a number, got "${text}"`);
  return value;
}

try {
  main();
} catch (e) {
  console.error(`generate-model-family: ${(e as Error).message}`);
  process.exit(1);
}
