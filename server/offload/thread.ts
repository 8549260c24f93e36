// Entry of an offload thread (pool.ts), compiled to dist/node/offload-thread.mjs
// by scripts/build-node.mjs: answers one message per task of tasks.ts.
import { parentPort } from "node:worker_threads";
import { runTask } from "./tasks";

const port = parentPort!;
port.on("message", async (m: { id: number; name: string; input: unknown }) => {
  port.postMessage({ id: m.id, ...(await runTask(m.name, m.input)) });
});
