// `evaluate` jobs end to end through the queue and the job handler, with a fake
// lm_eval (test/fixtures/lm-eval/fake-lm-eval.mjs, plumbing only): argv without
// a shell, logs, results found under {out} and imported in the completion, and
// the failures — timeout, non-zero exit, no results, unreadable results,
// missing program — each with its reason.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, describe, it } from "node:test";
import { db } from "../../../server/db/client";
import { claimJob } from "../../../server/jobs/embedded/lease";
import { cancelJob, enqueueJob, getJob } from "../../../server/jobs/client";
import { buildEvalArgv, tokenizeCommand, validateTemplate } from "../../../server/services/scores/eval-command";
import { runCommand } from "../../../server/services/scores/eval-runner";
import { createEvalTemplate, deleteEvalTemplate } from "../../../server/services/scores/eval-templates";
import { enqueueEvaluation } from "../../../server/services/scores/evaluate";
import { listScores } from "../../../server/services/scores/import";
import { runClaimedJob } from "../helpers/run-claimed-job";
import { callerAs } from "../../support/auth";
import { FAKE_LM_EVAL, freshDataDir, registerModel } from "./helpers";

const env = freshDataDir("ms-scores-eval-");
after(() => env.cleanup());
const never = new AbortController().signal;

const template = (mode = "ok", extra = "") =>
  `"${process.execPath}" "${FAKE_LM_EVAL}" --model hf --model_args "pretrained={model},dtype=bfloat16" --tasks {tasks} --output_path {out} --fake-mode ${mode} ${extra}`;

/** An admin-configured template (the only way a command reaches an evaluate job). */
let templates = 0;
const tpl = async (mode = "ok", extra = "") => (await createEvalTemplate({ name: `fake ${mode} ${++templates}`, command: template(mode, extra) }, null)).id;
const tplRaw = async (command: string) => (await createEvalTemplate({ name: `raw ${++templates}`, command }, null)).id;

async function runNext(maxAttempts?: number) {
  const client = await db();
  if (maxAttempts !== undefined) await client.job.updateMany({ where: { status: "queued" }, data: { maxAttempts } });
  const job = await claimJob(`test/${process.pid}/w`);
  assert.ok(job, "a job to run");
  const outcome = await runClaimedJob(job, never);
  return { outcome, details: await getJob(job.id) };
}

