// Where a tensor sits in the transformer stack, by name: `<prefix>layers.N.<rest>` (also
// `h.N.`, `blocks.N.`, `layer.N.`, `block.N.`) is layer N; every other tensor is a pre-weight
// (embeddings, before the first layer) or a post-weight (final norm, LM head), as mergekit's
// architecture tables list them for the decoder models it knows.
const LAYER = /^((?:.*\.)?(?:layers|layer|h|blocks|block)\.)(\d+)(\..+)$/;
const PRE_WEIGHT = /(?:^|\.)(?:embed_tokens|wte|wpe|embed_in|word_embeddings|tok_embeddings|embeddings)(?:\.|$)/;

export interface LayerName {
  /** Everything up to and including `layers.` */
  prefix: string;
  layer: number;
  /** Everything after the layer index, starting with `.` */
  suffix: string;
}

export function parseLayerName(name: string): LayerName | null {
  const m = LAYER.exec(name);
  return m ? { prefix: m[1]!, layer: Number(m[2]), suffix: m[3]! } : null;
}

export function layerTensorName(l: LayerName, layer: number): string {
  return `${l.prefix}${layer}${l.suffix}`;
}

/** Non-layer tensors: embeddings come before the layers, everything else after them. */
export function isPreWeight(name: string): boolean {
  return PRE_WEIGHT.test(name);
}

/** Number of layers a checkpoint holds: highest layer index + 1 (0 without layers). */
export function countLayers(names: readonly string[]): number {
  let n = 0;
  for (const name of names) {
    const l = parseLayerName(name);
    if (l) n = Math.max(n, l.layer + 1);
  }
  return n;
}
