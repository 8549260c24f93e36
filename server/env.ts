// Environment, validated in one place. Every other module reads settings from here.
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { parseByteSize } from "./engine/output/shard-size";
import { allowedHostEntries, isHostName, isLoopbackHost, type HostEntry } from "./http/hosts";

const envSchema = z.object({
  MERGESCOPE_DATA_DIR: z.string().min(1).default("./data"),
  /** Colon-separated directories that checkpoints may be registered from. Defaults to the data directory. */
  MERGESCOPE_MODEL_ROOTS: z.string().optional(),
  /** Worker processes started next to the web server (embedded mode; each runs several jobs at once). */
  MERGESCOPE_WORKERS: z.coerce.number().int().min(0).max(256).optional(),
  /** Memory the jobs running at once may use, by their estimated working sets: 12GB, 12GiB, 512MB or bytes. */
  MERGESCOPE_MEMORY_BUDGET: z
    .string()
    .refine((v) => {
      try {
        parseByteSize(v);
        return true;
      } catch {
        return false;
      }
    }, "must be a size such as 12GB, 12GiB, 512MB or a number of bytes")
    .optional(),
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
  MERGESCOPE_SERVER: z.string().url().default("http://localhost:3000"),
  /** Where merged models are written (default <data dir>/merges); scale-out workers point it at the shared filesystem. */
  MERGESCOPE_OUTPUT_DIR: z.string().min(1).optional(),
  /** The address people open (e.g. https://mergescope.lab.example behind a TLS proxy): printed links, cookies' Secure flag. */
  MERGESCOPE_PUBLIC_URL: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).optional(),
  /** Signs session cookies; default: a random secret kept in <data dir>/auth-secret (0600). */
  MERGESCOPE_AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** A sign-in lasts this long without activity (refreshed daily while used). */
  MERGESCOPE_SESSION_DAYS: z.coerce.number().min(0.01).max(365).default(7),
  /** Optional OpenID Connect single sign-on: issuer, client id and secret together. */
  MERGESCOPE_OIDC_ISSUER: z.url({ protocol: /^https?$/, error: "must be the provider's http(s) issuer URL" }).optional(),
  MERGESCOPE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  MERGESCOPE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  /** Label of the sign-in button, e.g. "Lab SSO". */
  MERGESCOPE_OIDC_NAME: z.string().min(1).max(60).default("single sign-on"),
  /** Role of an account created by a first single sign-on. */
  MERGESCOPE_OIDC_ROLE: z.enum(["viewer", "researcher"]).default("viewer"),
}).superRefine((e, ctx) => {
  const oidc = { MERGESCOPE_OIDC_ISSUER: e.MERGESCOPE_OIDC_ISSUER, MERGESCOPE_OIDC_CLIENT_ID: e.MERGESCOPE_OIDC_CLIENT_ID, MERGESCOPE_OIDC_CLIENT_SECRET: e.MERGESCOPE_OIDC_CLIENT_SECRET };
  const given = Object.entries(oidc).filter(([, v]) => v !== undefined);
  if (given.length > 0 && given.length < 3)
    for (const [k, v] of Object.entries(oidc))
      if (v === undefined) ctx.addIssue({ code: "custom", path: [k], message: `single sign-on needs MERGESCOPE_OIDC_ISSUER, _CLIENT_ID and _CLIENT_SECRET together (${given.map(([g]) => g).join(", ")} set)` });
});

export type Env = z.infer<typeof envSchema> & {
  /** Host header allowlist (DNS-rebinding defence): loopback names, HOST, MERGESCOPE_ALLOWED_HOSTS, MERGESCOPE_PUBLIC_URL's host. */
  allowedHosts: HostEntry[];
  /** True when the web server listens on loopback only. */
  bindsLoopback: boolean;
  dataDir: string;
  databaseFile: string;
  modelRoots: string[];
  workers: number;
  /** MERGESCOPE_MEMORY_BUDGET in bytes (default: 60% of RAM), shared by this machine's worker processes. */
  memoryBudgetBytes: number;
  outputDir: string;
  /** Single sign-on settings, when configured. */
  oidc: { issuer: string; discoveryUrl: string; clientId: string; clientSecret: string; name: string; role: "viewer" | "researcher" } | null;
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
    // The public address people open is allowed too (a TLS proxy forwarding Host, or its Origin).
    const publicHost = e.MERGESCOPE_PUBLIC_URL ? new URL(e.MERGESCOPE_PUBLIC_URL).host : undefined;
    allowedHosts = allowedHostEntries(e.HOST, [e.MERGESCOPE_ALLOWED_HOSTS, publicHost].filter(Boolean).join(","));
  } catch (err) {
    throw new Error(`invalid environment:\n  MERGESCOPE_ALLOWED_HOSTS: ${(err as Error).message}\nFix these variables and restart.`);
  }
  cached = {
    ...e,
    allowedHosts,
    bindsLoopback: isLoopbackHost(e.HOST.replace(/^\[|\]$/g, "").toLowerCase()),
    dataDir,
    databaseFile: path.join(dataDir, "mergescope.db"),
    modelRoots: withOutputDir(
      (e.MERGESCOPE_MODEL_ROOTS ?? dataDir)
        .split(":")
        .filter((p) => p.length > 0)
        .map((p) => path.resolve(p)),
      path.resolve(e.MERGESCOPE_OUTPUT_DIR ?? path.join(dataDir, "merges")),
    ),
    // One process schedules several jobs (server/jobs/scheduler.ts); more processes split the cores and the budget.
    workers: e.MERGESCOPE_WORKERS ?? 1,
    memoryBudgetBytes: e.MERGESCOPE_MEMORY_BUDGET ? parseByteSize(e.MERGESCOPE_MEMORY_BUDGET) : Math.floor(os.totalmem() * DEFAULT_MEMORY_SHARE),
    outputDir: path.resolve(e.MERGESCOPE_OUTPUT_DIR ?? path.join(dataDir, "merges")),
    oidc:
      e.MERGESCOPE_OIDC_ISSUER && e.MERGESCOPE_OIDC_CLIENT_ID && e.MERGESCOPE_OIDC_CLIENT_SECRET
        ? {
            issuer: e.MERGESCOPE_OIDC_ISSUER,
            discoveryUrl: `${e.MERGESCOPE_OIDC_ISSUER.replace(/\/+$/, "")}/.well-known/openid-configuration`,
            clientId: e.MERGESCOPE_OIDC_CLIENT_ID,
            clientSecret: e.MERGESCOPE_OIDC_CLIENT_SECRET,
            name: e.MERGESCOPE_OIDC_NAME,
            role: e.MERGESCOPE_OIDC_ROLE,
          }
        : null,
  };
  return cached;
}

/**
 * The model roots always include where merges are written: the app must be able to register
 * and evaluate its own outputs, whatever MERGESCOPE_MODEL_ROOTS lists.
 */
function withOutputDir(roots: string[], outputDir: string): string[] {
  const covered = roots.some((r) => outputDir === r || outputDir.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
  return covered ? roots : [...roots, outputDir];
}

/** Jobs may use this share of RAM unless MERGESCOPE_MEMORY_BUDGET says otherwise (the rest: web server, page cache). */
const DEFAULT_MEMORY_SHARE = 0.6;

/** Tests change the environment between cases. */
export function resetEnvCache(): void {
  cached = undefined;
}
