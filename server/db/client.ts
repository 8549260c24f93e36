// The Prisma client for the embedded SQLite database. The data directory and
// the schema are created on first use; only services import this module.
import { mkdirSync } from "node:fs";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { env } from "../env";
import { PrismaClient } from "./generated/client";
import { pushSchema } from "./schema-push";

type Db = InstanceType<typeof PrismaClient>;

const globalForDb = globalThis as unknown as { mergescopeDb?: Promise<Db> };

async function open(): Promise<Db> {
  const { dataDir, databaseFile } = env();
  mkdirSync(dataDir, { recursive: true });
  await pushSchema(databaseFile);
  const adapter = new PrismaBetterSqlite3({ url: databaseFile, timeout: 10_000 });
  const client = new PrismaClient({ adapter });
  // WAL lets the web server read while workers write; busy_timeout rides out short write locks.
  await client.$queryRawUnsafe("PRAGMA journal_mode = WAL");
  await client.$queryRawUnsafe("PRAGMA busy_timeout = 10000");
  return client;
}

/** The shared client; the first call creates the data directory and applies the schema. */
export function db(): Promise<Db> {
  globalForDb.mergescopeDb ??= open().catch((err: unknown) => {
    globalForDb.mergescopeDb = undefined;
    throw err;
  });
  return globalForDb.mergescopeDb;
}

export async function closeDb(): Promise<void> {
  const pending = globalForDb.mergescopeDb;
  globalForDb.mergescopeDb = undefined;
  if (pending) await (await pending).$disconnect();
}

export type { Db };
/** The client handed to `$transaction(async (tx) => …)` callbacks. */
export type DbTx = Parameters<Parameters<Db["$transaction"]>[0]>[0];
