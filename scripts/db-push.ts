// `npm run db:push`: apply prisma/schema.prisma to the database in MERGESCOPE_DATA_DIR
// (the server and workers also do this on start).
import { mkdirSync } from "node:fs";
import { env } from "../server/env";
import { pushSchema } from "../server/db/schema-push";

const { dataDir, databaseFile } = env();
mkdirSync(dataDir, { recursive: true });
const result = await pushSchema(databaseFile);
console.log(`${databaseFile}: ${result.executedSteps} schema step(s) applied`);
