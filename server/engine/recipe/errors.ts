// Recipe problems are user errors: the message names the YAML path (and line when known)
// and says how to fix it. `code` matches the engine's RECIPE_INVALID so callers can treat
// errors from the TS parser and from the native engine alike (CLI exit code 2).
export interface RecipeIssue {
  /** YAML path such as `models[1].parameters.density`, or "" for the whole document. */
  path: string;
  /** 1-based line in the recipe text, when the node could be located. */
  line: number | null;
  message: string;
}

export class RecipeError extends Error {
  readonly code = "RECIPE_INVALID";
  readonly issues: RecipeIssue[];
  /** The recipe file, when the recipe came from one. */
  readonly file: string | null;

  constructor(issues: RecipeIssue[], file: string | null = null) {
    const lines = issues.map(formatIssue);
    const prefix = file === null ? "" : `${file}: `;
    super(lines.length === 1 ? `${prefix}${lines[0]}` : `${prefix}${lines.length} problems:\n${lines.map((l) => `  - ${l}`).join("\n")}`);
    this.name = "RecipeError";
    this.issues = issues;
    this.file = file;
  }
}

export function formatIssue(i: RecipeIssue): string {
  const where = i.path === "" ? "" : i.line === null ? `${i.path}: ` : `${i.path} (line ${i.line}): `;
  return `${where}${i.message}`;
}

/** `["models", 1, "parameters", "density"]` → `models[1].parameters.density`. */
export function yamlPathString(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** Short, quoted rendering of a YAML value for "got ..." messages. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "an empty value (null)";
  if (typeof v === "string") return `'${v.length > 60 ? `${v.slice(0, 57)}...` : v}'`;
  if (Array.isArray(v)) return `a list (${v.length} item${v.length === 1 ? "" : "s"})`;
  if (typeof v === "object") return `a mapping with keys ${Object.keys(v).map((k) => `\`${k}\``).join(", ") || "(none)"}`;
  return String(v);
}
