// Evaluation command templates: configuration that admins write (UI, or
// `mergescope eval-template add`), referenced by id from experiments and
// `evaluate` jobs. No request of a non-admin carries a command: this table is
// the only source of what an evaluation runs.
import { z } from "zod";
import { AppError } from "../../errors";
import { db } from "../../db/client";
import { userLabels } from "../auth/users";
import { TemplateError, validateTemplate } from "./eval-command";

export const evalTemplateNameSchema = z.string().trim().min(1).max(100);
export const evalCommandSchema = z.string().trim().min(1).max(10_000);

export const evalTemplateSchema = z.object({
  id: z.string(),
  name: z.string(),
  command: z.string(),
  warnings: z.array(z.string()),
  experiments: z.number(),
  createdBy: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type EvalTemplateOut = z.infer<typeof evalTemplateSchema>;

function checked(command: string): string[] {
  try {
    return validateTemplate(command).warnings;
  } catch (err) {
    if (err instanceof TemplateError) throw new AppError("BAD_INPUT", `command template: ${err.message}`);
    throw err;
  }
}

function warningsOf(command: string): string[] {
  try {
    return validateTemplate(command).warnings;
  } catch (err) {
    return [`not usable: ${(err as Error).message}`];
  }
}

export async function listEvalTemplates(): Promise<EvalTemplateOut[]> {
  const client = await db();
  const rows = await client.evalTemplate.findMany({ orderBy: { name: "asc" } });
  const uses = await client.experiment.groupBy({ by: ["evalTemplateId"], where: { evalTemplateId: { in: rows.map((r) => r.id) } }, _count: { _all: true } });
  const names = await userLabels(rows.map((r) => r.createdById));
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    command: r.command,
    warnings: warningsOf(r.command),
    experiments: uses.find((u) => u.evalTemplateId === r.id)?._count._all ?? 0,
    createdBy: r.createdById ? (names.get(r.createdById) ?? null) : null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

async function one(id: string): Promise<EvalTemplateOut> {
  const t = (await listEvalTemplates()).find((x) => x.id === id);
  if (!t) throw new AppError("NOT_FOUND", `evaluation template ${id} not found`);
  return t;
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === "P2002";
}

export async function createEvalTemplate(input: { name: string; command: string }, createdById: string | null): Promise<EvalTemplateOut> {
  checked(input.command);
  try {
    const row = await (await db()).evalTemplate.create({ data: { name: input.name, command: input.command, createdById } });
    return one(row.id);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError("CONFLICT", `an evaluation template named '${input.name}' exists already`);
    throw err;
  }
}

/** A changed command applies to evaluations queued from now on and to queued ones that have not started. */
export async function updateEvalTemplate(input: { id: string; name?: string; command?: string }): Promise<EvalTemplateOut> {
  if (input.command !== undefined) checked(input.command);
  const client = await db();
  const r = await client.evalTemplate
    .updateMany({ where: { id: input.id }, data: { ...(input.name !== undefined ? { name: input.name } : {}), ...(input.command !== undefined ? { command: input.command } : {}) } })
    .catch((err: unknown) => {
      if (isUniqueViolation(err)) throw new AppError("CONFLICT", `an evaluation template named '${input.name}' exists already`);
      throw err;
    });
  if (r.count === 0) throw new AppError("NOT_FOUND", `evaluation template ${input.id} not found`);
  return one(input.id);
}

export async function deleteEvalTemplate(id: string): Promise<void> {
  const client = await db();
  const users = await client.experiment.findMany({ where: { evalTemplateId: id }, select: { name: true }, take: 5 });
  if (users.length > 0) throw new AppError("CONFLICT", `experiments evaluate with this template (${users.map((u) => u.name).join(", ")}): choose another template for them first`);
  const r = await client.evalTemplate.deleteMany({ where: { id } });
  if (r.count === 0) throw new AppError("NOT_FOUND", `evaluation template ${id} not found`);
}

/** The command an `evaluate` job runs; null when the template was deleted. */
export async function evalTemplateCommand(id: string): Promise<{ id: string; name: string; command: string } | null> {
  const row = await (await db()).evalTemplate.findUnique({ where: { id }, select: { id: true, name: true, command: true } });
  return row;
}
