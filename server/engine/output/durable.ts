// Durability helpers: a rename is only crash-safe if the renamed files' data and the
// directory entries are on disk first, hence fsync of files, of the staging directory and,
// after the rename, of the parent directory.
import { open, writeFile } from "node:fs/promises";

export async function fsyncPath(p: string): Promise<void> {
  const fh = await open(p, "r");
  try {
    await fh.sync();
  } catch (err) {
    // Windows cannot fsync a directory handle; files still are.
    if (process.platform !== "win32") throw err;
  } finally {
    await fh.close();
  }
}

/** Write a new file (fails if it exists) and fsync it. */
export async function writeFileDurable(p: string, data: string | Uint8Array): Promise<void> {
  await writeFile(p, data, { flag: "wx" });
  await fsyncPath(p);
}
