// tRPC setup: context, procedures and the error formatter that maps AppError
// codes onto tRPC codes. Routers stay thin and call server/services/*.
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { AppError, appErrorCodes } from "../errors";
import { sanitizeErrorShape } from "./error-shape";

export interface Context {
  headers: Headers;
}

export function createContext(opts: { headers: Headers }): Context {
  return { headers: opts.headers };
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return sanitizeErrorShape(
      {
        ...shape,
        data: {
          ...shape.data,
          appCode: cause instanceof AppError ? cause.code : null,
          engineCode: cause instanceof AppError ? (cause.engineCode ?? null) : null,
          zodIssues: cause instanceof ZodError ? cause.issues.map((i) => ({ path: i.path.join("."), message: i.message })) : null,
        },
      },
      error,
    );
  },
});

/** Converts AppError thrown by services into TRPCError with the mapped code. */
const appErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) {
    const cause = result.error.cause;
    throw new TRPCError({ code: appErrorCodes[cause.code], message: cause.message, cause });
  }
  return result;
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(appErrors);
