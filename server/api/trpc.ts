// tRPC setup: context (who is calling), role-checked procedures and the error
// formatter that maps AppError codes onto tRPC codes. Routers stay thin and
// call server/services/*.
//
// Every procedure states who may call it by the builder it starts from:
//   unauthenticatedProcedure  anyone (health, the sign-in and first-admin pages, public view links)
//   viewerProcedure           signed-in viewer, researcher or admin (reads)
//   researcherProcedure       researcher or admin (registers, queues, imports)
//   adminProcedure            admin (users, evaluation command templates, catalogue reset)
//   sharedChartProcedure      viewers, or a public view link for its own experiment only
// The check reads the procedure's `access` meta; a procedure without one is
// refused (default deny), and test/unit/auth/role-matrix.test.ts fails for it.
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import { AppError, appErrorCodes } from "../errors";
import { sanitizeErrorShape } from "./error-shape";
import { resolvePrincipal, type Principal } from "../services/auth/principal";
import { hasRole, type Role } from "../services/auth/roles";
import type { UserSummary } from "../services/auth/schemas";

export type Access = "public" | "shared-chart" | Role;
export const ACCESS_LEVELS: readonly Access[] = ["public", "shared-chart", "viewer", "researcher", "admin"];

export interface Meta {
  access?: Access;
}

export interface Context {
  headers: Headers;
  principal: Principal;
}

export async function createContext(opts: { headers: Headers; url?: string }): Promise<Context> {
  return { headers: opts.headers, principal: await resolvePrincipal(opts.headers, opts.url) };
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error }) {
      const cause = error.cause;
      // No Prisma text, stack or issues of an unexpected failure reach the client (error-shape.ts).
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

/** The role check, before the input is parsed: a refused caller learns nothing about the input. */
const enforceAccess = t.middleware(async ({ ctx, meta, next, getRawInput }) => {
  const access = meta?.access;
  if (!access || !ACCESS_LEVELS.includes(access)) throw new AppError("ROLE_REQUIRED", "this procedure declares no role, so nobody may call it");
  if (access === "public") return next();
  const p = ctx.principal;
  if (p.kind === "share") {
    if (access !== "shared-chart") throw new AppError("ROLE_REQUIRED", "a public link shows its own view only: sign in for the rest of MergeScope");
    const raw = (await getRawInput()) as { experimentId?: unknown } | undefined;
    if (raw?.experimentId !== p.link.experimentId) throw new AppError("ROLE_REQUIRED", "a public link shows its own view only: this is another experiment's data");
    return next();
  }
  if (p.kind !== "user") throw new AppError("SIGN_IN_REQUIRED", p.reason);
  const needed: Role = access === "shared-chart" ? "viewer" : access;
  if (!hasRole(p.role, needed)) throw new AppError("ROLE_REQUIRED", `this needs the ${needed} role; ${p.via === "token" ? "this token acts as" : "you are"} ${p.role}`);
  return next();
});

/** Role procedures see the signed-in user as ctx.user. */
const withUser = t.middleware(({ ctx, next }) => {
  if (ctx.principal.kind !== "user") throw new AppError("SIGN_IN_REQUIRED", "sign in first");
  const user: UserSummary = ctx.principal.user;
  return next({ ctx: { user } });
});

const checked = t.procedure.use(appErrors).use(enforceAccess);

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;
/** Deliberately open to anyone: keep to health, sign-in/first-admin setup and public view links. */
export const unauthenticatedProcedure = checked.meta({ access: "public" });
export const viewerProcedure = checked.meta({ access: "viewer" }).use(withUser);
export const researcherProcedure = checked.meta({ access: "researcher" }).use(withUser);
export const adminProcedure = checked.meta({ access: "admin" }).use(withUser);
/** Chart reads that a public view link may also make — only with its own experiment's id as `experimentId`. */
export const sharedChartProcedure = checked.meta({ access: "shared-chart" });
