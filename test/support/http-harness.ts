// The tRPC route (app/api/trpc/[trpc]/route.ts, request hygiene included) on a
// real HTTP port in the test process, and the health endpoint's latency
// measured while other work runs on the same event loop.
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { GET, POST } from "../../app/api/trpc/[trpc]/route";

export interface ApiServer {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  close(): Promise<void>;
}

function toRequest(req: http.IncomingMessage): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(`http://127.0.0.1${req.url ?? "/"}`, {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    ...(hasBody ? { duplex: "half" } : {}),
  } as RequestInit);
}

export async function startApiServer(): Promise<ApiServer> {
  const server = http.createServer(async (req, res) => {
    try {
      const handler = req.method === "POST" ? POST : GET;
      const response = await handler(toRequest(req));
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (err) {
      res.writeHead(599).end(String(err));
    }
  });
  // Longer than any test: the client's keep-alive sockets are never closed under it (ECONNRESET).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

/** One request with full control of the headers (Host included). */
export function rawRequest(server: ApiServer, opts: { path: string; method?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: server.port,
        path: opts.path,
        method: opts.method ?? "GET",
        // A body the server refuses unread ends its connection: never reuse that socket.
        agent: opts.body === undefined ? agent : false,
        headers: { host: `127.0.0.1:${server.port}`, ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

export interface Latency {
  /** Slowest health answer while the work ran (ms, wall clock). */
  maxMs: number;
  /**
   * The same answers without the time this thread sat runnable in the kernel's run queue
   * (Linux schedstat): what the answer would have taken on an idle machine. On this shared
   * 2-core host other processes often keep the thread off the CPU for hundreds of ms; that
   * is not the server blocking its own loop. Equals maxMs where schedstat is unavailable.
   */
  maxOwnMs: number;
  /** Of the slowest answer (by maxOwnMs): the thread's time on the CPU (ms), the rest being sleep or I/O waits. */
  slowestCpuMs: number;
  /** Health answers received while the work ran. */
  samples: number;
  medianMs: number;
}

/** This thread's [on-CPU, waiting-runnable] nanoseconds (Linux schedstat), or null. */
function schedstat(): [number, number] | null {
  try {
    const parts = readFileSync("/proc/thread-self/schedstat", "utf8").split(" ");
    return [Number(parts[0]), Number(parts[1])];
  } catch {
    return null;
  }
}

/**
 * Runs `work` while asking /api/trpc/health.status over and over (one request
 * at a time, 10 ms apart) on the same event loop, and reports how long the
 * health answers took. A request that blocks the loop shows as a slow answer.
 */
export async function healthLatencyWhile<T>(server: ApiServer, work: () => Promise<T>): Promise<{ result: T; latency: Latency }> {
  let done = false;
  const times: number[] = [];
  const own: { ms: number; cpuMs: number }[] = [];
  const pinger = (async () => {
    while (!done) {
      const s0 = schedstat();
      const t0 = performance.now();
      await rawRequest(server, { path: "/api/trpc/health.status" });
      const wall = performance.now() - t0;
      const s1 = schedstat();
      times.push(wall);
      own.push(s0 && s1 ? { ms: Math.max(0, wall - (s1[1] - s0[1]) / 1e6), cpuMs: (s1[0] - s0[0]) / 1e6 } : { ms: wall, cpuMs: wall });
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  // Let the first ping start before the work takes the loop.
  await new Promise((r) => setTimeout(r, 20));
  let result: T;
  try {
    result = await work();
  } finally {
    done = true;
    await pinger;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const slowest = own.reduce<(typeof own)[number] | undefined>((m, x) => (!m || x.ms > m.ms ? x : m), undefined);
  return {
    result,
    latency: {
      maxMs: sorted.at(-1) ?? 0,
      maxOwnMs: slowest?.ms ?? 0,
      slowestCpuMs: slowest?.cpuMs ?? 0,
      samples: sorted.length,
      medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
    },
  };
}

