import type { ReactNode } from "react";

/** What a figure shows instead of an empty plot: why, and how to get the data. */
export function ChartEmpty({ title, children, testId }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="chart-empty" role="status" data-testid={testId}>
      <p>
        <strong>{title}</strong>
      </p>
      {children}
    </div>
  );
}
