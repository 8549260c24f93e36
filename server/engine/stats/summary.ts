// Plain-text rendering of a stats report for the terminal (merge/analyze) and Markdown for
// model cards. Election counters only mean something for ties/ties_sv, so linear and
// task_arithmetic get the weights only.
import path from "node:path";
import { isNewerMethod } from "../recipe/newer-methods";
import { WEIGHTED_METHODS } from "../recipe/types";
import { discardedPercent, type StatsReport } from "./report";

const int = (n: number) => n.toLocaleString("en-US");
const pct = (n: number) => `${n.toFixed(2)}%`;

export function hasElection(report: Pick<StatsReport, "method">): boolean {
  return report.method === "ties" || report.method === "ties_sv" || report.method === "sce";
}

/**
 * What the newer methods report besides the per-model table: nearswap's and arcee_fusion's
 * share of positions taken from the model, nuslerp's colinear fallbacks, karcher's iterations.
 */
export function methodStatLines(report: StatsReport): string[] {
  const t = report.totals;
  const share = (n: number) => (t.numel === 0 ? 0 : (100 * n) / t.numel);
  switch (report.method) {
    case "nearswap":
      return [`taken from the model (|base − model| ≤ t): ${int(t.selected)} of ${int(t.numel)} positions (${pct(share(t.selected))}); the others are blended toward the base`];
    case "arcee_fusion":
      return [`kept by the importance mask: ${int(t.selected)} of ${int(t.numel)} positions (${pct(share(t.selected))}); the others keep the base's value`];
    case "nuslerp": {
      const n = report.tensors.reduce((s, x) => s + x.fallback_vectors, 0);
      return n > 0 ? [`colinear vectors interpolated linearly: ${int(n)}`] : [];
    }
    case "karcher": {
      const its = report.tensors.map((x) => x.iterations);
      return its.length > 0 ? [`karcher iterations per tensor: ${Math.min(...its)}–${Math.max(...its)}`] : [];
    }
    default:
      return [];
  }
}

function modelLabel(report: StatsReport, i: number): string {
  const m = report.models[i]!;
  return m.role ?? path.basename(m.path);
}

interface Table {
  header: string[];
  rows: string[][];
}

/** The per-model totals table shared by the terminal and Markdown renderings. */
export function modelTotalsTable(report: StatsReport): Table {
  const t = report.totals;
  const election = hasElection(report);
  const header = election
    ? ["model", "weight", "density", "nnz trimmed", "discarded by sign election", "% of nnz", "rescued"]
    : ["model", "weight"];
  // sce, karcher, arcee_fusion and nearswap take no weights (slerp and model_stock show their placeholder 1).
  const weight = (w: number) => (isNewerMethod(report.method) && !WEIGHTED_METHODS.includes(report.method) ? "—" : String(w));
  const rows = report.models.map((m, i) => {
    const label = `${modelLabel(report, i)}${m.favored ? " (favored)" : ""}`;
    if (!election) return [label, weight(m.weight)];
    return [
      label,
      weight(m.weight),
      String(m.density),
      int(t.nnz_trimmed[i] ?? 0),
      int(t.discarded[i] ?? 0),
      pct(discardedPercent(t, i)),
      int(t.rescued[i] ?? 0),
    ];
  });
  return { header, rows };
}

function textTable({ header, rows }: Table): string[] {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  return [line(header), ...rows.map(line)];
}

export function markdownTable({ header, rows }: Table): string[] {
  return [`| ${header.join(" | ")} |`, `| ${header.map((_, c) => (c === 0 ? "---" : "---:")).join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)];
}

/** Overall sign-conflict line, or null for methods without an election. */
export function signConflictLine(report: StatsReport): string | null {
  if (!hasElection(report)) return null;
  const t = report.totals;
  const share = t.numel === 0 ? 0 : (100 * t.sign_conflicts) / t.numel;
  let line = `sign conflicts: ${int(t.sign_conflicts)} of ${int(t.numel)} positions (${pct(share)})`;
  if (report.method === "ties_sv") {
    line += `; rescued ${int(t.sv_reserved)} of ${int(t.sv_candidates)} lost elections of the favored model`;
    if (report.slack_budget !== null) line += ` (budget ${int(report.slack_budget)})`;
  }
  return line;
}

/** Summary printed after `mergescope merge` and by `mergescope analyze` (without --json). */
export function formatStatsSummary(report: StatsReport, opts: { detail?: boolean } = {}): string[] {
  const lines = [`method: ${report.method}, ${int(report.totals.tensors)} tensors, ${int(report.totals.numel)} parameters`, ""];
  lines.push(...textTable(modelTotalsTable(report)));
  const conflicts = signConflictLine(report);
  if (conflicts) lines.push("", conflicts);
  const extra = methodStatLines(report);
  if (extra.length > 0) lines.push("", ...extra);
  if (opts.detail && hasElection(report)) {
    const groupTable = (label: string, groups: { key: string; g: StatsReport["totals"] }[]) =>
      textTable({
        header: [label, "sign conflicts", "% of numel", ...report.models.map((_, i) => `discarded ${modelLabel(report, i)}`)],
        rows: groups.map(({ key, g }) => [
          key,
          int(g.sign_conflicts),
          pct(g.numel === 0 ? 0 : (100 * g.sign_conflicts) / g.numel),
          ...report.models.map((_, i) => `${int(g.discarded[i] ?? 0)} (${pct(discardedPercent(g, i))})`),
        ]),
      });
    lines.push("", ...groupTable("module", report.byModule.map((g) => ({ key: g.module, g }))));
    lines.push("", ...groupTable("layer", report.byLayer.map((g) => ({ key: g.layer === null ? "(outside layers)" : String(g.layer), g }))));
  }
  const tok = report.tokenizer;
  if (tok) lines.push("", `tokenizer: ${tok.source}, ${int(tok.vocab_size)} tokens; ${int(tok.not_merged.count)} embedding row(s) not merged (one model has the token)`);
  for (const l of report.loras ?? []) lines.push(`LoRA: ${l.adapter} on ${l.model} (r ${l.r}, scale ${l.scale}, ${l.tensors} tensors)`);
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  return lines;
}
