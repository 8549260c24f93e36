// Starts a throw-away redis-server for a test (CI installs it from Debian).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export function redisServerBinary(): string {
  const candidates = [process.env.REDIS_SERVER ?? "", "/usr/bin/redis-server", "/usr/local/bin/redis-server"];
  const found = candidates.find((c) => c && existsSync(c));
  if (found) return found;
  const which = spawnSync("which", ["redis-server"], { encoding: "utf8" });
  if (which.status === 0) return which.stdout.trim();
  throw new Error("redis-server not found: install it (apt-get install -y redis-server; .ci/run does) or set REDIS_SERVER");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface TestRedis {
  url: string;
  port: number;
  /** Holds the append-only file: a restart on the same dir and port finds the queue again. */
  dir: string;
  process: ChildProcess;
  /** SIGTERM (Redis flushes the AOF and exits), or SIGKILL to simulate a crash. */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
  /** Starts redis-server again on the same dir and port (after stop). */
  restart: () => Promise<void>;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.end();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`redis-server did not listen on 127.0.0.1:${port} within 10 s`);
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), "ms-redis-"));
  // AOF on and noeviction, as the README recommends for production queues.
  const spawnServer = () =>
    spawn(redisServerBinary(), ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", "", "--maxmemory-policy", "noeviction"], {
      stdio: "ignore",
    });
  const redis: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    process: spawnServer(),
    stop: async (signal = "SIGTERM") => {
      const child = redis.process;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
    restart: async () => {
      redis.process = spawnServer();
      await waitForPort(port);
    },
  };
  await waitForPort(port);
  return redis;
}
