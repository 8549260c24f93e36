// The job runtime's contracts that are about code, not behaviour: error codes
// come from native/core/errors.h (generated file up to date), every code the
// TypeScript side raises has a known permanence, and imports point one way —
// nothing under server/jobs imports (even indirectly) a service that calls it.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { JOB_ERROR_CODES, isPermanentErrorCode } from "../../../server/jobs/error-codes";
// @ts-expect-error -- a plain .mjs script without type declarations
import { renderErrorCodes } from "../../../scripts/gen-error-codes.mjs";

const root = path.resolve(import.meta.dirname, "../../..");

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (name === "generated" || name === "node_modules") return [];
    return statSync(p).isDirectory() ? walk(p) : /\.tsx?$/.test(name) ? [p] : [];
  });
}

const serverFiles = walk(path.join(root, "server"));

function resolveImport(from: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, path.join(base, "index.ts")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // next candidate
    }
  }
  return null;
}

/** Static and dynamic relative imports of a file (type-only imports included: they still couple the code). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)].map((m) => m[1]!);
  return specs.map((s) => resolveImport(file, s)).filter((x): x is string => x !== null);
}

describe("job runtime structure", () => {
  it("should keep the generated error codes equal to native/core/errors.h", () => {
    const generated = readFileSync(path.join(root, "server/engine/error-codes.generated.ts"), "utf8");
    const expected = renderErrorCodes(readFileSync(path.join(root, "native/core/errors.h"), "utf8"));
    assert.equal(generated, expected, "server/engine/error-codes.generated.ts is stale: run node scripts/gen-error-codes.mjs");
  });

  it("should know the permanence of every code the TypeScript side raises", () => {
    const raised = new Set<string>();
    for (const f of serverFiles) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/(?:EngineError|PermanentJobError|EvaluateError|PathError)\(\s*"([A-Z][A-Z0-9_]+)"/g)) raised.add(m[1]!);
      for (const m of text.matchAll(/engineCode: "([A-Z][A-Z0-9_]+)"/g)) raised.add(m[1]!);
      for (const m of text.matchAll(/readonly code = "([A-Z][A-Z0-9_]+)"/g)) raised.add(m[1]!);
    }
    assert.ok(raised.size >= 10, `found only ${raised.size} raised codes: the scan is broken`);
    const unknown = [...raised].filter((c) => !Object.hasOwn(JOB_ERROR_CODES, c));
    assert.deepEqual(unknown, [], `codes raised without an entry in server/jobs/error-codes.ts: ${unknown.join(", ")}`);
  });

  it("should fail bad input at once and retry what may pass next time", () => {
    for (const c of ["ST_HEADER_JSON_INVALID", "MODEL_SHAPE_MISMATCH", "RECIPE_INVALID", "PATH_NOT_ALLOWED", "JOB_PAYLOAD_INVALID", "CANCELLED", "EVAL_TIMEOUT"])
      assert.equal(isPermanentErrorCode(c), true, c);
    for (const c of ["OUT_IO", "INTERNAL", "JOB_FAILED", "EIO", "SOMETHING_NEW"]) assert.equal(isPermanentErrorCode(c), false, c);
  });

  it("should never import, from server/jobs, a module that calls the job client", () => {
    const jobsDir = path.join(root, "server/jobs") + path.sep;
    const client = path.join(root, "server/jobs/client.ts");
    // Modules outside server/jobs that import the job client (directly): the callers.
    const callers = serverFiles.filter((f) => !f.startsWith(jobsDir) && importsOf(f).some((i) => i.startsWith(jobsDir)));
    assert.ok(callers.some((f) => f.includes("services/sweeps")), "the scan found no callers: it is broken");
    const forbidden = new Set(callers);
    const bad: string[] = [];
    for (const f of serverFiles.filter((x) => x.startsWith(jobsDir))) {
      // Everything reachable from this file (the server/jobs modules themselves are walked through).
      const seen = new Set<string>([f]);
      const stack = [f];
      while (stack.length) {
        const cur = stack.pop()!;
        for (const next of importsOf(cur)) {
          if (seen.has(next)) continue;
          seen.add(next);
          if (forbidden.has(next)) bad.push(`${path.relative(root, f)} → … → ${path.relative(root, next)}`);
          else stack.push(next);
        }
      }
    }
    assert.deepEqual(bad, [], "server/jobs must not depend on the services that call it");
    assert.ok(importsOf(path.join(root, "server/services/sweeps/sweep.ts")).includes(client));
  });
});
