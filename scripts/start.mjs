// `npm start`: the production dashboard (next start) on HOST:PORT (default
// 127.0.0.1:3000: loopback only unless HOST says otherwise; server/env.ts
// validates it) plus the worker process(es) of the embedded job queue (one by
// default: it schedules several jobs at once over the cores and the memory
// budget; MERGESCOPE_WORKERS overrides; 0 = none, e.g. when workers run elsewhere). Workers and the recorder never listen on a port.
// A worker that dies is restarted; its job is re-queued by the lease reaper.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.env.MERGESCOPE_ROOT ??= root;
const port = process.env.PORT ?? "3000";
const host = process.env.HOST ?? "127.0.0.1";

// Node entry points compiled by `npm run build` (scripts/build-node.mjs): no TypeScript at run time.
const compiled = (name) => path.join(root, "dist", "node", `${name}.mjs`);
if (!existsSync(path.join(root, process.env.MERGESCOPE_NEXT_DIST ?? ".next", "BUILD_ID")) || !existsSync(compiled("worker"))) {
  console.error("[mergescope] no production build found: run `npm run build` first.");
  process.exit(1);
}

// Environment (HOST included), schema and the demo on first start, before anything else opens the database.
{
  const { spawnSync } = await import("node:child_process");
  const prep = spawnSync(process.execPath, [compiled("prepare-start")], { cwd: root, stdio: "inherit", env: process.env });
  if (prep.status !== 0) {
    console.error("[mergescope] preparing the database failed; see the message above.");
    process.exit(prep.status ?? 1);
  }
}

const children = [];
function launch(label, args) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit", env: process.env });
  children.push(child);
  child.on("exit", (code, signal) => {
    console.error(`[mergescope] ${label} exited (${signal ?? code}); shutting down.`);
    shutdown(code ?? 1);
  });
  return child;
}

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 3000).unref();
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

launch("web server", [path.join(root, "node_modules", "next", "dist", "bin", "next"), "start", "-H", host.replace(/^\[|\]$/g, ""), "-p", port]);
const bare = host.replace(/^\[|\]$/g, "");
const everywhere = bare === "0.0.0.0" || bare === "::";
const shown = everywhere ? "localhost" : bare.includes(":") ? `[${bare}]` : bare;
console.log(`[mergescope] dashboard on http://${shown}:${port}`);
if (everywhere)
  console.log(
    `[mergescope] HOST=${host}: listening on every interface. Requests must name an allowed host: loopback names and MERGESCOPE_ALLOWED_HOSTS (${process.env.MERGESCOPE_ALLOWED_HOSTS || "not set"}).`,
  );

const workerCount = process.env.MERGESCOPE_WORKERS !== undefined ? Number(process.env.MERGESCOPE_WORKERS) : 1;
if (!Number.isInteger(workerCount) || workerCount < 0) {
  console.error(`[mergescope] MERGESCOPE_WORKERS must be a whole number >= 0, got ${process.env.MERGESCOPE_WORKERS}`);
  shutdown(1);
}
function superviseWorker(slot) {
  if (stopping) return;
  const child = spawn(process.execPath, [compiled("worker")], {
    cwd: root,
    stdio: "inherit",
    // Each running engine call holds a libuv pool thread; leave room for file I/O next to them.
    env: { ...process.env, MERGESCOPE_WORKER_SLOT: String(slot), UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? String(Math.max(4, os.availableParallelism() + 2)) },
  });
  children.push(child);
  child.on("exit", (code, signal) => {
    children.splice(children.indexOf(child), 1);
    if (stopping) return;
    console.error(`[mergescope] worker ${slot} exited (${signal ?? code}); restarting`);
    setTimeout(() => superviseWorker(slot), 500);
  });
}
for (let i = 0; i < workerCount; i++) superviseWorker(i);
// Scale-out mode: a recorder turns the workers' BullMQ events into database writes.
if (process.env.REDIS_URL) launch("queue recorder", [compiled("recorder")]);
if (workerCount > 0) console.log(`[mergescope] ${workerCount} worker process(es) for the embedded queue`);
