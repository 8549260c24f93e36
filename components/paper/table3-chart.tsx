"use client";

import { GroupedBarChart } from "./grouped-bar-chart";

export const formatPercent = (v: number) => v.toFixed(2);

/** Table 3 as bars (data shaped on the server by the paper service). */
export function Table3Chart({ data, index, categories }: { data: Record<string, string | number | null>[]; index: string; categories: string[] }) {
  return (
    <GroupedBarChart
      data={data}
      index={index}
      categories={categories}
      valueFormatter={formatPercent}
      yLabel="average score (%)"
      title="Table 3: average score per language and model (bars), as published"
      data-testid="paper-table3-chart"
    />
  );
}
