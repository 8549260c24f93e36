import { formatBytes, formatCount, formatTokens } from "@/components/common/format";
import { RoleBadge } from "@/components/common/role-badge";
import { SyntheticBadge } from "@/components/common/synthetic-badge";
import type { ExperimentDetail } from "@/server/services/experiments/schemas";

/** The experiment's models in lineage order (base, SFT, CT series, CTSFT series, extras). */
export function ExperimentModels({ models }: { models: ExperimentDetail["models"] }) {
  return (
    <div className="table-wrap">
      <table className="data" data-testid="experiment-models">
        <caption className="sr-only">Models of the experiment</caption>
        <thead>
          <tr>
            <th scope="col">Place</th>
            <th scope="col">Name</th>
            <th scope="col" className="num">CT tokens</th>
            <th scope="col" className="num">Parameters</th>
            <th scope="col">Dtype</th>
            <th scope="col" className="num">Size</th>
            <th scope="col">Path</th>
          </tr>
        </thead>
        <tbody>
          {models.map(({ role, model: m }) => (
            <tr key={m.id} data-testid="experiment-model" data-role={role}>
              <td><RoleBadge role={role} /></td>
              <td>
                {m.name}
                {m.synthetic ? <SyntheticBadge /> : null}
              </td>
              <td className="num">{m.ctTokens !== null ? formatTokens(m.ctTokens) : "—"}</td>
              <td className="num">{formatCount(m.parameterCount)}</td>
              <td>{m.dtype ?? "—"}</td>
              <td className="num">{formatBytes(m.sizeBytes)}</td>
              <td className="path">{m.path}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
