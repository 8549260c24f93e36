// The `mergescope` subcommands: name, one-line summary and usage text, and the
// module that runs each. Modules load only when their command runs, so `--help`
// and `--version` start without the engine, zod, YAML, Prisma or BullMQ.
import type { CliCommand } from "../command";

/** Options of `merge` and `analyze` that override recipe keys. */
const RECIPE_OVERRIDE_USAGE =
  "  --seed N               dare_*, della*: seed of the random keep masks (overrides the recipe's `seed`; default 0)\n" +
  "  --tie-order T          mergekit (default: threshold ties kept as mergekit keeps them, byte-identical)\n" +
  "                         or index (lowest flat index first); overrides the recipe's `tie_order`\n" +
  "  --random R             dare_*: counter (default; MergeScope's generator) or mergekit (torch's MT19937\n" +
  "                         stream: with --seed S the masks of `mergekit-yaml --random-seed S`); della* always mergekit";

export const commands: CliCommand[] = [
  {
    name: "info",
    summary: "Show the native engine's version and capabilities",
    usage: "mergescope info [--json]",
    load: () => import("./info"),
  },
  {
    name: "merge",
    summary: "Merge checkpoints as a mergekit-style recipe says",
    usage:
      "mergescope merge RECIPE.yml OUT_DIR [--threads N] [--shard-size SIZE] [--stats stats.json] [--compute-dtype float32|storage] [--seed N] [--tie-order mergekit|index] [--random counter|mergekit] [--overwrite]\n\n" +
      "  --threads N            engine threads (default 0 = all cores)\n" +
      "  --shard-size SIZE      maximum shard size: 5GB (default), 500MB, 2GiB or bytes\n" +
      "  --stats FILE           also write the merge statistics (JSON) to FILE\n" +
      "  --compute-dtype D      float32: arithmetic in float32; storage: in each tensor's dtype\n" +
      "                         (default: the recipe's `dtype`; the output dtype is unchanged)\n" +
      RECIPE_OVERRIDE_USAGE +
      "\n" +
      "  --overwrite            replace OUT_DIR if it is empty or an earlier MergeScope output",
    load: () => import("./merge"),
  },
  {
    name: "analyze",
    summary: "Run a recipe without writing a model and print what the merge would do",
    usage:
      "mergescope analyze RECIPE.yml [--json] [--densities D1,D2,...] [--series CT1,CT2,...] [--seed N] [--tie-order mergekit|index] [--random counter|mergekit] [--threads N] [--compute-dtype float32|storage]\n\n" +
      "  --json                 the full statistics (per tensor, layer and module) as JSON on stdout\n" +
      "  --densities D1,D2,...  ties: statistics at every combination of these densities across the models,\n" +
      "                         from one pass (JSON `sweep[]` of {densities, totals, tensors, byLayer, byModule})\n" +
      "  --series CT1,CT2,...   with --densities: the sweep for each CT checkpoint in place of the recipe's second\n" +
      "                         model, from one pass reading the base and SFT once and each checkpoint once\n" +
      "                         (JSON `checkpoints[]` of {checkpoint, ...the --densities output})\n" +
      RECIPE_OVERRIDE_USAGE +
      "\n" +
      "  --threads N            engine threads (default 0 = all cores)\n" +
      "  --compute-dtype D      float32 or storage (default: the recipe's `dtype`)",
    load: () => import("./analyze"),
  },
  {
    name: "inspect",
    summary: "List a checkpoint's tensors, dtypes, shapes, parameter count and shards",
    usage: "mergescope inspect PATH [--json]   (PATH: a model directory or a .safetensors file)",
    load: () => import("./inspect"),
  },
  {
    name: "submit",
    summary: "Queue merges (or analyses) on a running server; prints the job ids",
    usage: [
      "mergescope submit RECIPE.yml... [--analyze] [--server URL] [--priority N] [--force] [--json]",
      "                  [--sweep-checkpoints DIR,DIR,...] [--sweep-methods ties,ties_sv] [--sweep-densities 'D,D;D,D']",
      "",
      "  --analyze              queue statistics-only analyses instead of merges",
      "  --sweep-checkpoints    replace the last model (the CT checkpoint) by each of these paths",
      "  --sweep-methods        run each point with each of these merge methods",
      "  --sweep-densities      per model (recipe order, ';'-separated) the densities to try; the grid is their product",
      "  --force                re-run work that already finished (otherwise the existing job is returned)",
    ].join("\n"),
    load: () => import("./submit"),
  },
  {
    name: "jobs",
    summary: "List the jobs of a running server",
    usage: "mergescope jobs [--json] [--status queued,running,done,failed,cancelled] [--server URL]",
    load: () => import("./jobs"),
  },
  {
    name: "worker",
    summary: "Run a job worker (REDIS_URL set: BullMQ scale-out worker; else the embedded SQLite queue, several jobs at once within the cores and MERGESCOPE_MEMORY_BUDGET)",
    usage: "mergescope worker",
    load: () => import("./worker"),
  },
  {
    name: "import-scores",
    summary: "Import lm-evaluation-harness results files into a running server",
    usage: [
      "mergescope import-scores FILE|FOLDER... [--model ID] [--split dev|test] [--json] [--server URL]",
      "",
      "  --model ID     file every score under this registered model (default: match the file's",
      "                 model_args pretrained path; unmatched scores keep the file's model name)",
      "  --split S      dev or test for every score (default: from each task's config, else test)",
    ].join("\n"),
    load: () => import("./import-scores"),
  },
  {
    name: "scores",
    summary: "List the evaluation scores of a running server",
    usage: "mergescope scores [--model ID] [--split dev|test] [--task NAME] [--json] [--server URL]",
    load: () => import("./scores"),
  },
  {
    name: "login",
    summary: "Save a personal API token for a server (from its Account page)",
    usage: [
      "mergescope login [--server URL] [--token TOKEN]",
      "",
      "  Without --token the token is read from standard input (pasted, or piped: `mergescope login < token.txt`).",
      "  It is checked against the server, then saved in ~/.config/mergescope/credentials.json (mode 0600).",
      "  MERGESCOPE_TOKEN, when set, is used instead of a saved token.",
    ].join("\n"),
    load: () => import("./login"),
  },
  {
    name: "logout",
    summary: "Forget the saved token for a server",
    usage: "mergescope logout [--server URL]",
    load: () => import("./logout"),
  },
  {
    name: "user",
    summary: "Add an account (prints a one-time sign-in link) or list accounts, on this machine's database",
    usage: [
      "mergescope user add [EMAIL] [--role viewer|researcher|admin | --admin] [--json]",
      "mergescope user list [--json]",
      "",
      "  add   a one-time sign-in link (it prints until when it is valid): whoever opens it chooses the password",
      "        (and the email, when none is given)",
      "        and gets the role (default researcher). Uses MERGESCOPE_DATA_DIR like the server.",
    ].join("\n"),
    load: () => import("./user"),
  },
  {
    name: "eval-template",
    summary: "Add or list evaluation command templates (adding needs an admin token)",
    usage: [
      "mergescope eval-template add NAME COMMAND [--server URL]",
      "mergescope eval-template list [--json] [--server URL]",
      "",
      "  COMMAND is one argument (quote it); it is split like a shell would, without expanding anything,",
      "  and run without a shell. Placeholders: {model} {tasks} {out}, e.g.",
      "    mergescope eval-template add lm-eval 'lm_eval --model hf --model_args pretrained={model} --tasks {tasks} --output_path {out}'",
    ].join("\n"),
    load: () => import("./eval-template"),
  },
];
