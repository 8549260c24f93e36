import { formatTokens } from "@/components/common/format";
import type { RegisterFolderResult } from "@/server/services/models/schemas";

/** Per-subdirectory outcome of a folder registration. */
export function FolderResults({ result }: { result: RegisterFolderResult }) {
  return (
    <div data-testid="folder-results" role="status">
      <p className={result.failed > 0 ? "alert alert-warn" : "alert alert-ok"}>
        {result.registered} registered, {result.skipped} skipped, {result.failed} failed in <code>{result.folder}</code>.
      </p>
      <div className="table-wrap">
        <table className="data">
          <thead>
            <tr>
              <th scope="col">Subdirectory</th>
              <th scope="col">Result</th>
              <th scope="col" className="num">CT tokens</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {result.entries.map((e) => (
              <tr key={e.name} data-testid="folder-entry" data-name={e.name} data-status={e.status}>
                <td>{e.name}</td>
                <td>
                  <span className={`status status-${e.status === "registered" ? "done" : e.status === "skipped" ? "cancelled" : "failed"}`}>{e.status}</span>
                </td>
                <td className="num">{e.model?.ctTokens != null ? formatTokens(e.model.ctTokens) : "—"}</td>
                <td>
                  {e.code ? <span className="code-tag">{e.code}</span> : null} {e.message ?? (e.tokensSource ? `tokens from ${e.tokensSource}` : "")}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
