"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { memo, useMemo } from "react";
import { ChartEmpty } from "@/components/charts/chart-empty";
import { Figure2Chart, type ReferenceValue } from "@/components/charts/figure2-chart";
import { FAMILY_STYLES, OKABE_ITO } from "@/components/charts/palette";
import type { ChartRow } from "@/components/charts/types";
import { ErrorAlert } from "@/components/common/error-alert";
import { formatTokensB } from "@/components/charts/format";
import type { Figure2Data } from "@/server/services/charts/schemas";
import { SATURATION_TOLERANCE } from "@/server/services/charts/saturation";
import { useTRPC } from "@/components/providers/trpc";
import type { Selection } from "@/server/services/charts/sweep-select";
import { FIG2_FAMILIES, type TableId } from "./analysis-state";
import { fig2View } from "./figure-data";

const FAMILY_LABELS: Record<string, string> = { CT: "CT", CTSFT: "CTSFT", ties: "TIES", ties_sv: "TIES-SV", linear: "WAVG", task_arithmetic: "TA" };

export interface Figure2PanelProps {
  experimentId: string;
  split: "dev" | "test";
  task: string;
  families: string[] | null;
  densities: "paper" | "explorer" | "all";
  /** The explorer's densities (only used with densities = "explorer"). */
  sel: Selection | null;
  paper: boolean;
  /** CT tokens on a log axis. */
  xlog: boolean;
  /** Token counts of the checkpoints shown (null = all). */
  tokens: number[] | null;
  tableOpen: boolean;
  onChange: (patch: { split?: "dev" | "test"; task?: string; methods?: string[] | null; f2dens?: "paper" | "explorer" | "all"; paper?: boolean; xlog?: boolean }) => void;
  onTable: (id: TableId, open: boolean) => void;
}

