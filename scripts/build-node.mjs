// Compiles the Node entry points (the `mergescope` CLI, the worker, the queue
// recorder, the start-up preparation) from TypeScript to dist/node/*.mjs with
// esbuild, so no command transpiles TypeScript when it runs. Packages stay in
// node_modules (external); shared code is split into chunks loaded on demand.
// Run by `npm install` (postinstall), `npm run build` and the unit-test runner.
import { build } from "esbuild";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const NODE_DIST = path.join(root, "dist", "node");

export const NODE_ENTRIES = {
  cli: "server/cli/main.ts",
  worker: "server/worker/main.ts",
  recorder: "server/worker/recorder-main.ts",
  "prepare-start": "scripts/prepare-start.ts",
  // the web server's parse threads (server/offload/pool.ts)
  "offload-thread": "server/offload/thread.ts",
};

export async function buildNode() {
  rmSync(NODE_DIST, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(NODE_ENTRIES).map(([name, file]) => [name, path.join(root, file)])),
    outdir: NODE_DIST,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    logLevel: "warning",
    tsconfig: path.join(root, "tsconfig.json"),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t0 = Date.now();
  await buildNode();
  console.log(`[mergescope] compiled the CLI and worker entry points to dist/node (${Date.now() - t0} ms)`);
}
