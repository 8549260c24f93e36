import { accountRouter } from "./routers/account";
import { adminRouter } from "./routers/admin";
import { authRouter } from "./routers/auth";
import { builderRouter } from "./routers/builder";
import { chartsRouter } from "./routers/charts";
import { viewsRouter } from "./routers/views";
import { experimentsRouter } from "./routers/experiments";
import { healthRouter } from "./routers/health";
import { jobsRouter } from "./routers/jobs";
import { scoresRouter } from "./routers/scores";
import { modelsRouter } from "./routers/models";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  health: healthRouter,
  jobs: jobsRouter,
  scores: scoresRouter,
  models: modelsRouter,
  experiments: experimentsRouter,
  builder: builderRouter,
  charts: chartsRouter,
  views: viewsRouter,
  auth: authRouter,
  account: accountRouter,
  admin: adminRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
