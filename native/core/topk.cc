#include "topk.h"

#include <algorithm>
#include <cstring>

#include "errors.h"
#include "kernels/common.h"
#include "thread_pool.h"

namespace ms {

BinPick pick_from_top(const uint64_t* hist, uint32_t n_bins, uint64_t r) {
  uint64_t acc = 0;
  for (uint32_t b = n_bins; b-- > 0;) {
    if (acc + hist[b] >= r) return BinPick{b, acc, hist[b]};
    acc += hist[b];
  }
  throw MergeError(ErrorCode::INTERNAL, "topk: rank beyond histogram total");
}

BinPick pick_from_bottom(const uint64_t* hist, uint32_t n_bins, uint64_t r) {
  uint64_t acc = 0;
  for (uint32_t b = 0; b < n_bins; ++b) {
    if (acc + hist[b] >= r) return BinPick{b, acc, hist[b]};
    acc += hist[b];
  }
  throw MergeError(ErrorCode::INTERNAL, "topk: rank beyond histogram total");
}

void distribute_ties(uint64_t* keep_per_chunk, const uint64_t* eq_per_chunk, uint64_t n_chunks, uint64_t n_keep) {
  for (uint64_t c = 0; c < n_chunks; ++c) {
    const uint64_t t = std::min(eq_per_chunk[c], n_keep);
    keep_per_chunk[c] = t;
    n_keep -= t;
  }
  if (n_keep != 0) throw MergeError(ErrorCode::INTERNAL, "topk: fewer threshold ties than counted");
}

TopkSelect topk_select(const uint32_t* keys, uint64_t n, uint64_t k, bool largest, ThreadPool& pool) {
  TopkSelect s;
  s.k = std::min(k, n);
  if (s.k == 0) return s;
  const uint64_t nc = kern::n_chunks(n);
  const unsigned nw = pool.size();
  // Per-worker u32 counts, flushed into u64 after every batch of chunks so
  // they cannot overflow; integer sums make the result thread-count independent.
  std::vector<uint64_t> hist(kTopkHiBins, 0);
  std::vector<uint32_t> wh(uint64_t(nw) * kTopkHiBins);
  auto level = [&](uint32_t n_bins, auto bin_of) {
    std::fill(hist.begin(), hist.end(), 0);
    for (uint64_t c0 = 0; c0 < nc; c0 += kern::kChunksPerBatch) {
      const uint64_t c1 = std::min(nc, c0 + kern::kChunksPerBatch);
      std::fill(wh.begin(), wh.begin() + uint64_t(nw) * n_bins, 0u);
      pool.parallel_for_worker(c1 - c0, [&](uint64_t t, unsigned w) {
        const uint64_t j0 = (c0 + t) * kern::kChunk, j1 = std::min(n, j0 + kern::kChunk);
        uint32_t* h = wh.data() + uint64_t(w) * n_bins;
        for (uint64_t j = j0; j < j1; ++j) {
          const int64_t b = bin_of(keys[j]);
          if (b >= 0) ++h[b];
        }
      });
      for (unsigned w = 0; w < nw; ++w)
        for (uint32_t b = 0; b < n_bins; ++b) hist[b] += wh[uint64_t(w) * n_bins + b];
    }
  };
  level(kTopkHiBins, [](uint32_t key) -> int64_t { return key >> 15; });
  const BinPick p1 = largest ? pick_from_top(hist.data(), kTopkHiBins, s.k) : pick_from_bottom(hist.data(), kTopkHiBins, s.k);
  const uint32_t hi = p1.bin;
  level(kTopkLoBins, [hi](uint32_t key) -> int64_t { return (key >> 15) == hi ? int64_t(key & 0x7fffu) : -1; });
  const uint64_t r2 = s.k - p1.before;
  const BinPick p2 = largest ? pick_from_top(hist.data(), kTopkLoBins, r2) : pick_from_bottom(hist.data(), kTopkLoBins, r2);
  s.threshold = (hi << 15) | p2.bin;
  s.n_beyond = p1.before + p2.before;
  s.n_equal = p2.in_bin;
  s.n_kept_at_threshold = s.k - s.n_beyond;
  return s;
}

void topk_mask(uint8_t* keep, const uint32_t* keys, uint64_t n, const TopkSelect& s, bool largest) {
  uint64_t ties = s.k == 0 ? 0 : s.n_kept_at_threshold;
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t key = keys[i];
    bool kept = false;
    if (s.k != 0) {
      if (largest ? key > s.threshold : key < s.threshold) kept = true;
      else if (key == s.threshold && ties > 0) { kept = true; --ties; }
    }
    keep[i] = kept ? 1 : 0;
  }
}

}  // namespace ms
