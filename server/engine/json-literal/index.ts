// JSON that round-trips byte for byte through the tools MergeScope has to imitate.
// JSON.parse loses what matters for that: object key order for integer-like keys (JS moves
// them first), the text of numbers (`10000.0`, `1e-05`, 1000000000000000019884624838656) and
// whether a number was written as an integer or a float. Here objects are Maps (insertion
// order, duplicate keys: last value wins at the first position, like Python's json), numbers
// keep their source text, and two serializers reproduce
//  * Python's json.dumps(obj, indent=N, sort_keys=..., ensure_ascii=False) — transformers'
//    config.json / tokenizer_config.json (floats in Python repr: 1e-05, 10000.0, 0.02);
//  * serde_json's pretty printer (2 spaces) — the `tokenizers` library's tokenizer.json
//    (numbers written as they were read, so a file it wrote comes back identical).

export class JsonNumber {
  constructor(readonly raw: string) {}
  get isInteger(): boolean {
    return !/[.eE]/.test(this.raw);
  }
  get value(): number {
    return Number(this.raw);
  }
  static of(n: number | bigint, float = false): JsonNumber {
    if (typeof n === "bigint") return new JsonNumber(n.toString());
    if (!Number.isFinite(n)) throw new RangeError(`JSON cannot hold ${n}`);
    return new JsonNumber(float ? pythonFloatRepr(n) : Number.isInteger(n) ? String(n) : pythonFloatRepr(n));
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonLiteralError extends Error {}

/** Strict JSON (RFC 8259) → JsonValue. Throws JsonLiteralError with the offset. */
export function parseJsonLiteral(text: string): JsonValue {
  let i = 0;
  const n = text.length;
  const fail = (what: string): never => {
    throw new JsonLiteralError(`${what} at offset ${i}`);
  };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const str = (): string => {
    // Reuse JSON.parse for escapes: find the closing quote first.
    const start = i;
    i++;
    for (;;) {
      if (i >= n) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) i += 2;
      else if (c < 0x20) fail("control character in string");
      else i++;
    }
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return fail("invalid string escape");
    }
  };
  const NUM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (depth: number): JsonValue => {
    if (depth > 512) fail("nesting too deep");
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const obj: JsonObject = new Map();
      ws();
      if (text[i] === "}") {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a key");
        const k = str();
        ws();
        if (text[i] !== ":") fail("expected ':'");
        i++;
        obj.set(k, value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "}") {
          i++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === "[") {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] === "]") {
          i++;
          return arr;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    // Python's json also writes NaN / Infinity; accept them as numbers.
    for (const special of ["NaN", "Infinity", "-Infinity"]) if (text.startsWith(special, i)) return (i += special.length), new JsonNumber(special);
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (!m) return fail("unexpected character");
    i += m[0].length;
    return new JsonNumber(m[0]);
  };
  const v = value(0);
  ws();
  if (i !== n) fail("trailing characters");
  return v;
}

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return v instanceof Map;
}

/** Python's repr() of a float (what json.dumps writes): shortest round-trip digits,
 *  exponent notation below 1e-4 and from 1e16 (`1e-05`, `1e+16`), else `.0` for integers. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const e = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  let out: string;
  if (e < -4 || e >= 16) {
    const rest = digits.slice(1);
    out = `${digits[0]}${rest ? `.${rest}` : ""}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  } else if (e < 0) {
    out = `0.${"0".repeat(-e - 1)}${digits}`;
  } else if (digits.length <= e + 1) {
    out = `${digits}${"0".repeat(e + 1 - digits.length)}.0`;
  } else {
    out = `${digits.slice(0, e + 1)}.${digits.slice(e + 1)}`;
  }
  return neg ? `-${out}` : out;
}

export interface DumpOptions {
  indent: number;
  sortKeys?: boolean;
  /** How numbers are written: "python" (ints as Python ints, floats in repr) or "literal" (as read). */
  numbers: "python" | "literal";
}

function numberText(num: JsonNumber, style: DumpOptions["numbers"]): string {
  if (style === "literal") return num.raw;
  if (num.isInteger) return BigInt(num.raw).toString();
  return pythonFloatRepr(num.value);
}

/** Python json.dumps(indent=N) / serde_json pretty layout: one item per line, `": "`, `[]` and `{}` when empty. */
export function dumpJsonLiteral(v: JsonValue, opts: DumpOptions): string {
  const pad = (level: number) => " ".repeat(opts.indent * level);
  const out: string[] = [];
  const write = (x: JsonValue, level: number) => {
    if (x === null) out.push("null");
    else if (x === true) out.push("true");
    else if (x === false) out.push("false");
    else if (typeof x === "string") out.push(JSON.stringify(x));
    else if (x instanceof JsonNumber) out.push(numberText(x, opts.numbers));
    else if (Array.isArray(x)) {
      if (x.length === 0) return void out.push("[]");
      out.push("[\n");
      x.forEach((item, idx) => {
        out.push(pad(level + 1));
        write(item, level + 1);
        out.push(idx + 1 < x.length ? ",\n" : "\n");
      });
      out.push(`${pad(level)}]`);
    } else {
      const keys = [...x.keys()];
      if (opts.sortKeys) keys.sort(comparePython);
      if (keys.length === 0) return void out.push("{}");
      out.push("{\n");
      keys.forEach((k, idx) => {
        out.push(`${pad(level + 1)}${JSON.stringify(k)}: `);
        write(x.get(k)!, level + 1);
        out.push(idx + 1 < keys.length ? ",\n" : "\n");
      });
      out.push(`${pad(level)}}`);
    }
  };
  write(v, 0);
  return out.join("");
}

/** Python's str ordering: by code point (JS `<` compares UTF-16 units, which differs above U+FFFF). */
function comparePython(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = ca[i]!.codePointAt(0)! - cb[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

/** Plain JS view of a JsonValue (numbers as JS numbers) for reading values. */
export function toPlain(v: JsonValue): unknown {
  if (v instanceof JsonNumber) return v.value;
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, toPlain(x)]));
  return v;
}
