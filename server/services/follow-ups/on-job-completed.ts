// What follows a finished job, on the server side (embedded workers call it
// after their fenced completion, the scale-out recorder after recording):
// a published merge is registered as a MERGED model of its experiment's
// language (so scores can attach to it and charts find it), and its
// evaluation is queued when the experiment has an evaluation command.
import { db } from "../../db/client";
import { catalogueLanguage, normalizeLanguageCode } from "../languages/codes";
import { registerModel } from "../models/registry";
import { evaluateAfterMerge } from "../scores/evaluate";

export async function onJobCompleted(jobId: string): Promise<string[]> {
  const notes: string[] = [];
  const client = await db();
  const job = await client.job.findUnique({ where: { id: jobId } });
  if (!job || job.status !== "done" || job.type !== "merge" || !job.outputPath) return notes;
  const existing = await client.model.findUnique({ where: { path: job.outputPath } });
  if (!existing) {
    const experiment = job.experimentId ? await client.experiment.findUnique({ where: { id: job.experimentId } }) : null;
    let label: string | undefined;
    try {
      label = (JSON.parse(job.payload) as { label?: string }).label;
    } catch {
      label = undefined;
    }
    try {
      await registerModel({ path: job.outputPath, role: "MERGED", name: label?.slice(0, 200), language: experiment ? normalizeLanguageCode(catalogueLanguage(experiment.language)) : null });
      notes.push(`registered ${job.outputPath} as a MERGED model`);
    } catch (err) {
      // Outputs outside the allowed model roots (MERGESCOPE_OUTPUT_DIR elsewhere) stay unregistered.
      notes.push(`merged model not registered: ${(err as Error).message}`);
    }
  }
  try {
    const evaluation = await evaluateAfterMerge({ experimentId: job.experimentId, outputPath: job.outputPath });
    if (evaluation) notes.push(`evaluation queued as job ${evaluation.id}`);
  } catch (err) {
    notes.push(`evaluation not queued: ${(err as Error).message}`);
  }
  for (const message of notes) await client.jobLog.create({ data: { jobId, level: "info", message } });
  return notes;
}
