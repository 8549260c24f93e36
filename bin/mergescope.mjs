#!/usr/bin/env node
// `mergescope` command: runs the CLI compiled to dist/node by `npm install` /
// `npm run build` (scripts/build-node.mjs), with the project root pinned so the
// native engine and the schema are found from any directory.
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.env.MERGESCOPE_ROOT ??= root;
const compiled = path.join(root, "dist", "node", "cli.mjs");
if (!existsSync(compiled)) {
  console.error(`mergescope: the CLI is not compiled (${compiled} is missing). Run \`npm run build\` (or \`npm install\`) in ${root}.`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(compiled).href);
process.exitCode = await main(process.argv.slice(2));
