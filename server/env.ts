// Environment, validated in one place. Every other module reads settings from here.
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { allowedHostEntries, isHostName, isLoopbackHost, type HostEntry } from "./http/hosts";

const envSchema = z.object({
  MERGESCOPE_DATA_DIR: z.string().min(1).default("./data"),
  /** Colon-separated directories that checkpoints may be registered from. Defaults to the data directory. */
  MERGESCOPE_MODEL_ROOTS: z.string().optional(),
  /** Worker processes started next to the web server (embedded mode). */
  MERGESCOPE_WORKERS: z.coerce.number().int().min(0).max(256).optional(),
  /** Set to "0" to skip creating the demo experiment on first start. */
  MERGESCOPE_DEMO: z.enum(["0", "1"]).default("1"),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Interface the web server binds: loopback unless set (0.0.0.0 or :: for every interface). */
  HOST: z
    .string()
    .default("127.0.0.1")
    .refine((h) => isHostName(h.replace(/^\[|\]$/g, "")), "must be an IP address (127.0.0.1, 0.0.0.0, ::) or a host name, without spaces, scheme or port"),
  /** Comma-separated host names (optionally with :port) the server answers to, besides loopback and HOST. */
  MERGESCOPE_ALLOWED_HOSTS: z.string().optional(),
  REDIS_URL: z.string().url().optional(),
  MERGESCOPE_WORKER_TOKEN: z.string().min(16).optional(),
  MERGESCOPE_SERVER: z.string().url().default("http://localhost:3000"),
  /** Where merged models are written (default <data dir>/merges); scale-out workers point it at the shared filesystem. */
  MERGESCOPE_OUTPUT_DIR: z.string().min(1).optional(),
});

export type Env = z.infer<typeof envSchema> & {
  /** Host header allowlist (DNS-rebinding defence): loopback names, HOST, MERGESCOPE_ALLOWED_HOSTS. */
  allowedHosts: HostEntry[];
  /** True when the web server listens on loopback only. */
  bindsLoopback: boolean;
  dataDir: string;
  databaseFile: string;
  modelRoots: string[];
  workers: number;
  outputDir: string;
};

let cached: Env | undefined;

export function env(): Env {
  if (cached) return cached;
  const parsed = envSchema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid environment:\n${lines.join("\n")}\nFix these variables and restart.`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.MERGESCOPE_DATA_DIR);
  let allowedHosts: HostEntry[];
  try {
    allowedHosts = allowedHostEntries(e.HOST, e.MERGESCOPE_ALLOWED_HOSTS);
  } catch (err) {
    throw new Error(`invalid environment:\n  MERGESCOPE_ALLOWED_HOSTS: ${(err as Error).message}\nFix these variables and restart.`);
  }
  cached = {
    ...e,
    allowedHosts,
    bindsLoopback: isLoopbackHost(e.HOST.replace(/^\[|\]$/g, "").toLowerCase()),
    dataDir,
    databaseFile: path.join(dataDir, "mergescope.db"),
    modelRoots: (e.MERGESCOPE_MODEL_ROOTS ?? dataDir)
      .split(":")
      .filter((p) => p.length > 0)
      .map((p) => path.resolve(p)),
    workers: e.MERGESCOPE_WORKERS ?? Math.max(1, os.availableParallelism()),
    outputDir: path.resolve(e.MERGESCOPE_OUTPUT_DIR ?? path.join(dataDir, "merges")),
  };
  return cached;
}

/** Tests change the environment between cases. */
export function resetEnvCache(): void {
  cached = undefined;
}
