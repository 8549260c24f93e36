// ties_sv lost-election margins: the fixed log-spaced histogram of
// merge_kernels.h ("Lost-election margins") and its per-tile counting.
#include <array>
#include <cmath>

#include "kernels/kernels.h"
#include "kernels/tile_ops.h"
#include "topk.h"

namespace ms {

namespace {
// Margin keys are bits of |margin| (< 2^31): a key's block key >> 16 spans at most 1/128 of an
// octave, while consecutive edges are 10^(1/6) (0.55 octave) apart, so a block holds at most one
// edge. lut[block] = the bin of the block's lowest key (zero aside); next[b] = the key where bin
// b ends. bin(key) = lut[block] + (key >= next[lut[block]]): one table read and one compare.
struct MarginTables {
  std::array<uint32_t, kMarginEdges> edge_key{};
  std::array<uint32_t, kMarginBins + 1> next{};
  std::array<uint8_t, 1u << 15> lut{};
  MarginTables() {
    for (uint32_t e = 0; e < kMarginEdges; ++e)
      edge_key[e] = mag_key(float(std::pow(10.0, (double(e) - 54.0) / 6.0)));
    // bin 0 ends at key 1 (the zero bin holds key 0 only); bin 1 + e ends at E_e; bin 62 never.
    next[0] = 1;
    for (uint32_t e = 0; e < kMarginEdges; ++e) next[1 + e] = edge_key[e];
    next[kMarginBins - 1] = next[kMarginBins] = 0xffffffffu;
    for (uint32_t h = 0; h < lut.size(); ++h) {
      const uint32_t lo = h << 16;
      uint32_t b = lo == 0 ? 0 : 1;
      while (b < kMarginBins - 1 && lo >= next[b]) ++b;
      lut[h] = uint8_t(b);
    }
  }
};
const MarginTables& tables() {
  static const MarginTables t;
  return t;
}
}  // namespace

float margin_edge(uint32_t e) { return f32_from_bits(tables().edge_key[e < kMarginEdges ? e : kMarginEdges - 1]); }

uint32_t margin_bin(uint32_t key) {
  const MarginTables& t = tables();
  if (key > 0x7fffffffu) return kMarginBins - 1;  // not a magnitude key: never produced by mag_key
  uint32_t b = t.lut[key >> 16];
  b += key >= t.next[b];
  return b;
}

namespace kern {

void t_margin_tile(MarginTileCounts* c, const uint32_t* mk, uint64_t m, uint32_t reserve_below, uint32_t cutoff) {
  const MarginTables& t = tables();
  for (uint64_t j = 0; j < m; ++j) {
    const uint32_t key = mk[j];
    if (key == kNoCandidate) continue;
    uint32_t b = t.lut[key >> 16];
    b += key >= t.next[b];
    const bool res = key < reserve_below;
    ++c->candidates[b];
    c->reserved[b] += res;
    c->at_cutoff += key == cutoff;
    c->taken_at_cutoff += key == cutoff && res;
  }
}

}  // namespace kern
}  // namespace ms
