"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/providers/trpc";

function Badge({ ok, testId }: { ok: boolean; testId: string }) {
  return (
    <span className={ok ? "badge badge-ok" : "badge badge-bad"} data-testid={testId} data-ok={ok}>
      {ok ? "healthy" : "unhealthy"}
    </span>
  );
}

/** Live status of the database, the queue and the native engine (polled). */
export function HealthStatus() {
  const trpc = useTRPC();
  const status = useQuery({ ...trpc.health.status.queryOptions(), refetchInterval: 10_000 });

  if (status.isPending) return <p className="muted" role="status">Checking system status…</p>;
  if (status.isError)
    return (
      <p className="error" role="alert" data-testid="health-error">
        Could not reach the server: {status.error.message}
      </p>
    );

  const s = status.data;
  const queueCounts = Object.entries(s.queue.counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
  return (
    <section className="card" aria-labelledby="health-title" data-testid="health-status">
      <h2 id="health-title">System status</h2>
      <table className="kv">
        <tbody>
          <tr>
            <th scope="row">Database</th>
            <td><Badge ok={s.db.ok} testId="health-db" /></td>
            <td className="muted">{s.db.ok ? `${s.db.detail} — ${s.db.file}` : s.db.detail}</td>
          </tr>
          <tr>
            <th scope="row">Job queue</th>
            <td><Badge ok={s.queue.ok} testId="health-queue" /></td>
            <td className="muted">{s.queue.ok ? `${s.queue.detail}: ${queueCounts}` : s.queue.detail}</td>
          </tr>
          <tr>
            <th scope="row">Native engine</th>
            <td><Badge ok={s.native.ok} testId="health-native" /></td>
            <td className="muted">
              {s.native.ok
                ? `v${s.native.version} (${s.native.detail}; ${s.native.cpuFeatures.join(" ")}) — methods: ${s.native.methods.join(", ")}`
                : s.native.detail}
            </td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}