/** Figure 2: scores over CT tokens; refetched every 15 s so series fill in as scores are imported. */
export const Figure2Panel = memo(function Figure2Panel(props: Figure2PanelProps) {
  const trpc = useTRPC();
  const q = useQuery({
    ...trpc.charts.figure2.queryOptions({ experimentId: props.experimentId, split: props.split, task: props.task }),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
  const f = q.data;
  const keepTokens = useMemo(() => {
    const set = props.tokens ? new Set(props.tokens) : null;
    return (t: number) => !set || set.has(t);
  }, [props.tokens]);
  const view = useMemo(
    () => (f ? fig2View(f, { families: props.families, densities: props.densities, sel: props.sel, keepTokens }) : null),
    [f, props.families, props.densities, props.sel, keepTokens],
  );
  if (q.isError) return <ErrorAlert error={q.error} prefix="Figure 2:" />;
  if (!f || !view) return <p className="muted" role="status">Loading Figure 2…</p>;

  const data = f.rows.filter((r) => typeof r.tokensB === "number" && keepTokens(r.tokensB)) as ChartRow[];
  const references: ReferenceValue[] = [
    ...f.references
      .filter((r) => r.value !== null)
      .map((r) => ({ key: r.key, label: `${r.label}${r.partial ? " (partial)" : ""}`, value: r.value!, color: FAMILY_STYLES[r.key]!.color, dash: FAMILY_STYLES[r.key]!.dash })),
    ...(props.paper ? f.paper.map((p, i) => ({ key: `paper${i}`, label: p.label, value: p.value, color: OKABE_ITO.purple, dash: "2 4" })) : []),
  ];
  const presentFamilies = [...new Set(f.series.map((s) => s.family))];
  const detail = (row: ChartRow, key: string) => {
    const s = f.series.find((x) => x.dataKey === key);
    const p = s?.points.find((x) => x.tokensB === row.tokensB);
    return p ? `${p.modelName}${p.partial ? ` — partial average: ${p.detail}` : ""}` : null;
  };
  const noScores = f.scoreCountAnySplit === 0;
  const empty =
    noScores || view.pointCount === 0 ? (
      <ChartEmpty title={noScores ? "No scores yet for this experiment's models" : `No ${f.split} scores for ${f.task === "avg" ? "the average" : f.task} among the series shown`} testId="fig2-empty">
        {noScores ? (
          <>
            <p>
              Figure 2 plots evaluation scores of the CT checkpoints, the CTSFT checkpoints and the merges of each checkpoint with the SFT model ({f.mergeCount} finished
              merge{f.mergeCount === 1 ? "" : "s"} so far). Import lm-evaluation-harness results on the <Link href="/scores">Scores page</Link> (or{" "}
              <code>mergescope import-scores results.json</code>), or queue evaluations of the merges there; each series fills in as its scores arrive.
            </p>
            {f.mergeCount === 0 ? (
              <p>
                No merges yet? Queue a sweep of merges over the checkpoints in the <Link href={`/builder?exp=${props.experimentId}`}>merge builder</Link>.
              </p>
            ) : null}
          </>
        ) : (
          <p>
            {f.scoreCount} {f.split} score{f.scoreCount === 1 ? "" : "s"} in total; try the other split, another task, or show all density pairs.
          </p>
        )}
      </ChartEmpty>
    ) : undefined;

  return (
    <Figure2Chart
      title="Figure 2 — score vs CT tokens"
      subtitle={`${f.scoreLabel}, ${f.split} split`}
      data={data}
      index="tokensB"
      xScale={props.xlog ? "log" : "linear"}
      categories={view.categories}
      config={view.config}
      valueFormatter={(v) => v.toFixed(2)}
      references={references}
      yLabel={f.task === "avg" ? "average score (%)" : "score (%)"}
      detail={detail}
      table={view.table}
      tableOpen={props.tableOpen}
      onTableOpenChange={(o) => props.onTable("fig2", o)}
      empty={empty}
      caption={
        <>
          {f.paperNote && props.paper ? `Paper overlay: ${f.paperNote}. ` : ""}
          Points are the latest score of each model; merges with other densities are separate series.
          {view.hiddenByDensity > 0 ? (
            <strong data-testid="fig2-hidden">
              {" "}
              {view.hiddenByDensity} merge series with scores at other densities not shown: choose &ldquo;every density pair&rdquo;.
            </strong>
          ) : null}
          <SaturationReadout items={f.saturation.filter((x) => view.categories.some((c) => view.config[c]?.label === x.label))} />
        </>
      }
      controls={
        <>
          <label>
            Score
            <select value={f.task} onChange={(e) => props.onChange({ task: e.target.value })} data-testid="fig2-task">
              <option value="avg">Language average (Table 3)</option>
              {f.tasks.map((t) => (
                <option key={t.task} value={t.task}>
                  {t.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Split
            <select value={f.split} onChange={(e) => props.onChange({ split: e.target.value === "dev" ? "dev" : "test" })} data-testid="fig2-split">
              <option value="test">test</option>
              <option value="dev">dev</option>
            </select>
          </label>
          <label>
            Merges
            <select value={props.densities} onChange={(e) => props.onChange({ f2dens: e.target.value as "paper" | "explorer" | "all" })} data-testid="fig2-densities">
              <option value="paper">paper densities (k=0.2/1)</option>
              <option value="explorer">explorer&apos;s densities</option>
              <option value="all">every density pair</option>
            </select>
          </label>
          <fieldset className="inline-checks">
            <legend>Series</legend>
            {FIG2_FAMILIES.filter((fam) => presentFamilies.includes(fam)).map((fam) => {
              const on = !props.families || props.families.includes(fam);
              return (
                <label key={fam}>
                  <input
                    type="checkbox"
                    checked={on}
                    onChange={() => {
                      const cur = props.families ?? presentFamilies;
                      const next = on ? cur.filter((x) => x !== fam) : [...cur, fam];
                      props.onChange({ methods: next.length === presentFamilies.length ? null : next });
                    }}
                  />
                  {FAMILY_LABELS[fam] ?? fam}
                </label>
              );
            })}
          </fieldset>
          <label>
            <input type="checkbox" checked={props.paper} onChange={(e) => props.onChange({ paper: e.target.checked })} data-testid="fig2-paper" />
            paper&apos;s numbers
          </label>
          <label>
            <input type="checkbox" checked={props.xlog} onChange={(e) => props.onChange({ xlog: e.target.checked })} data-testid="fig2-xlog" />
            log scale (CT tokens)
          </label>
        </>
      }
    />
  );
});

const pctText = (v: number | null) => (v === null ? "—" : `${v.toFixed(1)} %`);

/** Where each drawn series stops improving, and what the SFT discard rate did after it. */
function SaturationReadout({ items }: { items: Figure2Data["saturation"] }) {
  if (items.length === 0) return null;
  return (
    <ul className="saturation" data-testid="fig2-saturation">
      {items.map((x) => (
        <li key={x.key} data-series={x.key}>
          <strong>{x.label}</strong> stops improving at {formatTokensB(x.tokensB!)} ({x.value!.toFixed(2)}; no later checkpoint gains more than {SATURATION_TOLERANCE})
          {x.discardAt !== null && x.discardLast !== null
            ? `; the SFT discard rate ${x.discardKeptRising ? "kept rising" : "did not keep rising"} after it (${pctText(x.discardAt)} → ${pctText(x.discardLast)} at the last checkpoint)`
            : ""}
        </li>
      ))}
    </ul>
  );
}
