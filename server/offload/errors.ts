// Errors cross the thread boundary as plain data and are rebuilt as the same
// classes, so callers handle a failed offloaded task as if it ran inline.
import { AppError, type AppErrorCode } from "../errors";
import { RecipeError, type RecipeIssue } from "../engine/recipe/errors";
import { EngineError } from "../engine/output/errors";
import { PathError, type PathRule } from "../paths/errors";
import { ResultsFileError } from "../services/scores/lm-eval";

export type SerializedError =
  | { kind: "RecipeError"; issues: RecipeIssue[]; file: string | null }
  | { kind: "ResultsFileError"; fileName: string; line: number; column: number | null; field: string | null; detail: string }
  | { kind: "PathError"; rule: PathRule; path: string; message: string }
  | { kind: "AppError"; code: AppErrorCode; message: string; engineCode: string | null }
  | { kind: "EngineError"; code: string; message: string }
  | { kind: "Error"; message: string; code: string | null };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof RecipeError) return { kind: "RecipeError", issues: err.issues, file: err.file };
  if (err instanceof ResultsFileError) return { kind: "ResultsFileError", fileName: err.fileName, line: err.line, column: err.column, field: err.field, detail: err.detail };
  if (err instanceof PathError) return { kind: "PathError", rule: err.rule, path: err.path, message: err.message };
  if (err instanceof AppError) return { kind: "AppError", code: err.code, message: err.message, engineCode: err.engineCode ?? null };
  if (err instanceof EngineError) return { kind: "EngineError", code: err.code, message: err.message };
  const code = (err as { code?: unknown })?.code;
  return { kind: "Error", message: err instanceof Error ? err.message : String(err), code: typeof code === "string" ? code : null };
}

export function deserializeError(e: SerializedError): Error {
  switch (e.kind) {
    case "RecipeError":
      return new RecipeError(e.issues, e.file);
    case "ResultsFileError":
      return new ResultsFileError(e.fileName, e.line, e.column, e.field, e.detail);
    case "PathError":
      return new PathError(e.rule, e.path, e.message);
    case "AppError":
      return new AppError(e.code, e.message, e.engineCode ? { engineCode: e.engineCode } : undefined);
    case "EngineError":
      return new EngineError(e.code, e.message);
    default:
      return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
  }
}
