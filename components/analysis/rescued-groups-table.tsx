import type { CompareGroup } from "@/server/services/charts/schemas";

const int = (n: number | null) => (n === null ? "" : String(Math.round(n)));
const pct = (num: number | null, den: number) => (num === null || den === 0 ? "" : ((100 * num) / den).toFixed(4));

/** Per layer or per module: the SFT model's trimmed, discarded (before / after) and rescued parameters. */
export function RescuedGroupsTable({ groups, what, testId }: { groups: CompareGroup[]; what: string; testId: string }) {
  return (
    <div className="table-wrap">
      <table className="data" data-testid={testId}>
        <caption className="sr-only">Parameters of the SFT model rescued by TIES-SV, per {what}</caption>
        <thead>
          <tr>
            <th scope="col">{what}</th>
            <th scope="col" className="num">nnz_trimmed[sft]</th>
            <th scope="col" className="num">TIES discarded</th>
            <th scope="col" className="num">TIES-SV discarded</th>
            <th scope="col" className="num">rescued</th>
            <th scope="col" className="num">discarded before (%)</th>
            <th scope="col" className="num">discarded after (%)</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((g) => (
            <tr key={g.key} data-key={g.key}>
              <th scope="row">{g.label}</th>
              <td className="num">{int(g.nnzTrimmed)}</td>
              <td className="num">{int(g.discardedTies)}</td>
              <td className="num">{int(g.discardedSv)}</td>
              <td className="num" data-col="rescued">{int(g.rescued)}</td>
              <td className="num">{pct(g.discardedTies, g.nnzTrimmed)}</td>
              <td className="num">{pct(g.discardedSv, g.nnzTrimmed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
