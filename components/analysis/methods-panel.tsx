"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { memo, useMemo } from "react";
import { ChartEmpty } from "@/components/charts/chart-empty";
import { formatPct } from "@/components/charts/format";
import { MethodsChart } from "@/components/charts/methods-chart";
import { ErrorAlert } from "@/components/common/error-alert";
import { useTRPC } from "@/components/providers/trpc";
import type { CompareState } from "./compare-state";
import { methodsChartView } from "./methods-data";

export interface MethodsPanelProps {
  experimentId: string;
  checkpointId: string;
  sftDensity: number | null;
  ctDensity: number | null;
  slack: number | null;
  group: CompareState["group"];
  tableOpen: boolean;
  patch: (p: Partial<CompareState>) => void;
}

/** What each merge method keeps and discards of the SFT task vector at the compared checkpoint and densities. */
export const MethodsPanel = memo(function MethodsPanel(props: MethodsPanelProps) {
  const trpc = useTRPC();
  const q = useQuery({
    ...trpc.charts.methods.queryOptions({ experimentId: props.experimentId, checkpointId: props.checkpointId, sftDensity: props.sftDensity, ctDensity: props.ctDensity, slack: props.slack }),
    placeholderData: keepPreviousData,
  });
  const what = props.group;
  const view = useMemo(() => (q.data ? methodsChartView(q.data, what) : null), [q.data, what]);
  if (q.isError) return <ErrorAlert error={q.error} prefix="Methods side by side:" />;
  if (!q.data || !view) return <p className="muted" role="status">Loading the methods side by side…</p>;
  const d = q.data;
  const missing = d.missing;
  return (
    <MethodsChart
      title="Methods side by side: the SFT task vector kept and discarded"
      subtitle={`${d.checkpoint?.label ?? "—"} · k_sft ${d.sftDensity}, k_ct ${d.ctDensity} · per ${what}`}
      data={view.rows}
      index={what}
      methods={view.methods}
      config={view.config}
      valueFormatter={(v) => formatPct(v)}
      table={view.table}
      tableOpen={props.tableOpen}
      onTableOpenChange={(open) => props.patch({ mtable: open })}
      empty={
        view.methods.length === 0 ? (
          <ChartEmpty title={`No analysis of this checkpoint at k_sft ${d.sftDensity}, k_ct ${d.ctDensity}`}>
            <p>Queue an analyze sweep with the methods to compare (TIES, TIES-SV, DARE-TIES, breadcrumbs-TIES, DELLA, SCE) at these densities.</p>
          </ChartEmpty>
        ) : undefined
      }
      caption={
        <>
          Per {what}: the share of the SFT model&apos;s parameters that survive the method&apos;s trim and the sign election (solid), that survive the trim but lose the election (pale;
          TIES-SV after its rescue) — the rest is trimmed away. Each method from its own analysis.
          {missing.length ? <span data-testid="methods-missing"> Not analysed here: {missing.join(", ")}.</span> : null}
        </>
      }
    />
  );
});
