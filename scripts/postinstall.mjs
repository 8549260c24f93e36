// Runs after `npm install`: builds the native engine from source with node-gyp
// (no prebuilt download), compiles the Node entry points (the `mergescope` CLI,
// workers) and generates the Prisma client. PRISMA_SCHEMA_ENGINE_BINARY
// points at an existing file so `prisma generate` never tries to download the
// schema engine it does not need; schema changes are applied by server/db/schema-push.ts.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function run(label, cmd, args, env = {}) {
  console.log(`[mergescope] ${label}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`[mergescope] ${label} failed (exit ${r.status}).`);
    process.exit(r.status ?? 1);
  }
}

const bin = (name) => path.join(root, "node_modules", ".bin", name);

run("building the native merge engine (node-gyp)", bin("node-gyp"), ["rebuild", "-C", "native", "--jobs", "max"]);
run("compiling the CLI and worker entry points (esbuild)", process.execPath, [path.join(root, "scripts", "build-node.mjs")]);
run("generating the Prisma client", bin("prisma"), ["generate"], {
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? path.join(root, "prisma", "schema.prisma"),
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
});