describe("evaluate job", () => {
  it("should run the command without a shell, log its output and import its results", async () => {
    const model = await registerModel(env.dir, "TIES ben flan"); // a space in the path stays one argument
    const marker = path.join(env.dir, "PWNED");
    const templateId = await tpl("ok", `--note '$(touch ${marker}); echo {model}' "a\\"b"`);
    const { job, created } = await enqueueJob({
      type: "evaluate",
      payload: {
        modelPath: model.path,
        tasks: ["belebele_ben_Beng", "mgsm_direct_bn", "sib200_ben_Beng"],
        templateId,
        timeoutSeconds: 60,
      },
    });
    assert.ok(created);
    const again = await enqueueJob({ type: "evaluate", payload: { modelPath: model.path, tasks: ["belebele_ben_Beng", "mgsm_direct_bn", "sib200_ben_Beng"], templateId, timeoutSeconds: 60 } });
    assert.equal(again.created, false);
    assert.equal(again.job.id, job.id);

    const { outcome, details } = await runNext();
    assert.equal(outcome, "done");
    assert.equal(details.job.status, "done");
    const result = details.result as { argv: string[]; exitCode: number; resultsFiles: string[]; scores: number; tasks: string[] };
    assert.equal(result.exitCode, 0);
    assert.equal(result.scores, 3);
    assert.deepEqual(result.tasks.sort(), ["belebele_ben_Beng", "mgsm_direct_bn", "sib200_ben_Beng"]);
    assert.equal(result.resultsFiles.length, 1);
    assert.ok(result.resultsFiles[0]!.includes(path.join(env.dir, "data", "evals")));
    // Placeholders filled inside arguments; shell syntax passed through as text.
    assert.ok(result.argv.includes(`pretrained=${model.path},dtype=bfloat16`));
    assert.ok(result.argv.includes("belebele_ben_Beng,mgsm_direct_bn,sib200_ben_Beng"));
    assert.ok(result.argv.includes(`$(touch ${marker}); echo ${model.path}`));
    assert.ok(result.argv.includes('a"b'));
    assert.equal(existsSync(marker), false);
    const logs = details.logs.map((l) => l.message);
    assert.ok(logs.some((m) => m.startsWith("[stdout] fake-lm-eval: argv = ")), "stdout in the job log");
    assert.ok(logs.some((m) => m === "[stderr] Running loglikelihood requests: 100%|##########| 2/2"), "progress bars keep their last state");
    assert.ok(logs.some((m) => m.startsWith("$ ")), "the command is logged");

    const scores = await listScores({ modelId: model.id });
    assert.equal(scores.length, 3);
    assert.ok(scores.every((s) => s.modelName === model.path && s.split === "test"));
    const client = await db();
    assert.equal((await client.scoreImport.findFirstOrThrow({ where: { modelId: model.id } })).jobId, job.id);
  });

  it("should take the experiment's template and its language's tasks on demand", async () => {
    const client = await db();
    const exp = await client.experiment.create({ data: { name: "ben", language: "ben", evalTemplateId: await tpl("ok") } });
    const model = await registerModel(env.dir, "CT-ben");
    const r = await enqueueEvaluation({ experimentId: exp.id, modelId: model.id, split: "dev" });
    assert.deepEqual(r.tasks, ["belebele_ben_Beng", "mgsm_direct_bn", "sib200_ben_Beng"]);
    assert.equal(r.job.experimentId, exp.id);
    const { outcome } = await runNext();
    assert.equal(outcome, "done");
    const scores = await listScores({ modelId: model.id });
    assert.equal(scores.length, 3);
    assert.ok(scores.every((s) => s.split === "dev" && s.splitSource === "option"));
    await assert.rejects(enqueueEvaluation({ modelId: model.id }), /no evaluation template/);
    // The experiment's charts get the paper's numbers for its language (through the API).
    const caller = await callerAs("researcher");
    const overlay = await caller.scores.paper.overlay({ experimentId: exp.id, methods: ["TIES", "CTSFT-flan"] });
    assert.deepEqual(overlay.series.map((x) => [x.model, x.value, x.source]), [["CTSFT-ben-flan", 42.19, "Table 10"], ["TIES-ben-flan", 40.31, "Table 10"]]);
    await assert.rejects(caller.scores.paper.overlay({}), /give a language or an experimentId/);
  });

  it("should kill a command that runs past its timeout and say so", async () => {
    const model = await registerModel(env.dir, "slow");
    await enqueueJob({ type: "evaluate", payload: { modelPath: model.path, tasks: ["belebele_ben_Beng"], templateId: await tpl("hang"), timeoutSeconds: 1 } });
    const started = Date.now();
    const { outcome, details } = await runNext(1);
    assert.equal(outcome, "failed");
    assert.ok(Date.now() - started < 8000);
    assert.equal(details.job.errorCode, "EVAL_TIMEOUT");
    assert.match(details.job.errorMessage!, /^timed out after 1 s: stopped with SIGTERM\nlast output:\n/);
    assert.match(details.job.errorMessage!, /fake-lm-eval: hanging/);
  });

  it("should fail with the exit code and the last lines of output", async () => {
    const model = await registerModel(env.dir, "broken");
    await enqueueJob({ type: "evaluate", payload: { modelPath: model.path, tasks: ["belebele_ben_Beng"], templateId: await tpl("fail"), timeoutSeconds: 60 } });
    const { outcome, details } = await runNext(1);
    assert.equal(outcome, "failed");
    assert.equal(details.job.errorCode, "EVAL_EXIT_CODE");
    assert.match(details.job.errorMessage!, /^the command exited with code 3\nlast output:\n/);
    assert.match(details.job.errorMessage!, /! ValueError: fake failure for the test suite/);
    assert.equal((await listScores({ modelId: model.id })).length, 0);
  });

  it("should fail when no results file was written, or it cannot be read", async () => {
    const model = await registerModel(env.dir, "silent");
    await enqueueJob({ type: "evaluate", payload: { modelPath: model.path, tasks: ["belebele_ben_Beng"], templateId: await tpl("no-results"), timeoutSeconds: 60 } });
    const a = await runNext(1);
    assert.equal(a.details.job.errorCode, "EVAL_NO_RESULTS");
    assert.match(a.details.job.errorMessage!, /^the command exited with code 0 but wrote no results\*\.json under .*attempt-1/);
    await enqueueJob({ type: "evaluate", payload: { modelPath: model.path, tasks: ["belebele_ben_Beng"], templateId: await tpl("garbage"), timeoutSeconds: 60 } });
    const b = await runNext(1);
    assert.equal(b.details.job.errorCode, "EVAL_RESULTS_INVALID");
    assert.match(b.details.job.errorMessage!, /results_.*\.json line 2: results: expected an object of task results, got an array$/);
  });

  it("should say when the program cannot be started", async () => {
    const model = await registerModel(env.dir, "nowhere");
    await enqueueJob({ type: "evaluate", payload: { modelPath: model.path, tasks: ["x"], templateId: await tplRaw("/nonexistent/lm_eval --model_args pretrained={model} --output_path {out}"), timeoutSeconds: 60 } });
    const { details } = await runNext(1);
    assert.equal(details.job.errorCode, "EVAL_SPAWN_FAILED");
    assert.equal(details.job.errorMessage, "cannot run '/nonexistent/lm_eval': not found (is it installed and on the worker's PATH?)");
  });

  it("should stop the command when the job is cancelled", async () => {
    const model = await registerModel(env.dir, "cancelled");
    const { job } = await enqueueJob({ type: "evaluate", payload: { modelPath: model.path, tasks: ["x"], templateId: await tpl("hang"), timeoutSeconds: 600 } });
    const claimed = (await claimJob(`test/${process.pid}/c`))!;
    const running = runClaimedJob(claimed, never);
    await new Promise((r) => setTimeout(r, 300));
    await cancelJob(job.id);
    assert.equal(await running, "cancelled");
  });

  it("should refuse a broken template when it is configured, and a bad payload when the job is queued", async () => {
    await assert.rejects(createEvalTemplate({ name: "broken", command: 'lm_eval --model_args "pretrained={model} --output_path {out}' }, null), /command template: unterminated double quote/);
    await assert.rejects(createEvalTemplate({ name: "broken", command: "lm_eval --tasks {tasks}" }, null), /must contain \{model\} and \{out\}/);
    const base = { modelPath: "/m", tasks: ["t"], timeoutSeconds: 5, templateId: await tplRaw("x {model} {out}") };
    await assert.rejects(enqueueJob({ type: "evaluate", payload: { ...base, modelPath: "relative" } }), /modelPath: must be an absolute path/);
    await assert.rejects(enqueueJob({ type: "evaluate", payload: { ...base, templateId: "no-such-template" } }), /evaluation template no-such-template no longer exists/);
  });

  it("should refuse an evaluate payload that carries a command, from any role", async () => {
    const marker = path.join(env.dir, "proof-touched");
    const payload = { modelPath: "/tmp", tasks: ["x"], commandTemplate: `/usr/bin/touch ${marker} {model} {out}`, timeoutSeconds: 30 };
    await assert.rejects(enqueueJob({ type: "evaluate", payload }), /commandTemplate: an evaluate job cannot carry a command/);
    await assert.rejects(enqueueJob({ type: "evaluate", payload: { ...payload, templateId: await tpl("ok") } }), /commandTemplate: an evaluate job cannot carry a command/);
    for (const role of ["researcher", "admin"] as const) {
      const caller = await callerAs(role);
      await assert.rejects(caller.jobs.enqueue({ type: "evaluate", payload }), /an evaluate job cannot carry a command/);
      await assert.rejects(caller.scores.evaluate({ modelPath: "/tmp", tasks: ["x"], commandTemplate: "x {model} {out}" } as never), /Unrecognized key/);
    }
    assert.equal(await (await db()).job.count({ where: { payload: { contains: "proof-touched" } } }), 0);
    assert.equal(existsSync(marker), false);
  });

  it("should let only admins write templates, and fail a queued job whose template was deleted", async () => {
    const researcher = await callerAs("researcher");
    await assert.rejects(researcher.scores.templates.create({ name: "mine", command: "/usr/bin/touch {model} {out}" }), /needs the admin role/);
    const admin = await callerAs("admin");
    const t = await admin.scores.templates.create({ name: "lab lm_eval", command: template("ok") });
    assert.deepEqual(t.warnings, []);
    assert.ok((await researcher.scores.templates.list()).some((x) => x.id === t.id && x.command === template("ok").trim()));
    const model = await registerModel(env.dir, "orphan");
    const queued = await researcher.scores.evaluate({ modelId: model.id, tasks: ["belebele_ben_Beng"], templateId: t.id });
    assert.deepEqual(queued.template, { id: t.id, name: "lab lm_eval" });
    // Who queued it is recorded, and shown by the jobs API.
    const me = await researcher.account.me();
    assert.equal(queued.job.createdById, me.id);
    assert.equal((await researcher.jobs.get({ id: queued.job.id })).job.createdBy, me.name);
    assert.equal((await researcher.jobs.list({ type: ["evaluate"] })).find((j) => j.id === queued.job.id)?.createdBy, me.name);
    await deleteEvalTemplate(t.id);
    const { outcome, details } = await runNext(1);
    assert.equal(outcome, "failed");
    assert.equal(details.job.errorCode, "EVAL_TEMPLATE_MISSING");
  });
});

