// Registered checkpoints: register one by path or a whole folder of CT
// checkpoints, list, update, delete. Paths are checked against the allowed
// roots and stored as realpaths; everything else is detected from the files.
import { readdirSync, statSync } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import { formatHfModelId, hfHubCacheDir, listHfCache, parseHfModelId, resolveHfModel } from "../../engine/model-ref/hf-cache";
import { AppError } from "../../errors";
import { db } from "../../db/client";
import { env } from "../../env";
import { offload } from "../../offload/pool";
import { readRegularFileText } from "../../paths";
import { formatLanguageCode, languageKey } from "../languages/codes";
import { recordLanguage, splitLanguage } from "../languages/store";
import { holdsWeights } from "./detect";
import { resolveAllowedModel, resolveAllowedPath, allowedRoots, isInside } from "./roots";
import {
  TOKEN_ROLES,
  type ListModelsInput,
  type ModelRole,
  type ModelSummary,
  type RegisterFolderInput,
  type RegisterFolderResult,
  type RegisterModelInput,
  type RegisterResult,
  type UpdateModelInput,
  type RootsInfo,
  MODEL_ROLES,
  mergeLineageSchema,
  type MergeLineage,
} from "./schemas";
import { parseTokenCount, tokensFromDirName } from "./tokens";

type Db = Awaited<ReturnType<typeof db>>;
type ModelRow = Awaited<ReturnType<Db["model"]["findUniqueOrThrow"]>> & { _count?: { experiments: number } };

const withCount = { _count: { select: { experiments: true } } } as const;

