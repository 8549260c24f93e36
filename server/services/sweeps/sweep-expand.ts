// Expands a sweep — CT checkpoints × methods × per-model density grids — into
// one recipe per grid point (pure: runs on an offload thread, server/offload;
// sweep.ts enqueues the points). The recipe is parsed with the recipe limits:
// size first, aliases capped, `__proto__` keys kept as data.
import { parseDocument, stringify } from "yaml";
import { AppError } from "../../errors";
import { LIMITS } from "../../limits";
import { ELECTION_METHODS } from "../../engine/recipe/types";
import type { MergeMethod } from "../../engine/types";

export interface SweepInput {
  type: "merge" | "analyze";
  recipeYaml: string;
  recipeDir: string;
  /** Model paths that replace models[ctIndex].model one after another (default: the recipe's own). */
  checkpoints?: string[];
  /** Which entry of `models` is the CT model (default: the last one). */
  ctIndex?: number;
  methods?: MergeMethod[];
  /** Per model (recipe order) the densities to try; the cartesian product is swept. */
  densities?: number[][];
  experimentId?: string | null;
  priority?: number;
  labelPrefix?: string;
}

interface RecipeDoc {
  merge_method?: string;
  models?: { model?: string; parameters?: Record<string, unknown> }[];
  [key: string]: unknown;
}

function cartesian(lists: number[][]): number[][] {
  return lists.reduce<number[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
}

/**
 * Switching a recipe's method keeps it valid: ties_sv gets the paper's defaults
 * when the recipe has none (the first non-CT model is favored, slack 0.04);
 * other methods drop the ties_sv-only keys; methods without an election drop
 * `consensus`, and slerp gets t = 0.5 when the recipe has none.
 */
function adaptToMethod(d: RecipeDoc, method: string, ctIndex: number): void {
  const models = d.models ?? [];
  const params = (d.parameters ?? {}) as Record<string, unknown>;
  if (method === "ties_sv") {
    if (!models.some((m) => m.parameters?.favored === true)) {
      const favored = models.findIndex((_, i) => i !== ctIndex);
      const target = models[favored >= 0 ? favored : 0];
      if (target) target.parameters = { ...(target.parameters ?? {}), favored: true };
    }
    if (params.slack === undefined) params.slack = 0.04;
  } else {
    for (const m of models) if (m.parameters) delete m.parameters.favored;
    delete params.slack;
    delete params.slack_scope;
  }
  if (!(ELECTION_METHODS as readonly string[]).includes(method)) delete params.consensus;
  if (method === "slerp" && params.t === undefined) params.t = 0.5;
  if (Object.keys(params).length > 0) d.parameters = params;
}

/** The sweep's recipe as data, within the recipe limits (AppError BAD_INPUT / TOO_LARGE otherwise). */
export function parseSweepRecipe(text: string): RecipeDoc | null {
  const bytes = Buffer.byteLength(text);
  if (bytes > LIMITS.recipeBytes) throw new AppError("TOO_LARGE", `sweep recipe is ${bytes} bytes, above the ${LIMITS.recipeBytes}-byte limit for a recipe; it was not parsed`);
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new AppError("BAD_INPUT", `sweep recipe is not valid YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
  try {
    return doc.toJS({ maxAliasCount: LIMITS.yamlAliases }) as RecipeDoc | null;
  } catch (err) {
    if (err instanceof ReferenceError) throw new AppError("BAD_INPUT", `sweep recipe: its YAML aliases expand to more than ${LIMITS.yamlAliases} copies; write the values out`);
    throw err;
  }
}

export function expandSweep(input: SweepInput): { yaml: string; label: string }[] {
  const doc = parseSweepRecipe(input.recipeYaml);
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.models) || doc.models.length === 0) throw new AppError("BAD_INPUT", "sweep recipe needs a non-empty `models:` list");
  if (doc.models.length > LIMITS.recipeModels) throw new AppError("BAD_INPUT", `sweep recipe lists ${doc.models.length} models, above the limit of ${LIMITS.recipeModels}`);
  const isMapping = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (doc.parameters !== undefined && doc.parameters !== null && !isMapping(doc.parameters)) throw new AppError("BAD_INPUT", "sweep recipe: `parameters` must be a mapping");
  doc.models.forEach((m, i) => {
    if (!isMapping(m)) throw new AppError("BAD_INPUT", `sweep recipe: models[${i}] must be a mapping with \`model:\``);
    if (m.parameters !== undefined && m.parameters !== null && !isMapping(m.parameters)) throw new AppError("BAD_INPUT", `sweep recipe: models[${i}].parameters must be a mapping`);
  });
  const models = doc.models;
  const ctIndex = input.ctIndex ?? models.length - 1;
  if (ctIndex < 0 || ctIndex >= models.length) throw new AppError("BAD_INPUT", `ctIndex ${ctIndex} is outside models[0..${models.length - 1}]`);
  const checkpoints = input.checkpoints?.length ? input.checkpoints : [String(models[ctIndex]?.model ?? "")];
  const methods = input.methods?.length ? input.methods : [String(doc.merge_method ?? "ties")];
  if (input.densities && input.densities.length !== models.length)
    throw new AppError("BAD_INPUT", `densities must list one array per model (${models.length}), got ${input.densities.length}`);
  const grid = input.densities ? cartesian(input.densities) : [null];
  const points = checkpoints.length * methods.length * grid.length;
  if (points > 5000) throw new AppError("BAD_INPUT", `sweep of ${points} jobs is over the limit of 5000; split it`);

  const out: { yaml: string; label: string }[] = [];
  for (const ckpt of checkpoints)
    for (const method of methods)
      for (const dens of grid) {
        const d = structuredClone(doc);
        d.merge_method = method;
        d.models = models.map((m, i) => ({
          ...m,
          model: i === ctIndex ? ckpt : m.model,
          parameters: { ...(m.parameters ?? {}), ...(dens ? { density: dens[i] } : {}) },
        }));
        adaptToMethod(d, method, ctIndex);
        const slack = method === "ties_sv" ? ` slack=${String((d.parameters as Record<string, unknown> | undefined)?.slack)}` : "";
        const label = `${input.labelPrefix ?? input.type} ${method} ${ckpt.split("/").pop()}${dens ? ` d=${dens.join("/")}` : ""}${slack}`;
        out.push({ yaml: stringify(d), label });
      }
  return out;
}

