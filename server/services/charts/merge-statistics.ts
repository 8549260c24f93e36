// The merge statistics the scores-against-statistics view offers (browser-safe: no server imports).
export const MERGE_STATISTICS = {
  sftDiscardPct: "SFT parameters discarded by the sign election (% of its trimmed parameters)",
  ctDiscardPct: "CT parameters discarded by the sign election (% of its trimmed parameters)",
  signConflictPct: "positions with a sign conflict (% of all parameters)",
  sftRescuedPct: "SFT parameters rescued by the slack (% of its trimmed parameters)",
  tokensB: "CT tokens of the checkpoint (B)",
} as const;
export type MergeStatistic = keyof typeof MERGE_STATISTICS;
export const MERGE_STATISTIC_KEYS = Object.keys(MERGE_STATISTICS) as [MergeStatistic, ...MergeStatistic[]];
