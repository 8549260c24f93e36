import { useId } from "react";
import type { Lineage, LineageNode } from "@/server/services/experiments/schemas";

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function hrefOf(node: LineageNode, experimentId: string): string | null {
  if (node.kind === "MERGED") return `/jobs?experiment=${encodeURIComponent(experimentId)}`;
  if (node.modelId) return `/models?q=${encodeURIComponent(node.detail)}`;
  return null;
}

/**
 * The roadmap of the paper's Figure 1, drawn from the server's layout:
 * BASE → SFT; BASE → CT-X → CTSFT-X; CT-X + SFT → merged models.
 * Dashed nodes are merges the roadmap suggests that have not been queued.
 */
export function LineageGraph({ lineage, experimentId, name }: { lineage: Lineage; experimentId: string; name: string }) {
  const id = useId();
  const byId = new Map(lineage.nodes.map((n) => [n.id, n]));
  const summary = lineage.edges
    .map((e) => `${byId.get(e.from)?.label ?? "?"} → ${byId.get(e.to)?.label ?? "?"}`)
    .join("; ");
  return (
    <figure className="lineage" data-testid="lineage-graph" style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${lineage.width} ${lineage.height}`}
        width={lineage.width}
        height={lineage.height}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
      >
        <title id={`${id}-title`}>{`Lineage of ${name}`}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        <defs>
          <marker id={`${id}-arrow`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#7b8490" />
          </marker>
        </defs>
        {lineage.edges.map((e) => {
          const a = byId.get(e.from);
          const b = byId.get(e.to);
          if (!a || !b) return null;
          const x1 = a.x + a.width;
          const y1 = a.y + a.height / 2;
          const x2 = b.x - 2;
          const y2 = b.y + b.height / 2;
          const dx = Math.max(20, (x2 - x1) / 2);
          return (
            <path
              key={e.id}
              className={`edge edge-${e.kind}${e.planned ? " edge-planned" : ""}`}
              d={`M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`}
              markerEnd={`url(#${id}-arrow)`}
              data-testid="lineage-edge"
              data-from={a.label}
              data-to={b.label}
            />
          );
        })}
        {lineage.nodes.map((n) => {
          const body = (
            <g
              className={`node node-${n.kind.toLowerCase()}${n.planned ? " node-planned" : ""}`}
              transform={`translate(${n.x} ${n.y})`}
              data-testid="lineage-node"
              data-kind={n.kind}
              data-label={n.label}
              data-planned={n.planned}
            >
              <title>{`${n.label} — ${n.detail}`}</title>
              <rect width={n.width} height={n.height} rx={6} />
              <text x={10} y={19} className="node-label">{truncate(n.label, 20)}</text>
              <text x={10} y={36} className="node-detail">{truncate(n.detail, 27)}</text>
            </g>
          );
          const href = hrefOf(n, experimentId);
          return href ? (
            <a key={n.id} href={href} aria-label={`${n.label}: ${n.detail}`}>
              {body}
            </a>
          ) : (
            <g key={n.id}>{body}</g>
          );
        })}
      </svg>
      <figcaption className="legend">
        <span>Solid arrows: training (BASE → SFT, BASE → CT-X → CTSFT-X); green arrows: merge inputs (CT-X + SFT).</span>
        <span>Dashed: the paper&apos;s TIES-X / WAVG-X merges not queued yet.</span>
        <span>WAVG = linear, TA = task arithmetic.</span>
      </figcaption>
    </figure>
  );
}
