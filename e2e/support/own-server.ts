// A server of a test's own, started like `npm start` (scripts/start.mjs) on a
// free port with a fresh data directory, for tests that need a first start
// (first admin, the demo's jobs) rather than the suite's shared server.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface OwnServer {
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  /** The data directory's parent (temporary; the data directory is `<dir>/data`). */
  dir: string;
  dataDir: string;
  /** Everything the server printed so far. */
  output(): string;
  /** Stops the server and removes its directory. */
  stop(): void;
}

/** `env` adds to this process's environment; an undefined value removes that variable. */
export async function startOwnServer(prefix: string, env: Record<string, string | undefined>): Promise<OwnServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const dataDir = path.join(dir, "data");
  let output = "";
  const childEnv = <NodeJS.ProcessEnv>Object.fromEntries(Object.entries({ ...process.env, PORT: String(port), MERGESCOPE_DATA_DIR: dataDir, ...env }).filter(([, v]) => v !== undefined));
  const child: ChildProcess = spawn(process.execPath, ["scripts/start.mjs"], {
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    dir,
    dataDir,
    output: () => output,
    stop() {
      if (child.pid) {
        try {
          process.kill(child.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
