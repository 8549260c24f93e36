// An experiment's evaluation command template, e.g.
//   lm_eval --model hf --model_args pretrained={model},dtype=bfloat16 --tasks {tasks} --output_path {out}
// is split into argv by a small shell-like tokenizer (whitespace, '…' and "…"
// quotes, backslash escapes; no variables, globs, pipes or redirections), and
// only {model}, {tasks} (comma-joined) and {out} are substituted — inside each
// argument, after splitting, so a path with spaces stays one argument. The
// command is then run without a shell.

/** Shown as the example in forms and messages. */
export const EXAMPLE_EVAL_TEMPLATE = "lm_eval --model hf --model_args pretrained={model},dtype=bfloat16 --tasks {tasks} --output_path {out}";

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

/** Splits a command line into arguments the way a POSIX shell would quote them, with no expansion. */
export function tokenizeCommand(template: string): string[] {
  const args: string[] = [];
  let cur = "";
  let inArg = false;
  let i = 0;
  const n = template.length;
  while (i < n) {
    const c = template[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      if (inArg) {
        args.push(cur);
        cur = "";
        inArg = false;
      }
      i++;
      continue;
    }
    inArg = true;
    if (c === "'") {
      const end = template.indexOf("'", i + 1);
      if (end < 0) throw new TemplateError(`unterminated single quote at character ${i + 1}`);
      cur += template.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const d = template[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n && ['"', "\\", "$", "`", "\n"].includes(template[i + 1]!)) {
          if (template[i + 1] !== "\n") cur += template[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      if (!closed) throw new TemplateError("unterminated double quote");
      continue;
    }
    if (c === "\\") {
      if (i + 1 >= n) throw new TemplateError("the template ends with a lone backslash");
      const next = template[i + 1]!;
      if (next === "\n") {
        // line continuation
        if (cur === "") inArg = false;
      } else cur += next;
      i += 2;
      continue;
    }
    cur += c;
    i++;
  }
  if (inArg) args.push(cur);
  return args;
}

export interface TemplateValues {
  model: string;
  tasks: string[];
  out: string;
}

const PLACEHOLDER = /\{(model|tasks|out)\}/g;

/** argv for one evaluation: the template's arguments with {model}, {tasks} and {out} filled in (nothing else). */
export function buildEvalArgv(template: string, values: TemplateValues): string[] {
  const argv = tokenizeCommand(template);
  if (argv.length === 0) throw new TemplateError("the command template is empty");
  const map: Record<string, string> = { model: values.model, tasks: values.tasks.join(","), out: values.out };
  return argv.map((a) => a.replace(PLACEHOLDER, (_m, name: string) => map[name] ?? _m));
}

/** Problems that make a template unusable, found before a job is queued. */
export function validateTemplate(template: string): { argv: string[]; warnings: string[] } {
  const argv = tokenizeCommand(template);
  if (argv.length === 0) throw new TemplateError("the command template is empty");
  const joined = argv.join(" ");
  const missing = ["{model}", "{out}"].filter((p) => !joined.includes(p));
  if (missing.length > 0) throw new TemplateError(`the command template must contain ${missing.join(" and ")} (placeholders: {model} {tasks} {out})`);
  if (/\{(model|tasks|out)\}/.test(argv[0]!)) throw new TemplateError("the program name cannot be a placeholder");
  const warnings: string[] = [];
  if (!joined.includes("{tasks}")) warnings.push("the template has no {tasks}: the tasks it names itself are evaluated");
  if (/[|;&<>`]|\$\(/.test(template)) warnings.push("shell syntax (|, ;, &, <, >, $(…), `…`) is passed to the program as plain text: the command runs without a shell");
  return { argv, warnings };
}

/** A readable one-line rendering of argv (for logs). */
export function formatArgv(argv: string[]): string {
  return argv.map((a) => (/^[A-Za-z0-9_@%+=:,./{}-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
