// `npm start`: the production dashboard (next start) on PORT (default 3000),
// with the data directory created and the schema applied on first request.
// Worker processes for the embedded queue are started here too (see server/worker).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.env.MERGESCOPE_ROOT ??= root;
const port = process.env.PORT ?? "3000";

if (!existsSync(path.join(root, ".next", "BUILD_ID"))) {
  console.error("[mergescope] no production build found: run `npm run build` first.");
  process.exit(1);
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

launch("web server", [path.join(root, "node_modules", "next", "dist", "bin", "next"), "start", "-p", port]);
console.log(`[mergescope] dashboard on http://localhost:${port}`);
