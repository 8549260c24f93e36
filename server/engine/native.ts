// Loads the native addon (built by `npm install` via node-gyp). The path is
// computed at run time so bundlers leave the .node file alone.
import { createRequire } from "node:module";
import path from "node:path";
import { existsSync } from "node:fs";
import type { NativeInspectResult, NativeMergeRequest, NativeMergeResult, NativeProgress } from "./types";

export interface EngineInfo {
  version: string;
  compiler: string;
  napiVersion: number;
  hardwareThreads: number;
  cpuFeatures: string[];
  methods: string[];
  dtypes: string[];
}

/** The raw addon surface. Wrappers in server/engine/* validate arguments before calling it. */
export interface NativeAddon {
  engineInfo(): EngineInfo;
  startMerge(
    request: NativeMergeRequest,
    onProgress?: (p: NativeProgress) => void,
  ): { promise: Promise<NativeMergeResult>; cancel(): void };
  inspectModel(path: string, allowedRoots?: string[] | null): NativeInspectResult;
}

export class NativeAddonMissingError extends Error {
  readonly code = "NATIVE_ADDON_MISSING";
}

function projectRoot(): string {
  // MERGESCOPE_ROOT is set by the launcher; otherwise the current directory is the project.
  return process.env.MERGESCOPE_ROOT ?? process.cwd();
}

export function nativeAddonPath(): string {
  return path.join(projectRoot(), "native", "build", "Release", "mergescope_native.node");
}

let cached: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (cached) return cached;
  const file = nativeAddonPath();
  if (!existsSync(file)) {
    throw new NativeAddonMissingError(
      `native merge engine not built: ${file} is missing. Run \`npm run build:native\` ` +
        "(needs python3, make and a C++20 compiler; npm install runs it automatically).",
    );
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(/* webpackIgnore: true */ /* turbopackIgnore: true */ file) as NativeAddon;
  } catch (err) {
    throw new NativeAddonMissingError(
      `native merge engine at ${file} failed to load (${(err as Error).message}). ` +
        "Rebuild it with `npm run build:native` for this Node version.",
    );
  }
  return cached;
}
