// The Prisma client for the embedded SQLite database. The data directory and
// the schema are created on first use; only services import this module.
//
// Several processes write to one file (the web server, one per job worker, the
// recorder, CLI commands), and SQLite lets one of them write at a time. Three
// rules keep a write from ever failing with "Operation has timed out"
// (SQLITE_BUSY, which Prisma reports as P1008):
//  - transactions take the write lock when they begin (BEGIN IMMEDIATE). With
//    Prisma's plain BEGIN a transaction that reads first and writes later must
//    upgrade its read lock, and SQLite answers that upgrade with SQLITE_BUSY at
//    once — without waiting, whatever busy_timeout says — whenever another
//    process holds the write lock or committed since the read (BUSY_SNAPSHOT);
//  - SQLite's busy wait, which blocks the whole process, lasts BUSY_TIMEOUT_MS;
//  - every statement outside a transaction, and every transaction through
//    `writeTransaction`, is retried asynchronously while the database is busy
//    (server/db/retry.ts), so the wait never stalls the event loop.
import { mkdirSync } from "node:fs";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type BetterSqlite3 from "better-sqlite3";
import { env } from "../env";
import { PrismaClient } from "./generated/client";
import { BUSY_TIMEOUT_MS, isBusyError, withDbRetry, type RetryOptions } from "./retry";
import { pushSchema } from "./schema-push";

/**
 * The adapter runs `BEGIN` for every transaction (interactive ones and those Prisma opens itself,
 * e.g. for upsert); this makes it `BEGIN IMMEDIATE`. Reads outside transactions are untouched.
 */
function immediateTransactions(factory: PrismaBetterSqlite3): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    async connect() {
      const adapter = await factory.connect();
      const sqlite = (adapter as unknown as { client?: BetterSqlite3.Database }).client;
      if (!sqlite || typeof sqlite.prepare !== "function")
        throw new Error(`${factory.adapterName}: its better-sqlite3 connection is no longer at adapter.client; update server/db/client.ts`);
      const prepare = sqlite.prepare.bind(sqlite);
      // BEGIN must not throw: the adapter takes its connection mutex before BEGIN and never
      // releases it when BEGIN fails, which would hang every later transaction of this process.
      // When the lock stays taken for BUSY_TIMEOUT_MS the transaction begins deferred instead;
      // its first write then fails busy and the transaction is retried whole.
      const begin = {
        run() {
          try {
            return prepare("BEGIN IMMEDIATE").run();
          } catch (err) {
            if (!isBusyError(err)) throw err;
            return prepare("BEGIN").run();
          }
        },
      };
      sqlite.prepare = ((sql: string) => (sql === "BEGIN" ? begin : prepare(sql))) as typeof sqlite.prepare;
      return adapter;
    },
  };
}

/** How long a transaction may wait for this process's connection (another transaction of ours). */
const TRANSACTION_MAX_WAIT_MS = 5_000;
const TRANSACTION_TIMEOUT_MS = 15_000;

function retryStatements(client: PrismaClient) {
  // Statements outside a transaction wait for the lock here, asynchronously.
  return client.$extends({
    query: {
      $allOperations({ model, operation, args, query, ...rest }) {
        // Inside a transaction a busy statement is not retried alone: the whole transaction is.
        if ((rest as { __internalParams?: { transaction?: unknown } }).__internalParams?.transaction) return query(args);
        return withDbRetry(`${model ? `${model}.` : ""}${operation}`, () => query(args));
      },
    },
  });
}

type Db = ReturnType<typeof retryStatements>;
type TransactionFn = <T>(fn: (tx: DbTx) => Promise<T>, options: { maxWait: number; timeout: number }) => Promise<T>;

/**
 * Every interactive transaction — ours, and those libraries open on this client (Better Auth) —
 * is retried whole while the database is busy. Returns the client and its transaction without
 * the retry (for writeTransaction, which retries with its own label and bounds).
 */
function retryTransactions(client: Db): { client: Db; transaction: TransactionFn } {
  const transaction = client.$transaction.bind(client) as unknown as TransactionFn;
  const batch = client.$transaction.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const extended = client.$extends({
    client: {
      $transaction(...args: unknown[]) {
        const [fn, options] = args as [unknown, { maxWait?: number; timeout?: number } | undefined];
        // A batch (an array of queries) is passed through: it cannot be re-run from here.
        if (typeof fn !== "function") return batch(...args);
        return withDbRetry("transaction", () =>
          transaction(fn as (tx: DbTx) => Promise<unknown>, { maxWait: TRANSACTION_MAX_WAIT_MS, timeout: TRANSACTION_TIMEOUT_MS, ...options }),
        );
      },
    },
  }) as unknown as Db;
  return { client: extended, transaction };
}

interface Opened {
  client: Db;
  transaction: TransactionFn;
}

const globalForDb = globalThis as unknown as { mergescopeDb?: Promise<Opened> };

async function open(): Promise<Opened> {
  const { dataDir, databaseFile } = env();
  mkdirSync(dataDir, { recursive: true });
  await pushSchema(databaseFile);
  // better-sqlite3's `timeout` is SQLite's busy_timeout.
  const adapter = immediateTransactions(new PrismaBetterSqlite3({ url: databaseFile, timeout: BUSY_TIMEOUT_MS }));
  const client = new PrismaClient({ adapter });
  // WAL lets every process read while one writes.
  await withDbRetry("enabling WAL", () => client.$queryRawUnsafe("PRAGMA journal_mode = WAL"));
  return retryTransactions(retryStatements(client));
}

function opened(): Promise<Opened> {
  globalForDb.mergescopeDb ??= open().catch((err: unknown) => {
    globalForDb.mergescopeDb = undefined;
    throw err;
  });
  return globalForDb.mergescopeDb;
}

/** The shared client; the first call creates the data directory and applies the schema. */
export async function db(): Promise<Db> {
  return (await opened()).client;
}

export async function closeDb(): Promise<void> {
  const pending = globalForDb.mergescopeDb;
  globalForDb.mergescopeDb = undefined;
  if (pending) await (await pending).client.$disconnect();
}

export type { Db };
/** The client handed to `$transaction(async (tx) => …)` callbacks. */
export type DbTx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/**
 * One short write transaction, retried as a whole while the database is busy (SQLite rolled the
 * failed attempt back, so nothing is written twice). Keep slow work — file reads, parsing, engine
 * calls — outside `fn`: the write lock is held from its first to its last statement.
 */
export async function writeTransaction<T>(what: string, fn: (tx: DbTx) => Promise<T>, opts: { timeoutMs?: number; retry?: RetryOptions } = {}): Promise<T> {
  const { transaction } = await opened();
  return withDbRetry(what, () => transaction(fn, { maxWait: TRANSACTION_MAX_WAIT_MS, timeout: opts.timeoutMs ?? TRANSACTION_TIMEOUT_MS }), opts.retry);
}
