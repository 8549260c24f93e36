// A small JSON parser that remembers where every value starts (line and
// column), so a results file can be rejected with the line of the field at
// fault, and syntax errors carry line and column. Accepts what Python's
// json.dump writes by default: NaN, Infinity and -Infinity as numbers.
// Objects have no prototype, so member names like `__proto__` or
// `constructor` are plain data; nesting is capped (no stack overflow).

export interface JsonLocation {
  line: number; // 1-based
  column: number; // 1-based
}

export type JsonPath = readonly (string | number)[];

export class JsonSyntaxError extends Error {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`line ${line}, column ${column}: ${detail}`);
    this.name = "JsonSyntaxError";
  }
}

export interface LocatedJson {
  value: unknown;
  /** Where the value at `path` starts (recorded down to `maxDepth`; deeper paths give their nearest recorded ancestor). */
  locate(path: JsonPath): JsonLocation;
}

const KEY_SEP = "\u0000";

function describeChar(ch: string | undefined): string {
  if (ch === undefined) return "end of file";
  if (ch === "\n") return "a line break";
  if (ch === "\t") return "a tab";
  return `'${ch}'`;
}

/** Nesting depth refused as a syntax error (deeper JSON would overflow the parser's stack). */
export const MAX_NESTING = 64;

/** Parses `text` as JSON, recording value positions down to `maxDepth` levels. */
export function parseJsonWithLocations(text: string, maxDepth = 4, maxNesting = MAX_NESTING): LocatedJson {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const toLocation = (offset: number): JsonLocation => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] ?? 0) + 1 };
  };
  const offsets = new Map<string, number>();
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const fail = (detail: string, at = pos): never => {
    const loc = toLocation(at);
    throw new JsonSyntaxError(loc.line, loc.column, detail);
  };
  const skipWs = () => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 32 || c === 9 || c === 10 || c === 13) pos++;
      else break;
    }
  };
  const expectLiteral = (word: string) => {
    if (text.startsWith(word, pos)) {
      pos += word.length;
      return;
    }
    fail(`unexpected ${describeChar(text[pos])} (expected a value)`);
  };

  const parseString = (): string => {
    const start = pos;
    pos++; // opening quote
    let out = "";
    let chunk = pos;
    while (true) {
      if (pos >= text.length) fail("unterminated string", start);
      const c = text.charCodeAt(pos);
      if (c === 34) {
        out += text.slice(chunk, pos);
        pos++;
        return out;
      }
      if (c === 92) {
        out += text.slice(chunk, pos);
        const e = text[pos + 1];
        switch (e) {
          case '"':
            out += '"';
            break;
          case "\\":
            out += "\\";
            break;
          case "/":
            out += "/";
            break;
          case "b":
            out += "\b";
            break;
          case "f":
            out += "\f";
            break;
          case "n":
            out += "\n";
            break;
          case "r":
            out += "\r";
            break;
          case "t":
            out += "\t";
            break;
          case "u": {
            const hex = text.slice(pos + 2, pos + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape in a string", pos);
            out += String.fromCharCode(parseInt(hex, 16));
            pos += 4;
            break;
          }
          default:
            fail(`bad escape ${describeChar(e === undefined ? undefined : `\\${e}`)} in a string`, pos);
        }
        pos += 2;
        chunk = pos;
        continue;
      }
      if (c < 32) fail(`${c === 10 ? "line break" : "control character"} inside a string (unterminated string?)`, pos);
      pos++;
    }
  };

  const parseNumber = (): number => {
    const start = pos;
    if (text.startsWith("-Infinity", pos)) {
      pos += 9;
      return -Infinity;
    }
    if (text[pos] === "-") pos++;
    if (text[pos] === "0") pos++;
    else if (/[1-9]/.test(text[pos] ?? "")) while (/[0-9]/.test(text[pos] ?? "")) pos++;
    else fail(`unexpected ${describeChar(text[pos])} in a number`);
    if (text[pos] === ".") {
      pos++;
      if (!/[0-9]/.test(text[pos] ?? "")) fail("a digit must follow the decimal point");
      while (/[0-9]/.test(text[pos] ?? "")) pos++;
    }
    if (text[pos] === "e" || text[pos] === "E") {
      pos++;
      if (text[pos] === "+" || text[pos] === "-") pos++;
      if (!/[0-9]/.test(text[pos] ?? "")) fail("a digit must follow the exponent");
      while (/[0-9]/.test(text[pos] ?? "")) pos++;
    }
    return Number(text.slice(start, pos));
  };

  const parseValue = (path: (string | number)[]): unknown => {
    skipWs();
    if (path.length <= maxDepth) offsets.set(path.join(KEY_SEP), pos);
    const ch = text[pos];
    if ((ch === "{" || ch === "[") && path.length >= maxNesting) fail(`nested deeper than ${maxNesting} levels`);
    switch (ch) {
      case "{": {
        pos++;
        const obj: Record<string, unknown> = Object.create(null);
        skipWs();
        if (text[pos] === "}") {
          pos++;
          return obj;
        }
        while (true) {
          skipWs();
          if (text[pos] !== '"') fail(`unexpected ${describeChar(text[pos])} (expected a quoted member name)`);
          const key = parseString();
          skipWs();
          if (text[pos] !== ":") fail(`unexpected ${describeChar(text[pos])} (expected ':' after the member name "${key}")`);
          pos++;
          obj[key] = parseValue([...path, key]);
          skipWs();
          if (text[pos] === ",") {
            pos++;
            continue;
          }
          if (text[pos] === "}") {
            pos++;
            return obj;
          }
          fail(`unexpected ${describeChar(text[pos])} (expected ',' or '}' after an object member)`);
        }
      }
      case "[": {
        pos++;
        const arr: unknown[] = [];
        skipWs();
        if (text[pos] === "]") {
          pos++;
          return arr;
        }
        while (true) {
          arr.push(parseValue([...path, arr.length]));
          skipWs();
          if (text[pos] === ",") {
            pos++;
            continue;
          }
          if (text[pos] === "]") {
            pos++;
            return arr;
          }
          fail(`unexpected ${describeChar(text[pos])} (expected ',' or ']' after an array element)`);
        }
      }
      case '"':
        return parseString();
      case "t":
        expectLiteral("true");
        return true;
      case "f":
        expectLiteral("false");
        return false;
      case "n":
        expectLiteral("null");
        return null;
      case "N":
        expectLiteral("NaN");
        return NaN;
      case "I":
        expectLiteral("Infinity");
        return Infinity;
      default:
        if (ch !== undefined && (ch === "-" || (ch >= "0" && ch <= "9"))) return parseNumber();
        return fail(`unexpected ${describeChar(ch)} (expected a value)`);
    }
  };

  skipWs();
  if (pos >= text.length) fail("the file is empty (expected a JSON object)");
  const value = parseValue([]);
  skipWs();
  if (pos < text.length) fail(`unexpected ${describeChar(text[pos])} after the end of the JSON value`);

  return {
    value,
    locate(path) {
      for (let n = Math.min(path.length, maxDepth); n >= 0; n--) {
        const off = offsets.get(path.slice(0, n).join(KEY_SEP));
        if (off !== undefined) return toLocation(off);
      }
      return { line: 1, column: 1 };
    },
  };
}

/** `results.belebele_ben_Beng["acc,none"]`: dotted where the key is a plain name, bracketed otherwise. */
export function formatJsonPath(path: JsonPath): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((seg, i) => {
      if (typeof seg === "number") return `[${seg}]`;
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) return i === 0 ? seg : `.${seg}`;
      return `[${JSON.stringify(seg)}]`;
    })
    .join("");
}

/** "a string", "an object", "null", … for error messages. */
export function describeJsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : "a number";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return "a string";
  if (typeof v === "boolean") return "a boolean";
  return typeof v;
}