function parseLineage(text: string | null | undefined): MergeLineage | null {
  if (!text) return null;
  try {
    const parsed = mergeLineageSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function toModelSummary(row: ModelRow, vocabDiffers: ModelSummary["vocabDiffers"] = null): ModelSummary {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    role: (MODEL_ROLES as readonly string[]).includes(row.role) ? (row.role as ModelRole) : "OTHER",
    language: row.language,
    ctTokens: row.ctTokens,
    architecture: row.architecture,
    parameterCount: row.parameterCount,
    dtype: row.dtype,
    shardCount: row.shardCount,
    sizeBytes: row.sizeBytes,
    synthetic: row.synthetic,
    createdAt: row.createdAt,
    experimentCount: row._count?.experiments ?? 0,
    vocabSize: row.vocabSize ?? null,
    vocabDiffers,
    lineage: parseLineage(row.lineage),
  };
}

/**
 * The absolute path a registration names: the path itself, or for a Hugging Face id
 * (`org/name[@revision]`) its snapshot in the local HF cache. The result still goes through
 * resolveAllowedPath: the cache must lie inside MERGESCOPE_MODEL_ROOTS.
 */
function registrationPath(input: string): { path: string; hfName: string | null } {
  // Not trimmed: the containment check refuses surrounding whitespace (the path opened is the one checked).
  if (path.isAbsolute(input)) return { path: input, hfName: null };
  const id = parseHfModelId(input);
  if (!id) return { path: input, hfName: null };
  const found = resolveHfModel(id);
  if (!found.ok) {
    throw new AppError(
      "NOT_FOUND",
      `${found.reason}. MergeScope reads the Hugging Face cache offline: download the model first (huggingface-cli download ${id.id}${id.revision ? ` --revision ${id.revision}` : ""}), or give the absolute path of a model directory`,
    );
  }
  return { path: found.path, hfName: formatHfModelId(id) };
}

/**
 * config.json vocab_size of a registered folder (backfills rows registered before the column
 * existed); read through server/paths (regular files inside the roots, size-capped).
 */
async function configVocab(p: string): Promise<number | null> {
  try {
    const dir = (await stat(p)).isDirectory() ? p : path.dirname(p);
    const { text } = await readRegularFileText(path.join(dir, "config.json"), { roots: env().modelRoots, what: "model file", maxBytes: 4 * 1024 * 1024 });
    const cfg = JSON.parse(text) as Record<string, unknown>;
    const v = cfg.vocab_size ?? (cfg.text_config as Record<string, unknown> | undefined)?.vocab_size;
    return Number.isSafeInteger(v) && (v as number) > 0 ? (v as number) : null;
  } catch {
    return null;
  }
}

type Db2 = Awaited<ReturnType<typeof db>>;

/**
 * For CT / CTSFT models: the base whose vocabulary size differs from theirs — the base model of
 * an experiment they are in, else (no experiment) a BASE model of the same architecture when
 * none of those has the same vocabulary size.
 */
async function vocabDifferences(client: Db2, rows: ModelRow[]): Promise<Map<string, ModelSummary["vocabDiffers"]>> {
  const out = new Map<string, ModelSummary["vocabDiffers"]>();
  const cts = rows.filter((r) => TOKEN_ROLES.includes(r.role as ModelRole) && r.vocabSize != null);
  if (cts.length === 0) return out;
  const links = await client.experimentModel.findMany({
    where: { modelId: { in: cts.map((r) => r.id) } },
    select: { modelId: true, experiment: { select: { baseModelId: true } } },
  });
  const bases = await client.model.findMany({ where: { OR: [{ role: "BASE" }, { id: { in: links.map((l) => l.experiment.baseModelId).filter((x): x is string => x !== null) } }] } });
  const byId = new Map(bases.map((b) => [b.id, b]));
  for (const ct of cts) {
    const fromExperiments = links.filter((l) => l.modelId === ct.id && l.experiment.baseModelId).map((l) => byId.get(l.experiment.baseModelId!)!).filter(Boolean);
    let differing;
    if (fromExperiments.length > 0) differing = fromExperiments.find((b) => b.vocabSize != null && b.vocabSize !== ct.vocabSize);
    else {
      // Not in an experiment yet: flagged only when no BASE model of its architecture shares its vocabulary.
      const same = bases.filter((b) => b.role === "BASE" && b.architecture === ct.architecture && b.vocabSize != null);
      if (!same.some((b) => b.vocabSize === ct.vocabSize)) differing = same[0];
    }
    if (differing) out.set(ct.id, { base: differing.name, baseVocabSize: differing.vocabSize! });
  }
  return out;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "P2002";
}

/** A token count as entered (number or "2B"/"800M" text) → absolute tokens. */
export function tokenInput(v: number | string | null | undefined): number | null | undefined {
  if (v === undefined || v === null) return v;
  if (typeof v === "number") return Math.round(v);
  const parsed = parseTokenCount(v);
  if (parsed === null) {
    throw new AppError("BAD_INPUT", `cannot read '${v}' as a token count; write it like 2B, 12.4B, 800M or 2000000000`);
  }
  return parsed;
}

/** Role of a checkpoint nobody named: the synthetic marker, else hints in the directory name. */
export function inferRole(syntheticRole: string | null, name: string, mergeOutput = false): ModelRole {
  // A MergeScope output says what it is (its folder name often contains "checkpoint").
  if (mergeOutput) return "MERGED";
  const fromMarker: Record<string, ModelRole> = { base: "BASE", sft: "SFT", ct: "CT", ctsft: "CTSFT" };
  if (syntheticRole && fromMarker[syntheticRole]) return fromMarker[syntheticRole];
  const n = name.toLowerCase();
  const ct = /(^|[^a-z])(ct|cpt|checkpoint|ckpt)([^a-z]|$)/.test(n) || tokensFromDirName(name) !== null;
  const sft = /(^|[^a-z])(sft|instruct|chat|flan)([^a-z]|$)/.test(n);
  if (ct && sft) return "CTSFT";
  if (sft) return "SFT";
  if (ct) return "CT";
  if (/(^|[^a-z])base([^a-z]|$)/.test(n)) return "BASE";
  return "OTHER";
}

function defaultName(realPath: string): string {
  return path.basename(realPath).replace(/\.safetensors$/, "");
}

export async function registerModel(input: RegisterModelInput): Promise<RegisterResult> {
  // Opening the database first creates the data directory (the default model root).
  const client = await db();
  const target = registrationPath(input.path);
  const real = await resolveAllowedPath(target.path);
  const existing = await client.model.findUnique({ where: { path: real } });
  if (existing) {
    throw new AppError(
      "CONFLICT",
      `${real} is already registered as '${existing.name}' (${existing.role}); edit or delete it in the models list instead of registering it again`,
    );
  }
  // Headers and side files are read on an offload thread, inside the roots only.
  const detected = await offload("models.detect", { realPath: real, tokensPerStep: input.tokensPerStep ?? null, allowedRoots: env().modelRoots });
  const role = input.role ?? inferRole(detected.syntheticRole, path.basename(real), detected.mergeOutput);
  const warnings = [...detected.warnings];
  const entered = tokenInput(input.ctTokens);
  let ctTokens: number | null = null;
  let tokensSource: string | null = null;
  if (TOKEN_ROLES.includes(role)) {
    if (entered !== undefined && entered !== null) {
      ctTokens = entered;
      tokensSource = "entered";
    } else if (detected.tokens) {
      ctTokens = detected.tokens.value;
      tokensSource = detected.tokens.source;
    } else {
      warnings.push(
        "CT token count unknown: no trainer_state.json num_input_tokens_seen and no count in the directory name (like ct-2B); enter it by editing the model",
      );
    }
  } else if (entered !== undefined && entered !== null) {
    throw new AppError("BAD_INPUT", `a CT token count only applies to CT and CTSFT checkpoints, not ${role}; leave it empty or change the role`);
  }
  // The language entered wins; otherwise the one the side files name (the user can still edit it).
  const enteredLanguage = input.language ? splitLanguage(input.language) : null;
  const language = enteredLanguage ?? (detected.language ? { code: detected.language.code, script: detected.language.script } : null);
  const languageSource = enteredLanguage ? "entered" : (detected.language?.source ?? null);
  if (enteredLanguage && detected.language && detected.language.code !== enteredLanguage.code)
    warnings.push(`language ${formatLanguageCode(enteredLanguage)} entered; ${detected.language.source} names ${formatLanguageCode(detected.language)}`);
  if (language) await recordLanguage(language);
  try {
    const row = await client.model.create({
      data: {
        name: input.name ?? target.hfName ?? defaultName(real),
        path: real,
        role,
        language: language?.code ?? null,
        ctTokens,
        architecture: detected.architecture,
        parameterCount: detected.parameterCount,
        dtype: detected.dtype,
        shardCount: detected.shardCount,
        sizeBytes: detected.sizeBytes,
        synthetic: detected.synthetic,
        vocabSize: detected.vocabSize,
        outputSha256: detected.mergeIdentity?.outputSha256 ?? null,
        recipeSha256: detected.mergeIdentity?.recipeSha256 ?? null,
        lineage: detected.mergeIdentity ? JSON.stringify(detected.mergeIdentity.lineage) : null,
      },
      include: withCount,
    });
    return { model: toModelSummary(row), tokensSource, languageSource, warnings };
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError("CONFLICT", `${real} was just registered by another request; refresh the models list`);
    throw err;
  }
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
}

/**
 * Registers every subdirectory of a folder that holds weights (one CT checkpoint
 * each). One checkpoint failing (unreadable, outside the roots, already
 * registered) is reported in its entry and does not stop the others.
 */
export async function registerFolder(input: RegisterFolderInput): Promise<RegisterFolderResult> {
  if (input.language) splitLanguage(input.language); // refused once, not once per checkpoint
  const folder = await resolveAllowedPath(input.path);
  if (!statSync(folder).isDirectory()) {
    throw new AppError("BAD_INPUT", `${folder} is a file; give the folder that holds one subdirectory per checkpoint`);
  }
  const names = readdirSync(folder, { withFileTypes: true })
    .filter((d) => d.isDirectory() || d.isSymbolicLink())
    .map((d) => d.name)
    .sort(naturalCompare);
  const candidates = names.filter((n) => holdsWeights(path.join(folder, n)));
  if (candidates.length === 0) {
    const self = holdsWeights(folder) ? ` ${folder} itself holds weights: register it as a single checkpoint instead.` : "";
    throw new AppError(
      "BAD_INPUT",
      `no subdirectory of ${folder} holds safetensors weights (model.safetensors or model.safetensors.index.json).${self}`,
    );
  }
  const entries: RegisterFolderResult["entries"] = [];
  for (const name of candidates) {
    const p = path.join(folder, name);
    try {
      const r = await registerModel({ path: p, role: input.role ?? "CT", language: input.language, tokensPerStep: input.tokensPerStep });
      entries.push({
        name,
        path: r.model.path,
        status: "registered",
        model: r.model,
        tokensSource: r.tokensSource,
        code: null,
        message: r.warnings.length > 0 ? r.warnings.join("; ") : null,
      });
    } catch (err) {
      const app = err instanceof AppError ? err : null;
      entries.push({
        name,
        path: p,
        status: app?.code === "CONFLICT" ? "skipped" : "failed",
        model: null,
        tokensSource: null,
        code: app ? (app.engineCode ?? app.code) : "INTERNAL",
        message: err instanceof Error ? err.message : String(err),
      });
    }
  }
  entries.sort((a, b) => (a.model?.ctTokens ?? Infinity) - (b.model?.ctTokens ?? Infinity) || naturalCompare(a.name, b.name));
  return {
    folder,
    entries,
    registered: entries.filter((e) => e.status === "registered").length,
    skipped: entries.filter((e) => e.status === "skipped").length,
    failed: entries.filter((e) => e.status === "failed").length,
  };
}

const ROLE_ORDER = new Map<string, number>(MODEL_ROLES.map((r, i) => [r, i]));

export async function listModels(filter: ListModelsInput = {}): Promise<ModelSummary[]> {
  const client = await db();
  const search = filter?.search?.trim();
  const rows = await client.model.findMany({
    where: {
      ...(filter?.role?.length ? { role: { in: filter.role } } : {}),
      ...(filter?.language?.trim() ? { language: languageKey(filter.language) } : {}),
      ...(search ? { OR: [{ name: { contains: search } }, { path: { contains: search } }] } : {}),
    },
    include: withCount,
    take: 5000,
  });
  for (const row of rows) {
    if (row.vocabSize !== null) continue;
    const v = await configVocab(row.path);
    if (v !== null) {
      row.vocabSize = v;
      await client.model.update({ where: { id: row.id }, data: { vocabSize: v } }).catch(() => undefined);
    }
  }
  const differs = await vocabDifferences(client, rows);
  return rows
    .map((r) => toModelSummary(r, differs.get(r.id) ?? null))
    .sort(
      (a, b) =>
        (ROLE_ORDER.get(a.role) ?? 99) - (ROLE_ORDER.get(b.role) ?? 99) ||
        (a.ctTokens ?? -1) - (b.ctTokens ?? -1) ||
        naturalCompare(a.name, b.name),
    );
}

export async function getModel(id: string): Promise<ModelSummary> {
  const client = await db();
  const row = await client.model.findUnique({ where: { id }, include: withCount });
  if (!row) throw new AppError("NOT_FOUND", `model ${id} not found; it may have been deleted (refresh the models list)`);
  return toModelSummary(row, (await vocabDifferences(client, [row])).get(row.id) ?? null);
}

export async function updateModel(input: UpdateModelInput): Promise<ModelSummary> {
  const current = await getModel(input.id);
  const role = input.role ?? current.role;
  const entered = tokenInput(input.ctTokens);
  if (!TOKEN_ROLES.includes(role) && entered !== undefined && entered !== null) {
    throw new AppError("BAD_INPUT", `a CT token count only applies to CT and CTSFT checkpoints, not ${role}; leave it empty or change the role`);
  }
  const parsedLanguage = input.language ? splitLanguage(input.language) : input.language === undefined ? undefined : null;
  if (parsedLanguage) await recordLanguage(parsedLanguage);
  const language = parsedLanguage === undefined ? undefined : (parsedLanguage?.code ?? null);
  const client = await db();
  const moved = input.path !== undefined ? await relocationTarget(input.id, input.path) : undefined;
  const row = await client.model.update({
    where: { id: input.id },
    data: {
      ...(moved !== undefined ? { path: moved } : {}),
      ...(input.name !== undefined ? { name: input.name } : {}),
      role,
      ...(language !== undefined ? { language } : {}),
      // Leaving a token role drops the count; entering null clears it.
      ...(!TOKEN_ROLES.includes(role) ? { ctTokens: null } : entered !== undefined ? { ctTokens: entered } : {}),
    },
    include: withCount,
  });
  return toModelSummary(row);
}

/** The checked new folder of a moved model: inside the roots, holding weights, not another model's. */
async function relocationTarget(id: string, newPath: string): Promise<string> {
  const real = await resolveAllowedModel(registrationPath(newPath).path);
  // The checks registration makes (weights present, side files readable regular files, inside the roots).
  await offload("models.detect", { realPath: real, tokensPerStep: null, allowedRoots: env().modelRoots });
  if (!holdsWeights(real)) throw new AppError("BAD_INPUT", `${real} holds no safetensors weights; point the model at the folder its files moved to`);
  const other = await (await db()).model.findUnique({ where: { path: real } });
  if (other && other.id !== id) throw new AppError("CONFLICT", `${real} is already registered as '${other.name}'; delete one of the two first`);
  return real;
}

/** Removes the model from MergeScope (files stay on disk); refused while an experiment uses it. */
export async function deleteModel(id: string): Promise<void> {
  const client = await db();
  const model = await client.model.findUnique({ where: { id } });
  if (!model) throw new AppError("NOT_FOUND", `model ${id} not found; it may have been deleted already`);
  const users = await client.experiment.findMany({
    where: { OR: [{ baseModelId: id }, { sftModelId: id }, { models: { some: { modelId: id } } }] },
    select: { name: true },
  });
  if (users.length > 0) {
    const names = users.map((u) => `'${u.name}'`).join(", ");
    throw new AppError("CONFLICT", `model '${model.name}' is used by experiment${users.length > 1 ? "s" : ""} ${names}; delete ${users.length > 1 ? "them" : "it"} first`);
  }
  await client.model.delete({ where: { id } });
}

export async function modelRoots(): Promise<RootsInfo> {
  const roots = await allowedRoots();
  const cache = hfHubCacheDir();
  const realCache = await realpath(cache).catch(() => null);
  const allowed = realCache !== null && roots.some((r) => r.real !== null && isInside(r.real, realCache));
  return {
    roots: roots.map((r) => ({ path: r.configured, exists: r.real !== null })),
    hfCache: {
      path: cache,
      allowed,
      // Listed only when registrations from it are allowed (its contents are not shown otherwise).
      models: allowed ? listHfCache(cache).map((m) => ({ id: m.id, revisions: Object.keys(m.refs).length > 0 ? Object.keys(m.refs) : m.snapshots })) : [],
    },
  };
}