/**
 * The density list of an analysis sweep that one engine pass can cover: every model
 * sweeps the same densities (the paper's grid). Null otherwise.
 */
export function sharedDensityList(input: Pick<SweepInput, "type" | "densities">): number[] | null {
  if (input.type !== "analyze" || !input.densities || input.densities.length === 0) return null;
  const first = input.densities[0]!;
  const same = input.densities.every((l) => l.length === first.length && l.every((v, i) => v === first[i]));
  return same && first.length > 1 ? first : null;
}

/**
 * Whether the series pass can take the sweep's ties recipes: two models with the CT one last,
 * no LoRA input (`model+lora` or the object form), no tokenizer merge, no slices.
 */
function seriesShaped(doc: RecipeDoc | null, ctIndex: number): boolean {
  if (!doc || !Array.isArray(doc.models) || doc.models.length !== 2 || ctIndex !== 1) return false;
  if (doc.slices !== undefined || doc.tokenizer_source !== undefined || doc.tokenizer !== undefined) return false;
  return doc.models.every((m) => typeof m.model === "string" && !m.model.includes("+"));
}

/** Whether a ties analysis sweep of this recipe over these checkpoints runs as one analyze-series job. */
export function runsAsSeries(input: Pick<SweepInput, "recipeYaml" | "ctIndex" | "checkpoints">): boolean {
  if ((input.checkpoints?.length ?? 0) < 2) return false;
  const doc = parseSweepRecipe(input.recipeYaml);
  return seriesShaped(doc, input.ctIndex ?? (Array.isArray(doc?.models) ? doc.models.length - 1 : 0));
}

export interface SweepRecipes {
  /**
   * ties analyses over one shared density list: one engine pass per checkpoint (analyze-sweep
   * jobs), or, when `series`, one analyze-series job for all of them.
   */
  engineSweeps: { yaml: string; label: string }[];
  shared: number[] | null;
  series: boolean;
  /** Every other grid point: one job each. */
  recipes: { yaml: string; label: string }[];
}

/** The recipes of a sweep, grouped by the job type that runs them. */
export function planSweepRecipes(input: SweepInput): SweepRecipes {
  const shared = sharedDensityList(input);
  const methods = input.methods?.length ? input.methods : null;
  const doc = shared ? parseSweepRecipe(input.recipeYaml) : null;
  const sweepsTies = shared !== null && (methods ? methods.includes("ties") : String(doc?.merge_method ?? "ties") === "ties");
  const engineSweeps = sweepsTies ? expandSweep({ ...input, methods: ["ties"], densities: undefined }) : [];
  const ctIndex = input.ctIndex ?? (Array.isArray(doc?.models) ? doc.models.length - 1 : 0);
  const series = engineSweeps.length > 1 && seriesShaped(doc, ctIndex);
  const rest = sweepsTies ? (methods ?? []).filter((m) => m !== "ties") : null;
  const recipes = rest === null ? expandSweep(input) : rest.length > 0 ? expandSweep({ ...input, methods: rest }) : [];
  return { engineSweeps, shared: sweepsTies ? shared : null, series, recipes };
}
