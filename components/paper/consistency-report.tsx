// What the consistency check found in the paper: inconsistencies with both
// numbers and the computed hint, values no test-set size can produce, the
// text's claims recomputed, and naming differences. Server-renderable.
import type { ConsistencyReport } from "@/server/services/scores/paper";

export function ConsistencyReportView({ report }: { report: ConsistencyReport }) {
  const { discrepancies, suspicious, claims, labelNotes } = report;
  return (
    <section className="card paper-note" aria-labelledby="discrepancies-title" data-testid="paper-discrepancies">
      <h2 id="discrepancies-title">Where the paper disagrees with itself</h2>
      <p className="hint">
        MergeScope recomputed every average from the per-task tables (7–13 and 4) and compared the tables with each other to rounding (±{report.tolerance.toFixed(2)}):{" "}
        {report.checks} checks, {discrepancies.length} disagreement{discrepancies.length === 1 ? "" : "s"}. Marked † in the tables below.
      </p>
      {discrepancies.length === 0 ? (
        <p>No disagreements found.</p>
      ) : (
        <ol className="discrepancy-list">
          {discrepancies.map((d) => (
            <li key={d.id} data-testid="paper-discrepancy" data-id={d.id}>
              <strong>{d.message}</strong>{" "}
              <span className="nums">
                ({d.publishedWhere}: <b>{d.published.toFixed(2)}</b> vs {d.otherWhere}: <b>{d.other.toFixed(2)}</b>; difference {d.difference.toFixed(2)})
              </span>
              {d.hint && <div className="hint">{d.hint}</div>}
            </li>
          ))}
        </ol>
      )}
      {suspicious.length > 0 && (
        <details data-testid="paper-suspicious">
          <summary>
            {suspicious.length} task value{suspicious.length === 1 ? "" : "s"} that no whole number of correct answers can give (marked ?)
          </summary>
          <p className="hint">
            With Table 6&apos;s test-set sizes a score is k/N × 100 for a whole k. These are possible typos — or a different N — not proven errors; only the first changes an average beyond rounding.
          </p>
          <ul>
            {suspicious.map((s) => (
              <li key={s.id}>{s.message}</li>
            ))}
          </ul>
        </details>
      )}
      <details>
        <summary>Claims in the text, recomputed ({claims.filter((c) => c.ok).length} of {claims.length} hold)</summary>
        <ul>
          {claims.map((c) => (
            <li key={c.id} data-ok={c.ok}>
              §{c.section}: “{c.claim}” — {c.computed} {c.ok ? "✓" : "✗"}
            </li>
          ))}
        </ul>
      </details>
      {labelNotes.length > 0 && (
        <details>
          <summary>Naming</summary>
          <ul>
            {labelNotes.map((n) => (
              <li key={n}>{n}</li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
