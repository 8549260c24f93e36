// What an API error may tell the client (called by the error formatter in
// trpc.ts): an unexpected failure — a Prisma error, a TypeError, an output that
// fails its schema — answers a fixed message, never its text, stack or issues;
// the full error goes to the server log (the route's onError). AppErrors carry
// messages written for users and pass through.
import { AppError } from "../errors";

export const INTERNAL_MESSAGE = "internal server error: the details are in the server's log";

interface ShapeLike {
  message: string;
  data: { code: string; stack?: string; zodIssues?: unknown; [key: string]: unknown };
  [key: string]: unknown;
}

export function sanitizeErrorShape<S extends ShapeLike>(shape: S, error: { code: string; cause?: unknown }): S {
  const { stack: _stack, ...data } = shape.data;
  const ours = error.cause instanceof AppError && error.cause.code !== "INTERNAL";
  if (error.code === "INTERNAL_SERVER_ERROR" && !ours) return { ...shape, message: INTERNAL_MESSAGE, data: { ...data, zodIssues: null } };
  return { ...shape, data };
}
