#!/usr/bin/env node
// `mergescope` command: runs the TypeScript CLI through tsx, with the project
// root pinned so the native engine and the schema are found from any directory.
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.env.MERGESCOPE_ROOT ??= root;
register();
const { main } = await import(pathToFileURL(path.join(root, "server/cli/main.ts")).href);
process.exitCode = await main(process.argv.slice(2));
