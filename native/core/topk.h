// O(n) top-k / bottom-k selection by radix histograms over IEEE bits (no sort).
//
// Keys: `mag_key(x)` = bits of |x|. Non-negative floats order exactly like
// their bit patterns, so comparing keys compares magnitudes. Every NaN
// magnitude gets one key, 0x7fc00000, above +inf: torch.sort/argsort treat NaN
// as the largest value and all NaNs as equal, so a NaN task-vector entry is
// kept first by magnitude trimming, like mergekit. (0x7fc00000 has 16 zero low
// bits, like every BF16 key.)
//
// Tie-break: which of several items sharing the k-th key are kept is the
// caller's rule (selection.h TieRule): mergekit's (torch's introsort order,
// kernels/tie_order.h, the default) or the lowest flat index first (these
// helpers and distribute_ties implement the latter).
//
// Selection is two-level: level 1 histograms key >> 15 (65536 bins), level 2
// histograms key & 0x7fff inside the one level-1 bin holding the k-th item.
#pragma once
#include <cstdint>
#include <vector>

#include "dtype.h"

namespace ms {

class ThreadPool;

constexpr uint32_t kNaNKey = 0x7fc00000u;
MS_ALWAYS_INLINE uint32_t mag_key(float x) {
  const uint32_t k = f32_bits(x) & 0x7fffffffu;
  return k > 0x7f800000u ? kNaNKey : k;
}

constexpr uint32_t kTopkHiBins = 1u << 16;  // level-1 bins: key >> 15
constexpr uint32_t kTopkLoBins = 1u << 15;  // level-2 bins: key & 0x7fff

// Position of the r-th item (1-based, 1 <= r <= total) in a histogram.
struct BinPick {
  uint32_t bin = 0;
  uint64_t before = 0;  // items in bins visited before `bin` (above it for from_top, below for from_bottom)
  uint64_t in_bin = 0;  // items in `bin`
};
BinPick pick_from_top(const uint64_t* hist, uint32_t n_bins, uint64_t r);
BinPick pick_from_bottom(const uint64_t* hist, uint32_t n_bins, uint64_t r);

// Outcome of selecting the k largest (or smallest) keys.
struct TopkSelect {
  uint64_t k = 0;
  uint32_t threshold = 0;        // key of the k-th selected item (meaningful iff 0 < k <= n)
  uint64_t n_beyond = 0;         // items strictly better than threshold (greater for largest, smaller for smallest)
  uint64_t n_equal = 0;          // items with key == threshold
  uint64_t n_kept_at_threshold = 0;  // k - n_beyond: how many threshold ties are kept, lowest index first
};

// Exact selection over a key array, multi-threaded over fixed chunks; k is
// clamped to n. largest=true selects the k largest keys, false the k smallest.
TopkSelect topk_select(const uint32_t* keys, uint64_t n, uint64_t k, bool largest, ThreadPool& pool);

// keep[i] = 1 iff item i is selected by `s` (ties at the threshold: lowest index first).
void topk_mask(uint8_t* keep, const uint32_t* keys, uint64_t n, const TopkSelect& s, bool largest);

// Lowest-index-first tie allocation across fixed chunks: given how many
// threshold ties each chunk holds (chunk order) and how many ties to keep in
// total, write how many each chunk keeps.
void distribute_ties(uint64_t* keep_per_chunk, const uint64_t* eq_per_chunk, uint64_t n_chunks, uint64_t n_keep);

}  // namespace ms
