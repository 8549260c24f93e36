"use client";

import { Line, LineChart, ResponsiveContainer, YAxis } from "recharts";
import { FIG4_COLORS } from "./palette";

export interface DiscardThumbnailProps {
  /** One point per CT checkpoint, ascending tokens: the SFT model's discarded share (%) under TIES and TIES-SV. */
  data: { label: string; ties: number | null; tiesSv: number | null }[];
  /** What the thumbnail shows, read by screen readers (the full figure, with its table and exports, is one click away). */
  summary: string;
}

/** Figure 4 as a sparkline for the home page's experiment cards. */
export function DiscardThumbnail({ data, summary }: DiscardThumbnailProps) {
  return (
    <div className="thumbnail" data-testid="discard-thumbnail" role="img" aria-label={summary}>
      <ResponsiveContainer width="100%" height={64} initialDimension={{ width: 220, height: 64 }}>
        <LineChart data={data} margin={{ top: 4, right: 4, bottom: 4, left: 4 }}>
          <YAxis hide domain={["auto", "auto"]} />
          <Line dataKey="ties" stroke={FIG4_COLORS.ties} strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
          <Line dataKey="tiesSv" stroke={FIG4_COLORS.tiesSv} strokeWidth={2} dot={false} isAnimationActive={false} connectNulls />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
