// Re-render times of the analysis views added after the density explorer (issue #16): geometry
// along the series, TIES vs TIES-SV and the methods side by side, scores against statistics and
// parallel coordinates. Each interaction is timed in the page, from just before Playwright sends
// it to a task after the next animation frame once the view shows its result (a DOM condition) —
// so a view that asks the server first pays that request too. Conservative: the CDP round trip of
// the input is included.
import type { Page } from "@playwright/test";

/** When the interaction has shown its result: an element's text includes / equals a string, or a selector matches n elements. */
export type Done = { selector: string; includes: string } | { selector: string; equals: string } | { selector: string; count: number };

// The in-page waiter as source text: tsx (esbuild keepNames) would wrap the nested functions of a
// function passed to page.evaluate in a __name() helper the page does not have.
const WAIT_FOR_DONE = `(d) => new Promise((resolve, reject) => {
  const ok = () => {
    if ("count" in d) return document.querySelectorAll(d.selector).length === d.count;
    const texts = [...document.querySelectorAll(d.selector)].map((e) => (e.textContent || "").trim());
    return "equals" in d ? texts.includes(d.equals) : texts.some((t) => t.includes(d.includes));
  };
  const timer = setTimeout(() => reject(new Error("timed out waiting for " + JSON.stringify(d))), 15000);
  const obs = new MutationObserver(() => {
    if (!ok()) return;
    obs.disconnect();
    clearTimeout(timer);
    requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
  });
  obs.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
})`;

export async function timeInteraction(page: Page, act: () => Promise<unknown>, done: Done): Promise<number> {
  const finished = page.evaluate(`(${WAIT_FOR_DONE})(${JSON.stringify(done)})`) as Promise<number>;
  const t0 = (await page.evaluate("performance.now()")) as number;
  await act();
  return (await finished) - t0;
}

export interface InteractionResult {
  view: string;
  interaction: string;
  samples: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

/** Alternates between states (each a step with its done condition), 3 warm-up steps, then `n` timed ones. */
export async function measureToggle(page: Page, view: string, interaction: string, steps: { act: () => Promise<unknown>; done: Done }[], n: number): Promise<InteractionResult> {
  const times: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    const step = steps[i % steps.length]!;
    const ms = await timeInteraction(page, step.act, step.done);
    if (i >= 3) times.push(ms);
  }
  return { view, interaction, ...summary(times) };
}

function summary(times: number[]): Pick<InteractionResult, "samples" | "medianMs" | "p95Ms" | "maxMs"> {
  const r = (x: number) => Number(x.toFixed(1));
  return { samples: times.length, medianMs: r(quantile(times, 0.5)), p95Ms: r(quantile(times, 0.95)), maxMs: r(Math.max(...times)) };
}

