// Health of the three things the dashboard depends on: the database, the job
// queue and the native merge engine. Each check reports its own failure
// instead of failing the whole status.
import { z } from "zod";
import { db } from "../../db/client";
import { env } from "../../env";
import { loadNative } from "../../engine/native";

const componentSchema = z.object({
  ok: z.boolean(),
  detail: z.string(),
});

export const healthStatusSchema = z.object({
  ok: z.boolean(),
  db: componentSchema.extend({ file: z.string() }),
  queue: componentSchema.extend({
    mode: z.enum(["embedded", "redis"]),
    counts: z.record(z.string(), z.number()),
  }),
  native: componentSchema.extend({
    version: z.string().nullable(),
    hardwareThreads: z.number().nullable(),
    cpuFeatures: z.array(z.string()),
    methods: z.array(z.string()),
  }),
});
export type HealthStatus = z.infer<typeof healthStatusSchema>;

/** A Redis URL without its credentials (REDIS_URL may carry a password). */
function redisLabel(url: string | undefined): string {
  try {
    const u = new URL(url ?? "");
    return `${u.protocol}//${u.host}`;
  } catch {
    return "Redis";
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function checkDb(): Promise<HealthStatus["db"]> {
  const file = env().databaseFile;
  try {
    const client = await db();
    const rows = await client.$queryRawUnsafe<{ ok: number | bigint }[]>("SELECT 1 AS ok");
    return { ok: Number(rows[0]?.ok) === 1, detail: "SQLite (embedded)", file };
  } catch (err) {
    return { ok: false, detail: message(err), file };
  }
}

async function checkQueue(): Promise<HealthStatus["queue"]> {
  const mode = env().REDIS_URL ? "redis" : "embedded";
  try {
    const client = await db();
    const groups = await client.job.groupBy({ by: ["status"], _count: { _all: true } });
    const counts: Record<string, number> = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
    for (const g of groups) counts[g.status] = g._count._all;
    if (mode === "redis") {
      const { redisQueue } = await import("../../jobs/bullmq/producer");
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`Redis at ${redisLabel(env().REDIS_URL)} did not answer within 2 s`)), 2000).unref());
      await Promise.race([redisQueue().getJobCounts("wait"), timeout]);
    }
    return { ok: true, detail: mode === "embedded" ? "jobs stored in SQLite" : `BullMQ on Redis (${redisLabel(env().REDIS_URL)})`, mode, counts };
  } catch (err) {
    return { ok: false, detail: message(err), mode, counts: {} };
  }
}

function checkNative(): HealthStatus["native"] {
  try {
    const info = loadNative().engineInfo();
    return {
      ok: true,
      detail: `${info.compiler}, ${info.hardwareThreads} threads`,
      version: info.version,
      hardwareThreads: info.hardwareThreads,
      cpuFeatures: info.cpuFeatures,
      methods: info.methods,
    };
  } catch (err) {
    return { ok: false, detail: message(err), version: null, hardwareThreads: null, cpuFeatures: [], methods: [] };
  }
}

/**
 * What a signed-out caller sees: whether each part works, without the database location,
 * job counts, engine details or error texts (those are for signed-in users).
 */
export function publicHealth(s: HealthStatus): HealthStatus {
  const hide = (c: { ok: boolean }) => ({ ok: c.ok, detail: c.ok ? "ok" : "unavailable (sign in for details)" });
  return {
    ok: s.ok,
    db: { ...hide(s.db), file: "" },
    queue: { ...hide(s.queue), mode: s.queue.mode, counts: {} },
    native: { ...hide(s.native), version: null, hardwareThreads: null, cpuFeatures: [], methods: [] },
  };
}

export async function getHealthStatus(): Promise<HealthStatus> {
  const [dbStatus, queue] = await Promise.all([checkDb(), checkQueue()]);
  const native = checkNative();
  return { ok: dbStatus.ok && queue.ok && native.ok, db: dbStatus, queue, native };
}
