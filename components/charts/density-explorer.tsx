"use client";

import { useId, type ReactNode } from "react";
import { ChartFrame, frameProps, type FigureFrameProps } from "./chart-frame";
import { DensitySlider, markExplorerInput } from "./density-slider";
import { HeatGrid } from "./heat-grid";
import type { ChartRow } from "./types";

export interface DensitySelection {
  sftDensity: number;
  ctDensity: number;
  slack: number | null;
}

export interface DensityExplorerProps extends FigureFrameProps {
  /** Slider stops: the sweep's grid. */
  sftGrid: number[];
  ctGrid: number[];
  slackGrid: number[];
  value: DensitySelection;
  onChange: (next: DensitySelection) => void;
  /** Overview: one row per SFT density (`index`), one value (%) per CT density column (`categories`). */
  data: ChartRow[];
  index: string;
  categories: string[];
  columnLabel: (key: string) => string;
  /** Which overview cell is the current selection. */
  selected: { row: number; key: string } | null;
  onCellClick: (row: number, key: string) => void;
  valueFormatter: (v: number) => string;
  summary?: ReactNode;
}

/**
 * The density explorer: two sliders over the sweep's grid (SFT density k_sft, CT density k_ct)
 * that re-derive Figures 3–4 in the browser from the loaded statistics, and an overview of the
 * SFT discard share over every density pair (click a cell to select it).
 */
export function DensityExplorer(props: DensityExplorerProps) {
  const id = useId();
  const { value } = props;
  return (
    <ChartFrame
      testId="chart-density-explorer"
      legend={[]}
      {...frameProps(props)}
      controls={
        <div className="explorer" style={{ width: "100%" }}>
          <DensitySlider id={`${id}-sft`} label="SFT density k_sft" grid={props.sftGrid} value={value.sftDensity} testId="density-sft" onChange={(v) => props.onChange({ ...value, sftDensity: v })} />
          <DensitySlider id={`${id}-ct`} label="CT density k_ct" grid={props.ctGrid} value={value.ctDensity} testId="density-ct" onChange={(v) => props.onChange({ ...value, ctDensity: v })} />
          {props.slackGrid.length > 1 ? (
            <DensitySlider
              id={`${id}-slack`}
              label="TIES-SV slack"
              grid={props.slackGrid}
              value={value.slack ?? props.slackGrid[0]!}
              testId="density-slack"
              onChange={(v) => props.onChange({ ...value, slack: v })}
            />
          ) : null}
          {props.controls}
        </div>
      }
      caption={props.summary}
    >
      <HeatGrid
        data={props.data}
        index={props.index}
        categories={props.categories}
        columnLabel={props.columnLabel}
        valueFormatter={props.valueFormatter}
        detail={props.detail}
        title={props.title}
        selected={props.selected}
        onCellClick={(row, key) => {
          markExplorerInput();
          props.onCellClick(row, key);
        }}
        rowHeader="k_sft"
        columnHeader="k_ct"
        cellWidth={58}
      />
    </ChartFrame>
  );
}
