"use client";

/** Marks the moment a slider moved; the figures measure their re-render against it (bench/charts). */
export function markExplorerInput(): void {
  if (typeof performance !== "undefined") {
    performance.clearMarks("ms-explorer-input");
    performance.mark("ms-explorer-input");
  }
}

/** One density slider over a grid's stops (the input's value is the stop index). */
export function DensitySlider(props: { id: string; label: string; grid: number[]; value: number; onChange: (v: number) => void; testId: string }) {
  const idx = Math.max(0, props.grid.indexOf(props.value));
  return (
    <div className="slider">
      <label htmlFor={props.id}>
        <span>{props.label}</span>
        <output htmlFor={props.id} data-testid={`${props.testId}-value`}>
          {props.value}
        </output>
      </label>
      <input
        id={props.id}
        type="range"
        min={0}
        max={Math.max(0, props.grid.length - 1)}
        step={1}
        value={idx}
        disabled={props.grid.length < 2}
        aria-valuetext={String(props.value)}
        data-testid={props.testId}
        onChange={(e) => {
          const v = props.grid[Number(e.target.value)];
          if (v !== undefined && v !== props.value) {
            markExplorerInput();
            props.onChange(v);
          }
        }}
      />
      <div className="ticks" aria-hidden="true">
        {props.grid.map((g) => (
          <span key={g}>{g}</span>
        ))}
      </div>
    </div>
  );
}
