import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Scheduler } from "../../../server/jobs/scheduler";
import { ProgressMeter, retryBackoffMs } from "../../../server/jobs/state";
import { workingSetFromLargestTensor } from "../../../server/engine/working-set";

const GiB = 2 ** 30;
const engine = (gib: number) => ({ cpuBound: true, workingSetBytes: gib * GiB });

describe("job scheduler", () => {
  it("should give a lone engine job every core", () => {
    const s = new Scheduler({ cores: 8, memoryBudgetBytes: 16 * GiB, maxConcurrent: 8 });
    const d = s.decide(engine(2), 0);
    assert.deepEqual(d, { start: true, placement: { threads: 8, workingSetBytes: 2 * GiB } });
  });

  it("should split the cores among a deep queue and never hand out more threads than cores", () => {
    const s = new Scheduler({ cores: 4, memoryBudgetBytes: 64 * GiB, maxConcurrent: 4 });
    const threads: number[] = [];
    for (let i = 0; i < 6; i++) {
      const d = s.decide(engine(1), 11 - i);
      if (!d.start) break;
      s.start(`j${i}`, d.placement, true);
      threads.push(d.placement.threads);
    }
    assert.deepEqual(threads, [1, 1, 1, 1]);
    assert.equal(s.usedCores(), 4);
    const blocked = s.decide(engine(1), 5);
    assert.equal(blocked.start, false);
    s.finish("j0");
    // the queue drained meanwhile: the freed core goes to the next job
    assert.deepEqual(s.decide(engine(1), 0), { start: true, placement: { threads: 1, workingSetBytes: GiB } });
  });

  it("should run jobs side by side only while their working sets fit the budget", () => {
    const s = new Scheduler({ cores: 2, memoryBudgetBytes: 10 * GiB, maxConcurrent: 2 });
    const a = s.decide(engine(6), 1);
    assert.ok(a.start);
    s.start("a", a.placement, true);
    const b = s.decide(engine(6), 0);
    assert.equal(b.start, false);
    assert.match((b as { reason: string }).reason, /does not fit.*MERGESCOPE_MEMORY_BUDGET/);
    assert.ok(s.decide(engine(3), 0).start, "a job that fits next to the running one starts");
  });

  it("should run a job larger than the whole budget alone rather than never", () => {
    const s = new Scheduler({ cores: 2, memoryBudgetBytes: 4 * GiB, maxConcurrent: 2 });
    const d = s.decide(engine(20), 0);
    assert.deepEqual(d, { start: true, placement: { threads: 2, workingSetBytes: 20 * GiB } });
  });

  it("should let light jobs (imports) run while the engine jobs hold every core", () => {
    const s = new Scheduler({ cores: 2, memoryBudgetBytes: 16 * GiB, maxConcurrent: 3 });
    const a = s.decide(engine(1), 0);
    assert.ok(a.start);
    s.start("a", a.placement, true);
    assert.equal(s.decide(engine(1), 0).start, false);
    assert.deepEqual(s.decide({ cpuBound: false, workingSetBytes: 0.1 * GiB }, 0), { start: true, placement: { threads: 1, workingSetBytes: 0.1 * GiB } });
  });
});

describe("job state machine", () => {
  it("should back off exponentially up to a minute", () => {
    assert.deepEqual([1, 2, 3, 4, 10].map(retryBackoffMs), [1000, 2000, 4000, 8000, 60000]);
  });

  it("should compute throughput and ETA from the time since the start", () => {
    const m = new ProgressMeter(1_000);
    const c = m.columns({ phase: "merging", progress: 0.25, bytesDone: 250, bytesTotal: 1000 }, 11_000);
    assert.equal(c.bytesPerSec, 25);
    assert.equal(c.etaSeconds, 30);
    assert.equal(m.columns({ phase: "x", progress: 7 }, 11_000).progress, 1);
    assert.equal(m.columns({ phase: "x", progress: 0.5 }, 11_000).etaSeconds, null, "no ETA without byte counts");
  });
});

describe("working-set estimate", () => {
  it("should scale with the largest tensor and the inputs, plus the process baseline", () => {
    const embed = 32000 * 2048;
    const three = workingSetFromLargestTensor(embed, 3);
    assert.equal(three - workingSetFromLargestTensor(0, 3), embed * 4 * 7);
    assert.ok(workingSetFromLargestTensor(embed, 5) > three);
  });
});