/** The views and interactions measured (page state: an experiment with analyses, merges and their scores). */
export async function measureNewViews(page: Page, base: string, experimentId: string, task: string, n: number): Promise<InteractionResult[]> {
  const out: InteractionResult[] = [];
  await page.goto(`${base}/analysis?experiment=${experimentId}&task=${encodeURIComponent(task)}`);
  const geo = page.getByTestId("chart-geometry");
  await geo.locator("[data-series]").first().waitFor();
  const geoPanels = '[data-testid="chart-geometry"] [data-testid="geometry-panel"]';
  const panels = async () => page.locator(geoPanels).count();
  await geo.getByTestId("geometry-by").selectOption("layer");
  const layerPanels = await page.locator(geoPanels).count();
  await geo.getByTestId("geometry-by").selectOption("module");
  const modulePanels = await panels();
  out.push(
    await measureToggle(
      page,
      "geometry along the series",
      "panels per module ↔ per layer",
      [
        { act: () => geo.getByTestId("geometry-by").selectOption("layer"), done: { selector: geoPanels, count: layerPanels } },
        { act: () => geo.getByTestId("geometry-by").selectOption("module"), done: { selector: geoPanels, count: modulePanels } },
      ],
      n,
    ),
  );
  const legend = '[data-testid="chart-geometry"] .chart-legend';
  out.push(
    await measureToggle(
      page,
      "geometry along the series",
      "right axis cosine ↔ sign agreement",
      [
        { act: () => geo.getByTestId("geometry-metric").selectOption("signAgreement"), done: { selector: legend, includes: "sign agreement" } },
        { act: () => geo.getByTestId("geometry-metric").selectOption("cosine"), done: { selector: legend, includes: "cos(" } },
      ],
      n,
    ),
  );

  const stats = page.getByTestId("chart-score-stats");
  await stats.locator(".recharts-scatter-symbol").first().waitFor();
  const statsRoot = '[data-testid="chart-score-stats"]';
  out.push(
    await measureToggle(
      page,
      "scores against statistics",
      "x axis SFT discard ↔ sign conflicts (a server query)",
      [
        { act: () => stats.getByTestId("score-stats-statistic").selectOption("signConflictPct"), done: { selector: `${statsRoot} .recharts-wrapper`, includes: "sign conflict" } },
        { act: () => stats.getByTestId("score-stats-statistic").selectOption("sftDiscardPct"), done: { selector: `${statsRoot} .recharts-wrapper`, includes: "SFT parameters discarded" } },
      ],
      n,
    ),
  );

  const parallel = page.getByTestId("chart-parallel");
  await parallel.getByTestId("parallel-line").first().waitFor();
  const total = await parallel.getByTestId("parallel-line").count();
  const area = parallel.locator('[data-testid="parallel-axis"][data-axis="tokensB"] [data-testid="parallel-brush-area"]');
  await area.scrollIntoViewIfNeeded();
  const box = (await area.boundingBox())!;
  const x = box.x + box.width / 2;
  const brush = async (from: number, to: number) => {
    await page.mouse.move(x, box.y + box.height * from);
    await page.mouse.down();
    await page.mouse.move(x, box.y + box.height * to, { steps: 3 });
  };
  // Timed: the mouse-up that commits the brush → the merge count shows the new selection. Two
  // brushes alternate; the warm-up learns the count each one shows.
  const ranges: [number, number][] = [
    [0.02, 0.5],
    [0.3, 0.98],
  ];
  const shown: string[] = [];
  for (const [from, to] of ranges) {
    const before = ((await page.getByTestId("pc-count").textContent()) ?? "").trim();
    await brush(from, to);
    await page.mouse.up();
    await page.waitForFunction(`(document.querySelector('[data-testid="pc-count"]')?.textContent ?? "").trim() !== ${JSON.stringify(before)}`, undefined, { timeout: 10_000 });
    shown.push(((await page.getByTestId("pc-count").textContent()) ?? "").trim());
  }
  if (shown[0] === shown[1]) throw new Error(`both brushes select the same merges (${shown[0]}): cannot time a change`);
  const brushed: number[] = [];
  for (let i = 0; i < n + 2; i++) {
    const [from, to] = ranges[i % 2]!;
    await brush(from, to);
    const ms = await timeInteraction(page, () => page.mouse.up(), { selector: '[data-testid="pc-count"]', equals: shown[i % 2]! });
    if (i >= 2) brushed.push(ms);
  }
  out.push({ view: "parallel coordinates", interaction: `brush CT tokens (of ${total} merges)`, ...summary(brushed) });

  await page.goto(`${base}/analysis/compare?experiment=${experimentId}`);
  await page.getByTestId("chart-compare").locator(".recharts-bar-rectangle").first().waitFor();
  await page.getByTestId("chart-methods").locator(".recharts-bar-rectangle").first().waitFor();
  const ticks = (id: string) => `[data-testid="${id}"] .recharts-wrapper`;
  out.push(
    await measureToggle(
      page,
      "TIES vs TIES-SV + methods side by side",
      "group per module ↔ per layer (both charts)",
      [
        { act: () => page.getByTestId("compare-group").selectOption("layer"), done: { selector: ticks("chart-methods"), includes: "layer 0" } },
        { act: () => page.getByTestId("compare-group").selectOption("module"), done: { selector: ticks("chart-methods"), includes: "embed" } },
      ],
      n,
    ),
  );
  return out;
}
