// The TIES vs TIES-SV page's state in the URL (/analysis/compare?experiment=…&ckpt=…&sft=0.2&ct=1&slack=0.04&split=test&group=layer&ctable=1&mtable=1).

export interface CompareState {
  experiment: string | null;
  ckpt: string | null;
  sft: number | null;
  ct: number | null;
  slack: number | null;
  split: "dev" | "test";
  /** The chart's grouping: per module (default) or per layer. */
  group: "module" | "layer";
  /** The chart's data table shown. */
  ctable: boolean;
  /** The methods-side-by-side chart's data table shown (it shares the grouping). */
  mtable: boolean;
  /** The margin histogram's data table shown. */
  htable: boolean;
}

const num01 = (s: string | null): number | null => {
  if (s === null || s.trim() === "") return null;
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
};
const idLike = (s: string | null): string | null => (s && /^[A-Za-z0-9_-]{1,64}$/.test(s) ? s : null);

export function parseCompareState(p: URLSearchParams): CompareState {
  return {
    experiment: idLike(p.get("experiment")),
    ckpt: idLike(p.get("ckpt")),
    sft: num01(p.get("sft")),
    ct: num01(p.get("ct")),
    slack: num01(p.get("slack")),
    split: p.get("split") === "dev" ? "dev" : "test",
    group: p.get("group") === "layer" ? "layer" : "module",
    ctable: p.get("ctable") === "1",
    mtable: p.get("mtable") === "1",
    htable: p.get("htable") === "1",
  };
}

export function serializeCompareState(s: CompareState): URLSearchParams {
  const p = new URLSearchParams();
  if (s.experiment) p.set("experiment", s.experiment);
  if (s.ckpt) p.set("ckpt", s.ckpt);
  if (s.sft !== null) p.set("sft", String(s.sft));
  if (s.ct !== null) p.set("ct", String(s.ct));
  if (s.slack !== null) p.set("slack", String(s.slack));
  if (s.split !== "test") p.set("split", s.split);
  if (s.group !== "module") p.set("group", s.group);
  if (s.ctable) p.set("ctable", "1");
  if (s.mtable) p.set("mtable", "1");
  if (s.htable) p.set("htable", "1");
  return p;
}
