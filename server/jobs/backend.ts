// Where queued work goes besides its database row. The row is always the
// record (status, progress, result); a backend decides who runs it:
// - embedded: the row *is* the queue; worker processes claim rows (embedded/).
// - bullmq (REDIS_URL set): the job is also added to BullMQ, whose workers may run
//   on other hosts and never open the database (bullmq/; a recorder writes back).
export interface QueuedJobRow {
  id: string;
  type: string;
  version: number;
  payload: string;
  experimentId: string | null;
  idempotencyKey: string;
  priority: number;
  maxAttempts: number;
}

export interface JobBackend {
  readonly name: "embedded" | "bullmq";
  /** A new, re-queued or retried job is ready to run. */
  submit(row: QueuedJobRow): Promise<void>;
  /** The user cancelled it (a queued job is dropped; a running one is told to stop). */
  cancel(jobId: string): Promise<void>;
  /** The job's row was deleted. */
  remove(jobId: string): Promise<void>;
}

const embedded: JobBackend = {
  name: "embedded",
  // Workers poll the rows, and read cancellation from them.
  submit: async () => {},
  cancel: async () => {},
  remove: async () => {},
};

export async function jobBackend(redisUrl: string | undefined): Promise<JobBackend> {
  if (!redisUrl) return embedded;
  const { bullmqBackend } = await import("./bullmq/producer");
  return bullmqBackend;
}
