// JSON with key order and number text preserved (server/engine/json-literal): Python's float
// repr and json.dumps layout, serde_json's pretty layout, strict parsing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dumpJsonLiteral, JsonNumber, parseJsonLiteral, pythonFloatRepr, type JsonObject, type JsonValue } from "@/server/engine/json-literal";

describe("json-literal", () => {
  it("writes floats like Python's repr()", () => {
    const cases: [number, string][] = [
      [1e-5, "1e-05"], [0.0001, "0.0001"], [10000, "10000.0"], [0.02, "0.02"], [1e16, "1e+16"], [1234567890123456, "1234567890123456.0"],
      [0, "0.0"], [-0, "-0.0"], [1e-6, "1e-06"], [1.5e-7, "1.5e-07"], [123.456, "123.456"], [-2.5e20, "-2.5e+20"], [0.1 + 0.2, "0.30000000000000004"], [5e-324, "5e-324"],
    ];
    for (const [x, want] of cases) assert.equal(pythonFloatRepr(x), want, String(x));
  });

  it("keeps key order (also integer-like keys), number text and big integers", () => {
    const text = '{"b": 1, "10": 2.50, "2": 1E5, "big": 1000000000000000019884624838656, "s": "\\u00e9\\n"}';
    const v = parseJsonLiteral(text) as JsonObject;
    assert.deepEqual([...v.keys()], ["b", "10", "2", "big", "s"]);
    assert.equal(dumpJsonLiteral(v, { indent: 2, numbers: "literal" }), '{\n  "b": 1,\n  "10": 2.50,\n  "2": 1E5,\n  "big": 1000000000000000019884624838656,\n  "s": "é\\n"\n}');
    assert.equal(
      dumpJsonLiteral(v, { indent: 1, sortKeys: true, numbers: "python" }),
      '{\n "10": 2.5,\n "2": 100000.0,\n "b": 1,\n "big": 1000000000000000019884624838656,\n "s": "é\\n"\n}',
    );
    assert.equal(dumpJsonLiteral(new Map<string, JsonValue>([["a", []], ["o", new Map()]]), { indent: 2, numbers: "literal" }), '{\n  "a": [],\n  "o": {}\n}');
    assert.equal(JsonNumber.of(3).raw, "3");
    assert.equal(JsonNumber.of(3, true).raw, "3.0");
  });

  it("rejects what is not strict JSON, with the offset", () => {
    for (const bad of ["{", '{"a" 1}', "[1,]", '{"a": 01}', "tru", '"\u0001"', "1 2", "{'a': 1}"]) assert.throws(() => parseJsonLiteral(bad), /at offset \d+/, bad);
  });
});
