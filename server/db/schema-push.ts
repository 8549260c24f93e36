// Applies prisma/schema.prisma to a SQLite database without Prisma's binary
// schema engine: the WebAssembly build of the same engine runs `db push`
// through the better-sqlite3 driver adapter. Idempotent: an up-to-date
// database executes 0 steps. Destructive changes are refused (not forced).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";

type WasmGlue = typeof import("@prisma/schema-engine-wasm/schema_engine_bg");
let gluePromise: Promise<WasmGlue> | undefined;

/** The package's own entry imports the .wasm as an ES module, which Node cannot load: instantiate it by hand. */
async function loadSchemaEngine(): Promise<WasmGlue> {
  gluePromise ??= (async () => {
    // Loaded from node_modules at run time (never bundled: the glue and the .wasm must sit side by side).
    const pkgDir = path.join(projectRoot(), "node_modules", "@prisma", "schema-engine-wasm");
    const glueUrl = pathToFileURL(path.join(pkgDir, "schema_engine_bg.js")).href;
    const glue = (await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ glueUrl)) as WasmGlue;
    const bytes = await readFile(path.join(pkgDir, "schema_engine_bg.wasm"));
    // The engine arms 60 s operation timeouts through setTimeout; unref them so a
    // finished push does not hold the process open for a minute.
    const imports: Record<string, unknown> = { ...glue };
    for (const [name, fn] of Object.entries(glue)) {
      if (name.startsWith("__wbg_setTimeout_") && typeof fn === "function") {
        imports[name] = (...args: unknown[]) => {
          const timer = (fn as (...a: unknown[]) => unknown)(...args);
          (timer as { unref?: () => void } | undefined)?.unref?.();
          return timer;
        };
      }
    }
    const { instance } = await WebAssembly.instantiate(bytes, {
      "./schema_engine_bg.js": imports as WebAssembly.ModuleImports,
    });
    glue.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return glue;
  })();
  return gluePromise;
}

function projectRoot(): string {
  return process.env.MERGESCOPE_ROOT ?? process.cwd();
}

export function schemaFilePath(): string {
  return path.join(projectRoot(), "prisma", "schema.prisma");
}

export interface SchemaPushResult {
  executedSteps: number;
  warnings: string[];
}

/** `schemaPath`: another schema file (tests apply an older version first). */
export async function pushSchema(databaseFile: string, schemaPath = schemaFilePath()): Promise<SchemaPushResult> {
  const glue = await loadSchemaEngine();
  const content = await readFile(schemaPath, "utf8");
  // Keep the connections the engine opens so they can be closed: an open one
  // keeps the process alive long after the push.
  const factory = new PrismaBetterSqlite3({ url: databaseFile });
  const opened: SqlDriverAdapter[] = [];
  const tracked: SqlMigrationAwareDriverAdapterFactory = {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => {
      const c = await factory.connect();
      opened.push(c);
      return c;
    },
    connectToShadowDb: async () => {
      const c = await factory.connectToShadowDb();
      opened.push(c);
      return c;
    },
  };
  const adapter = bindMigrationAwareSqlAdapterFactory(tracked);
  const engine = await glue.SchemaEngine.new(
    { datamodels: [[schemaPath, content]] },
    () => {},
    adapter,
  );
  try {
    const out = await engine.schemaPush({
      force: false,
      schema: { files: [{ path: schemaPath, content }] },
      filters: { externalTables: [], externalEnums: [] },
    });
    if (out.unexecutable.length > 0 || out.warnings.length > 0) {
      throw new Error(
        `database schema change at ${databaseFile} would lose data and was not applied: ` +
          [...out.unexecutable, ...out.warnings].join("; ") +
          ". Back up the database file and remove it, or migrate the data by hand.",
      );
    }
    return { executedSteps: out.executedSteps, warnings: out.warnings };
  } finally {
    engine.free();
    await Promise.all(opened.map((c) => c.dispose().catch(() => {})));
  }
}
