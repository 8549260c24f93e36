// The one normalization of a path given by a user (API input, recipe, job
// payload). Its result is what every later step uses — the containment check
// and whoever opens the file — so they cannot disagree: nothing is trimmed or
// decoded anywhere. Text that would be ambiguous is refused, not repaired.
import path from "node:path";
import { PathError, showPath } from "./errors";

/** Linux PATH_MAX / NAME_MAX. */
export const MAX_PATH_BYTES = 4096;
export const MAX_NAME_BYTES = 255;

// C0 and C1 control characters and DEL (tab, line breaks, escape, NUL, …).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Unicode whitespace at either end (space, tab, NBSP, U+2028, ideographic space, …).
const EDGE_SPACE = /^\s|\s$/;

export interface NormalizeOptions {
  /** Resolve a relative path against this folder (itself normalized first); without it, relative paths are refused. */
  relativeTo?: string;
}

/**
 * Returns the absolute, lexically normalized form of `input` (`.`, `..`, `//`
 * and a trailing `/` collapsed) or throws PathError PATH_INVALID naming the
 * path and the rule. `what` names the field in messages ("model path").
 */
export function normalizePath(input: unknown, what = "path", opts: NormalizeOptions = {}): string {
  if (typeof input !== "string") throw new PathError("PATH_INVALID", String(input), `${what}: expected a path string, got ${typeof input}`);
  const p = input;
  const shown = showPath(p);
  const refuse = (rule: string): never => {
    throw new PathError("PATH_INVALID", p, `${what} ${shown} ${rule}`);
  };
  if (p.length === 0) refuse("is empty: give the absolute path (it starts with /)");
  if (Buffer.byteLength(p) > MAX_PATH_BYTES) refuse(`is longer than ${MAX_PATH_BYTES} bytes (the system's PATH_MAX)`);
  if (p.includes("\0")) refuse("contains a NUL byte: paths cannot contain one");
  if (!(p as string & { isWellFormed(): boolean }).isWellFormed()) refuse("is not valid Unicode (a lone surrogate): paths are used exactly as given");
  if (CONTROL.test(p)) refuse("contains a control character (tab, line break, escape…): paths are used exactly as given, so they are refused rather than cleaned up; rename the file or folder");
  if (EDGE_SPACE.test(p)) refuse("starts or ends with whitespace: paths are used exactly as given, so leading/trailing spaces are refused rather than trimmed; remove them (or rename the folder)");
  for (const part of p.split("/")) {
    if (Buffer.byteLength(part) > MAX_NAME_BYTES) refuse(`has a name longer than ${MAX_NAME_BYTES} bytes (the system's NAME_MAX)`);
  }
  if (path.isAbsolute(p)) return path.resolve(p);
  if (opts.relativeTo === undefined) refuse("is not an absolute path: give the full path (it starts with /)");
  const joined = path.resolve(normalizePath(opts.relativeTo, `folder of ${what}`), p);
  if (Buffer.byteLength(joined) > MAX_PATH_BYTES) refuse(`is longer than ${MAX_PATH_BYTES} bytes once resolved against ${showPath(opts.relativeTo!)}`);
  return joined;
}
