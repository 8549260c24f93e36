// Prisma CLI configuration (used only by the ordinary `prisma` CLI on machines
// where its engines can be downloaded; the app applies the schema itself).
import path from "node:path";
import { defineConfig } from "prisma/config";

const dataDir = path.resolve(process.env.MERGESCOPE_DATA_DIR ?? "./data");

export default defineConfig({
  schema: "prisma/schema.prisma",
  datasource: { url: process.env.DATABASE_URL ?? `file:${path.join(dataDir, "mergescope.db")}` },
});
