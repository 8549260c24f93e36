// Entry of an offload thread (pool.ts): loads the TypeScript task table with
// tsx (as the workers do) and answers one message per task.
import { parentPort, workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
const { runTask } = await import(workerData.tasksUrl);
parentPort.on("message", async (m) => {
  parentPort.postMessage({ id: m.id, ...(await runTask(m.name, m.input)) });
});
parentPort.postMessage({ ready: true });