describe("command template", () => {
  it("should split like a shell without expanding anything", () => {
    assert.deepEqual(tokenizeCommand(`lm_eval  --a 'x y' "p \\"q\\" \\$HOME" z\\ w $HOME ~ *.json \\\n --b`), ["lm_eval", "--a", "x y", 'p "q" $HOME', "z w", "$HOME", "~", "*.json", "--b"]);
    assert.deepEqual(tokenizeCommand(`a '' ""`), ["a", "", ""]);
    assert.throws(() => tokenizeCommand("a 'b"), /unterminated single quote/);
    assert.throws(() => tokenizeCommand("a \\"), /lone backslash/);
  });

  it("should substitute only {model}, {tasks} and {out}, inside each argument", () => {
    const argv = buildEvalArgv("lm_eval --model_args pretrained={model},dtype=bf16 --tasks {tasks} --output_path {out} --gen_kwargs {temperature} '{model}'", {
      model: "/m/with space",
      tasks: ["a", "b"],
      out: "/o",
    });
    assert.deepEqual(argv, ["lm_eval", "--model_args", "pretrained=/m/with space,dtype=bf16", "--tasks", "a,b", "--output_path", "/o", "--gen_kwargs", "{temperature}", "/m/with space"]);
    assert.deepEqual(validateTemplate("lm_eval {model} {out} | tee x").warnings, [
      "the template has no {tasks}: the tasks it names itself are evaluated",
      "shell syntax (|, ;, &, <, >, $(…), `…`) is passed to the program as plain text: the command runs without a shell",
    ]);
    assert.throws(() => validateTemplate("{model} {out}"), /program name cannot be a placeholder/);
  });

  it("should escalate to SIGKILL when the command ignores SIGTERM", async () => {
    const r = await runCommand({ argv: [process.execPath, FAKE_LM_EVAL, "--fake-mode", "ignore-sigterm"], timeoutMs: 500, killGraceMs: 300 });
    assert.equal(r.timedOut, true);
    assert.equal(r.killedWith, "SIGKILL");
    assert.equal(r.signal, "SIGKILL");
    assert.ok(r.tail.includes("fake-lm-eval: ignoring SIGTERM"));
  });
});
