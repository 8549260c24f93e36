"use client";

import type { BuilderSlice } from "@/server/services/builder/schemas";
import { layerStrip } from "./layer-swap";

/**
 * The output layers of a slices recipe as a strip, bottom (embeddings) to top (LM head): each
 * cell names the model the layer is copied from, or "blend" for a weighted mix, with the
 * source layers in its tooltip and a table below for screen readers and copying.
 */
export function LayerStrip({ slices, nameOf, colorOf }: { slices: readonly BuilderSlice[]; nameOf: (id: string) => string; colorOf: (id: string) => string }) {
  const strip = layerStrip(slices);
  const first = slices[0]?.sources.map((s) => nameOf(s.modelId)).join(" + ");
  const last = slices.at(-1)?.sources.map((s) => nameOf(s.modelId)).join(" + ");
  const describe = (l: (typeof strip)[number]) =>
    l.sources
      .filter((s) => s.weight !== 0)
      .map((s) => `${nameOf(s.modelId)} layer ${s.layer}${s.weight !== null && l.from === "blend" ? ` × ${s.weight}` : ""}`)
      .join(" + ");
  return (
    <figure className="layer-strip-figure" data-testid="layer-strip">
      <div className="layer-strip" role="list" aria-label="Output layers, bottom to top">
        <span className="layer-cell layer-cell-edge" role="listitem" title={`embeddings from ${first}`}>emb</span>
        {strip.map((l) => (
          <span
            key={l.layer}
            role="listitem"
            className="layer-cell"
            data-from={l.from === "blend" ? "blend" : nameOf(l.from)}
            title={`layer ${l.layer}: ${describe(l)}`}
            style={{ background: l.from === "blend" ? "repeating-linear-gradient(45deg, #c7d2fe, #c7d2fe 4px, #fde68a 4px, #fde68a 8px)" : colorOf(l.from) }}
          >
            {l.layer}
          </span>
        ))}
        <span className="layer-cell layer-cell-edge" role="listitem" title={`final norm and LM head from ${last}`}>head</span>
      </div>
      <figcaption className="hint">
        {strip.length} output layers. Embeddings come from the first slice ({first}), the final norm and LM head from the last ({last}).
      </figcaption>
      <details>
        <summary>Layers as a table</summary>
        <table className="table">
          <thead>
            <tr>
              <th scope="col">output layer</th>
              <th scope="col">from</th>
            </tr>
          </thead>
          <tbody>
            {strip.map((l) => (
              <tr key={l.layer}>
                <td>{l.layer}</td>
                <td>{describe(l)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
