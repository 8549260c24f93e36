// The results-file reader, without a database: real-shaped lm-eval files
// (0.4.2 with groups and string model_args, 0.4.5 with object model_args and a
// dev split, 0.3 legacy), "N/A" stderr, split inference, and malformed files
// rejected with the exact line and field.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { parseJsonWithLocations, formatJsonPath } from "../../../server/services/scores/json-locate";
import { parseLmEvalResults, ResultsFileError, sourceHashOf } from "../../../server/services/scores/lm-eval";

const FIX = path.resolve("test/fixtures/lm-eval");
const read = (name: string) => readFileSync(path.join(FIX, name), "utf8");
const V042 = "results_2024-06-01T10-15-30.123456.json";
const V045 = "results_2024-07-15T08-30-12.654321.json";

function score(parsed: ReturnType<typeof parseLmEvalResults>, task: string, metric: string, filter: string) {
  return parsed.scores.find((s) => s.task === task && s.metric === metric && s.filter === filter);
}

describe("lm-eval results reader", () => {
  it("should read every task, metric and filter of a 0.4.2 file with a string model_args", () => {
    const p = parseLmEvalResults(V042, read(V042));
    assert.equal(p.modelName, "/models/merges/TIES-ben-flan");
    assert.equal(p.pretrained, "/models/merges/TIES-ben-flan");
    assert.equal(p.modelArgs, "pretrained=/models/merges/TIES-ben-flan,dtype=bfloat16");
    assert.equal(p.lmEvalVersion, "git 5e5a4b3");
    assert.equal(p.sourceHash, sourceHashOf(read(V042)));
    assert.deepEqual(score(p, "belebele_ben_Beng", "acc", "none"), {
      task: "belebele_ben_Beng", metric: "acc", filter: "none", value: 0.3402, stderr: 0.0088, nShot: 0, higherIsBetter: true, isGroup: false, split: "test", splitSource: "config test_split=test",
    });
    // Several filters of one metric, and a "N/A" stderr.
    assert.equal(score(p, "mgsm_direct_bn", "exact_match", "flexible-extract")?.value, 0.075);
    assert.equal(score(p, "mgsm_direct_bn", "exact_match", "remove_whitespace")?.stderr, null);
    assert.equal(score(p, "mgsm_native_cot_bn", "exact_match", "strict-match")?.value, 0.035);
    // The group is imported once (it is in both `results` and `groups`) and marked as a group;
    // tasks listed with [] in group_subtasks are not groups.
    const groupRows = p.scores.filter((s) => s.task === "belebele");
    assert.equal(groupRows.length, 2);
    assert.ok(groupRows.every((s) => s.isGroup));
    assert.equal(score(p, "mgsm_direct_bn", "exact_match", "flexible-extract")?.isGroup, false);
    assert.equal(p.scores.length, 2 + 2 + 2 + 2 + 2);
    assert.deepEqual(p.warnings, []);
  });

  it("should infer dev from test_split=validation or a validation_split, and read an object model_args", () => {
    const p = parseLmEvalResults(V045, read(V045));
    assert.equal(p.modelName, "/models/ct/CT-bod-1B");
    assert.equal(p.pretrained, "/models/ct/CT-bod-1B");
    assert.equal(JSON.parse(p.modelArgs!).dtype, "bfloat16");
    assert.equal(p.lmEvalVersion, "0.4.5");
    const sib = score(p, "sib200_ben_Beng", "acc", "none")!;
    assert.equal(sib.split, "dev");
    assert.equal(sib.splitSource, "config test_split=validation");
    const tc = score(p, "mlic_bod_tc", "acc", "none")!;
    assert.equal(tc.split, "dev");
    assert.equal(tc.splitSource, "config validation_split=dev");
    assert.equal(score(p, "mlic_bod_tc", "f1", "none")?.stderr, null);
    const group = score(p, "mlic_bod", "acc", "none")!;
    assert.equal(group.isGroup, true);
    assert.equal(group.stderr, null);
    assert.equal(group.split, "dev");
    assert.equal(group.splitSource, "subtasks (dev)");
  });

  it("should let an explicit split win over the task config and say so", () => {
    const p = parseLmEvalResults(V045, read(V045), { split: "test" });
    assert.ok(p.scores.every((s) => s.split === "test" && s.splitSource === "option"));
    assert.equal(p.splitOption, "test");
  });

  it("should default to test when the config names no split", () => {
    const text = JSON.stringify({ results: { mytask: { "acc,none": 0.5 } }, config: { model_args: "pretrained=/m" } });
    const p = parseLmEvalResults("r.json", text);
    assert.equal(p.scores[0]?.split, "test");
    assert.match(p.scores[0]!.splitSource, /^default/);
  });

  it("should read the 0.3 layout (plain metric keys, num_fewshot in config)", () => {
    const p = parseLmEvalResults("results_legacy-0.3.json", read("results_legacy-0.3.json"));
    assert.equal(p.pretrained, "/models/merges/TIES-tam-flan");
    assert.deepEqual(
      { v: score(p, "belebele_tam_Taml", "acc", "none")?.value, se: score(p, "belebele_tam_Taml", "acc", "none")?.stderr, n: score(p, "belebele_tam_Taml", "acc", "none")?.nShot },
      { v: 0.3653, se: 0.00897, n: 0 },
    );
    assert.equal(p.scores.length, 3);
  });

  it("should accept unknown task names", () => {
    const p = parseLmEvalResults("r.json", JSON.stringify({ results: { "my_custom-task/v2": { "bleu,none": 12.5, "bleu_stderr,none": 0.4 } } }));
    assert.equal(p.scores[0]?.task, "my_custom-task/v2");
    assert.equal(p.scores[0]?.value, 12.5);
    assert.equal(p.modelName, "unknown model");
  });

  it("should skip NaN and \"N/A\" metric values with a warning, not reject the file", () => {
    const text = '{"results": {"t": {"acc,none": NaN, "f1,none": "N/A", "mcc,none": 0.2}}}';
    const p = parseLmEvalResults("r.json", text);
    assert.deepEqual(p.scores.map((s) => s.metric), ["mcc"]);
    assert.deepEqual(p.warnings.slice(1), ['results.t["acc,none"] is NaN: not imported', 'results.t["f1,none"] has no value ("N/A"): not imported']);
  });

  it("should reject a task entry that is not an object with its line and field", () => {
    assert.throws(
      () => parseLmEvalResults("results_2024.json", read("malformed/results_2024.json")),
      (err: unknown) => {
        assert.ok(err instanceof ResultsFileError);
        assert.equal(err.message, "results_2024.json line 14: results.belebele_ben_Beng: expected an object of metric values, got a string");
        assert.equal(err.line, 14);
        assert.equal(err.field, "results.belebele_ben_Beng");
        return true;
      },
    );
  });

  it("should report JSON syntax errors with line and column", () => {
    assert.throws(
      () => parseLmEvalResults("results_syntax.json", read("malformed/results_syntax.json")),
      (err: unknown) => {
        assert.ok(err instanceof ResultsFileError);
        assert.equal(err.message, "results_syntax.json line 5, column 7: not valid JSON: unexpected '\"' (expected ',' or '}' after an object member)");
        return true;
      },
    );
    assert.throws(() => parseLmEvalResults("e.json", ""), /e\.json line 1, column 1: not valid JSON: the file is empty/);
    assert.throws(() => parseLmEvalResults("t.json", '{"results": {"a": {"acc,none": 0.5}}} x'), /t\.json line 1, column 39: not valid JSON: unexpected 'x' after the end/);
    assert.throws(() => parseLmEvalResults("u.json", '{\n  "results": {\n    "a": "unterminated\n  }\n}'), /u\.json line 3, column 23: not valid JSON: line break inside a string/);
  });

  it("should name the field of a bad metric value, stderr, model_args or split", () => {
    const bad = (doc: string) => {
      try {
        parseLmEvalResults("r.json", doc);
      } catch (err) {
        return (err as Error).message;
      }
      return "accepted";
    };
    assert.equal(bad('{\n"results": {\n"t": {\n"acc,none": "0.5"\n}\n}\n}'), 'r.json line 4: results.t["acc,none"]: expected a number, got a string');
    assert.equal(bad('{"results": {"t": {"acc,none": 0.5, "acc_stderr,none": {"x": 1}}}}'), 'r.json line 1: results.t["acc_stderr,none"]: expected a number or "N/A", got an object');
    assert.equal(bad('{"results": {"t": {"acc,none": 0.5}}, "config": {"model_args": 7}}'), 'r.json line 1: config.model_args: expected a "pretrained=…,dtype=…" string or an object, got a number');
    assert.equal(bad('{"results": {"t": {"acc,none": 0.5}},\n "configs": {"t": {"test_split": ["a"]}}}'), "r.json line 2: configs.t.test_split: expected a split name or null, got an array");
    assert.equal(bad('{"results": []}'), "r.json line 1: results: expected an object of task results, got an array");
    assert.equal(bad('{"results": {}}'), "r.json line 1: results: no task results in the file");
    assert.equal(bad('{"version": 1}'), "r.json line 1: no `results` member: not an lm-evaluation-harness results file");
    assert.equal(bad("[1, 2]"), "r.json line 1: expected an lm-evaluation-harness results object, got an array");
    assert.equal(bad('{"results": {"t": {"alias": "t"}}}'), "r.json line 1: results: no metric values in any task");
  });

  it("should hash the same text with and without a byte-order mark alike", () => {
    const text = read(V042);
    assert.equal(sourceHashOf(`\ufeff${text}`), sourceHashOf(text));
    assert.equal(parseLmEvalResults("a.json", `\ufeff${text}`).scores.length, 10);
  });
});

describe("JSON with locations", () => {
  it("should locate nested values and format paths", () => {
    const doc = parseJsonWithLocations('{\n  "a": {\n    "b,c": [1,\n      2]\n  }\n}');
    assert.deepEqual(doc.locate(["a", "b,c"]), { line: 3, column: 12 });
    assert.deepEqual(doc.locate(["a", "b,c", 1]), { line: 4, column: 7 });
    assert.equal(formatJsonPath(["results", "belebele_ben_Beng", "acc,none"]), 'results.belebele_ben_Beng["acc,none"]');
    assert.equal(formatJsonPath(["n-shot", "x"]), "n-shot.x");
  });

  it("should decode escapes and Python's non-finite numbers", () => {
    const doc = parseJsonWithLocations('{"s": "a\\n\\u00e9\\"", "n": [-Infinity, Infinity, NaN, -1.5e2]}');
    // Objects come without a prototype (member names are data); compare their members.
    assert.equal(Object.getPrototypeOf(doc.value), null);
    assert.deepEqual({ ...(doc.value as object) }, { s: 'a\né"', n: [-Infinity, Infinity, NaN, -150] });
  });
});
