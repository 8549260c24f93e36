// Which registered model a results file evaluated, when the file was made on another
// machine (its paths are not ours). Pure: the import service passes the registered models.
//
// - fingerprint: a hex run of 12+ characters in the file's model path or name that a merged
//   model's digests start with (manifest outputSha256 / recipeSha256), or that the registered
//   folder's name contains (merge outputs are named "<label>-<job key>"). Unique → filed at once.
// - suffix: the longest run of trailing path segments the file's path shares with registered
//   paths ("…/run7/ct-4B" vs "/data/run7/ct-4B": 2 segments). Only proposed: the user confirms.
import path from "node:path";

export interface MatchableModel {
  id: string;
  name: string;
  path: string;
  role: string;
  outputSha256: string | null;
  recipeSha256: string | null;
}

export interface MatchSource {
  pretrained: string | null;
  modelName: string;
  modelArgs?: string | null;
}

export interface MatchCandidate {
  modelId: string;
  name: string;
  path: string;
  role: string;
  by: "fingerprint" | "suffix";
  /** fingerprint: the hex run found; suffix: the shared trailing segments ("run7/ct-4B"). */
  evidence: string;
  /** Trailing path segments shared with the file's path (0 for a fingerprint found elsewhere). */
  segments: number;
}

const MIN_FINGERPRINT = 12;

/** Hex runs of 12+ characters (lowercased), each delimited by non-alphanumerics. */
export function fingerprintTokens(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/(?<![0-9a-zA-Z])[0-9a-fA-F]{12,64}(?![0-9a-zA-Z])/g)) {
    const t = m[0].toLowerCase();
    // A run of digits only is a date or a step count, not a digest.
    if (/[a-f]/.test(t)) out.add(t);
  }
  return [...out];
}

/** Path segments, POSIX or Windows separators, without empty and "." segments. */
export function pathSegments(p: string): string[] {
  return p.split(/[\\/]+/).filter((s) => s.length > 0 && s !== ".");
}

/** Number of equal trailing segments. */
export function sharedSuffix(a: string[], b: string[]): number {
  let k = 0;
  while (k < a.length && k < b.length && a[a.length - 1 - k] === b[b.length - 1 - k]) k++;
  return k;
}

function fingerprintHits(tokens: string[], m: MatchableModel): string | null {
  const folder = path.basename(m.path).toLowerCase();
  for (const t of tokens) {
    if (t.length < MIN_FINGERPRINT) continue;
    if (m.outputSha256?.startsWith(t) || m.recipeSha256?.startsWith(t)) return t;
    if (new RegExp(`(?<![0-9a-f])${t}(?![0-9a-f])`).test(folder)) return t;
  }
  return null;
}

/**
 * Candidates for one file, best first: fingerprint matches, else the models sharing the longest
 * path suffix (at least one segment). Ties stay together: two "…/base" folders are both offered.
 */
export function matchCandidates(source: MatchSource, models: MatchableModel[]): MatchCandidate[] {
  const spelled = [source.pretrained, source.modelName].filter((s): s is string => !!s);
  const tokens = fingerprintTokens([...spelled, source.modelArgs ?? ""].join(" "));
  const fileSegments = pathSegments(source.pretrained ?? source.modelName);
  const byFingerprint: MatchCandidate[] = [];
  for (const m of models) {
    const hit = fingerprintHits(tokens, m);
    if (hit) byFingerprint.push({ modelId: m.id, name: m.name, path: m.path, role: m.role, by: "fingerprint", evidence: hit, segments: sharedSuffix(fileSegments, pathSegments(m.path)) });
  }
  if (byFingerprint.length > 0) return byFingerprint.sort(bySegmentsThenPath);
  let best = 0;
  const bySuffix: MatchCandidate[] = [];
  for (const m of models) {
    const mine = pathSegments(m.path);
    const k = sharedSuffix(fileSegments, mine);
    if (k === 0 || k < best) continue;
    if (k > best) {
      best = k;
      bySuffix.length = 0;
    }
    bySuffix.push({ modelId: m.id, name: m.name, path: m.path, role: m.role, by: "suffix", evidence: mine.slice(-k).join("/"), segments: k });
  }
  return bySuffix.sort(bySegmentsThenPath);
}

function bySegmentsThenPath(a: MatchCandidate, b: MatchCandidate): number {
  return b.segments - a.segments || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** The model to file a results file under without asking: a single fingerprint match. */
export function automaticMatch(candidates: MatchCandidate[]): MatchCandidate | null {
  return candidates.length === 1 && candidates[0]!.by === "fingerprint" ? candidates[0]! : null;
}
