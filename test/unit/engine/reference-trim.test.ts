import { test } from "node:test";
import assert from "node:assert/strict";
import { magnitudeTrim, trimCount } from "@/test/reference";

test("k is trunc(density * numel) in float64, like Python's int()", () => {
  assert.equal(trimCount(0.29, 100), 28); // 0.29 * 100 = 28.999999999999996
  assert.equal(trimCount(0.2, 3072), 614);
  assert.equal(trimCount(0.2, 2500), 500);
});

test("keeps the k largest magnitudes; ties at the threshold go to the lowest flat index", () => {
  const delta = new Float32Array([0.5, -2, 0.5, 1, -0.5, 0]);
  const { trimmed, info } = magnitudeTrim(delta, 0.5); // k = 3: -2, 1, then one of the three 0.5s
  assert.deepEqual([...trimmed], [0.5, -2, 0, 1, 0, 0]);
  assert.deepEqual(
    { k: info.k, threshold: info.threshold, gt: info.nGreaterThanThreshold, eq: info.nEqualToThreshold, kept: info.nKeptAtThreshold },
    { k: 3, threshold: 0.5, gt: 2, eq: 3, kept: 1 },
  );
});

test("density >= 1 keeps everything; k = 0 keeps nothing", () => {
  const delta = new Float32Array([1, -2, 3]);
  const whole = magnitudeTrim(delta, 1);
  assert.deepEqual([...whole.trimmed], [1, -2, 3]);
  assert.equal(whole.info.k, null);
  assert.notEqual(whole.trimmed, delta, "returns a copy");
  const none = magnitudeTrim(delta, 0.2); // trunc(0.6) = 0
  assert.deepEqual([...none.trimmed], [0, 0, 0]);
  assert.equal(none.info.k, 0);
  assert.equal(none.info.threshold, null);
});
