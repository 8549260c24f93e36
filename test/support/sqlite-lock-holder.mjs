// A second process that holds SQLite's write lock on a database file, as a job
// worker's write transaction does: `node sqlite-lock-holder.mjs DB_FILE HOLD_MS
// [GAP_MS TOTAL_MS]` holds the lock HOLD_MS once, or — with GAP_MS and TOTAL_MS —
// again and again (HOLD_MS held, GAP_MS free) for TOTAL_MS. Prints "locked" when
// it first holds the lock and "released N" when done. The holding is a blocking
// sleep inside BEGIN IMMEDIATE … COMMIT, like a synchronous write in a worker.
import Database from "better-sqlite3";

const [file, hold, gap, total] = process.argv.slice(2);
if (!file || !hold) {
  console.error("usage: sqlite-lock-holder.mjs DB_FILE HOLD_MS [GAP_MS TOTAL_MS]");
  process.exit(2);
}
const db = new Database(file, { timeout: 60_000 });
db.pragma("journal_mode = WAL");
db.exec("CREATE TABLE IF NOT EXISTS _lock_holder (n INTEGER)");
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const end = Date.now() + Number(total ?? 0);
let n = 0;
do {
  db.exec("BEGIN IMMEDIATE");
  db.prepare("INSERT INTO _lock_holder VALUES (?)").run(n++);
  if (n === 1) process.stdout.write("locked\n");
  sleep(Number(hold));
  db.exec("COMMIT");
  if (gap) sleep(Number(gap));
} while (Date.now() < end);
db.close();
process.stdout.write(`released ${n}\n`);
