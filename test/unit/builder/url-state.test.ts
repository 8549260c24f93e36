import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_STATE, fromSettings, parseBuilderState, serializeBuilderState, toSettings, type BuilderState } from "../../../components/builder/url-state";

describe("merge builder URL state", () => {
  it("should round-trip every setting through the search params", () => {
    const state: BuilderState = {
      exp: "exp1",
      method: "ties_sv",
      base: "b",
      models: [
        { id: "s", weight: 0.7, density: 0.2, favored: true },
        { id: "c", weight: 0.3, density: 1, favored: false },
      ],
      lambda: 1.5,
      normalize: false,
      consensus: "count",
      slack: 0.1,
      scope: "tensor",
      dtype: "bfloat16",
      sweepType: "analyze",
      sweepCts: ["c", "c2"],
      sweepMethods: ["ties", "ties_sv"],
      sweepDensities: [[0.01, 0.2, 0.4, 0.6, 0.8, 1], [1]],
    };
    const params = serializeBuilderState(state);
    assert.equal(params.get("d"), "0.2,1");
    assert.equal(params.get("sd"), "0.01,0.2,0.4,0.6,0.8,1;1");
    assert.deepEqual(parseBuilderState(new URLSearchParams(params.toString())), state);
  });

  it("should keep the URL short by leaving defaults out", () => {
    assert.equal(serializeBuilderState(DEFAULT_STATE).toString(), "method=ties");
    assert.deepEqual(parseBuilderState(new URLSearchParams("")), DEFAULT_STATE);
  });

  it("should fall back to defaults for malformed values", () => {
    const s = parseBuilderState(new URLSearchParams("method=slerp&m=a,b&w=x,2&d=7,0.5&slack=3&dtype=int8&cons=max&sd=a;0.5,9"));
    assert.equal(s.method, "ties");
    assert.deepEqual(s.models.map((m) => [m.weight, m.density]), [[1, 1], [2, 0.5]]);
    assert.equal(s.slack, 0.04);
    assert.equal(s.dtype, null);
    assert.equal(s.consensus, "sum");
    assert.deepEqual(s.sweepDensities, [[], [0.5]]);
  });

  it("should turn state into preview settings and back", () => {
    assert.equal(toSettings(DEFAULT_STATE), null, "no models: nothing to preview");
    const state = parseBuilderState(new URLSearchParams("exp=e&method=ties_sv&base=b&m=s,c&w=1,1&d=0.2,1&fav=0&sct=c"));
    const settings = toSettings(state)!;
    assert.deepEqual(settings.models[0], { modelId: "s", weight: 1, density: 0.2, favored: true });
    const back = fromSettings(settings, state);
    assert.deepEqual(back.models, state.models);
    assert.equal(back.sweepCts, null, "a loaded recipe starts a new sweep");
  });
});
