import type { JobCounts as Counts } from "@/server/services/experiments/schemas";

/** "2 running · 5 done · 1 failed" (only the non-zero states). */
export function JobCounts({ counts }: { counts: Counts }) {
  const parts = (Object.keys(counts) as (keyof Counts)[]).filter((k) => counts[k] > 0);
  if (parts.length === 0) return <span className="muted">none</span>;
  return (
    <span>
      {parts.map((k, i) => (
        <span key={k}>
          {i > 0 ? " · " : null}
          <span className={`status status-${k}`}>{counts[k]} {k}</span>
        </span>
      ))}
    </span>
  );
}
