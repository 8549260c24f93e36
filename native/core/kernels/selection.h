// Exact top-k cuts of task-vector magnitudes |R(x_i - base)|, several per
// pass: a sampled window search (pass S) with exact histogram fallbacks
// (A1, A2) and per-chunk tie counts (A3). See ties.cc for the pass overview.
// Which of the entries equal to a cut's threshold belong to it is the tie
// rule's choice: mergekit's (the order torch's sort leaves them in,
// kernels/tie_order.h) or the lowest flat index first.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace ms::kern {

// Which threshold ties a cut keeps (docs/tie-order.md).
enum class TieRule : uint8_t {
  Mergekit,  // those torch.argsort / torch.sort (libstdc++ introsort) places inside the cut
  Index,     // the lowest flat indices
};

struct SelCtx {
  const Job* job = nullptr;
  TieRule rule = TieRule::Mergekit;
  // The ranking the cuts come from: descending |delta| (ties, the sweep;
  // mergekit's argsort(descending=True)[:k]) or ascending (breadcrumbs'
  // sort(|delta|)[n_bot:-n_top]: a cut's top set is then the sorted tail).
  bool ascending = false;
  DType r = DType::F32;    // compute dtype: delta = R(x - base)
  uint64_t n = 0, nc = 0;  // elements, chunks
  // Many cuts per model (density sweeps): one pass serves them all, cheaper
  // than a sampled window (and its collected keys) per cut: shared bin windows
  // for BF16 (select_by_windows in selection.cc), else histograms.
  bool prefer_histograms = false;
};

// One top-k cut of one model's |delta| (the kept set of ties; for breadcrumbs
// also the removed-outlier set; for the density sweep one per listed density).
struct TrimModel {
  bool all = true;         // density >= 1: keep everything
  bool none = false;       // k == 0: keep nothing
  uint64_t k = 0;
  uint32_t T = 0;          // threshold key (k-th largest |delta|)
  uint64_t n_greater = 0, n_equal = 0, kept_at = 0;
  bool partial = false;    // 0 < kept_at < n_equal: chunk-level tie budgets below
  std::vector<uint64_t> keep_chunk, eq_chunk;  // per chunk: threshold ties kept / present
  // TieRule::Mergekit, partial cuts: bit o is set iff the o-th threshold tie
  // (flat index order) is kept; eq_before[c] = ties in chunks before c.
  std::vector<uint64_t> tie_bits, eq_before;
};

// The trim state of one cut inside one chunk (chunk_cut): an entry is in the
// cut iff key >= tc, or key == T and take_tie() says so (ties in flat order).
struct ChunkCut {
  uint32_t tc = 0, T = 0;
  uint64_t budget = 0;               // TieRule::Index: the next `budget` ties are in
  const uint64_t* bits = nullptr;    // TieRule::Mergekit: tie `ord` is in iff its bit is set
  uint64_t ord = 0;
  bool partial() const { return budget > 0 || bits != nullptr; }
  bool take_tie() {
    if (bits) {
      const bool in = (bits[ord >> 6] >> (ord & 63)) & 1u;
      ++ord;
      return in;
    }
    if (budget == 0) return false;
    --budget;
    return true;
  }
};

// One selection to run: the model and the cut it fills (t->k in (0, n]).
struct SelReq {
  uint32_t model;
  TrimModel* t;
};

// Runs the selections; requests of one model must be adjacent (their keys
// are computed once per tile). Fills T, n_greater, n_equal, kept_at, partial,
// the chunk tie counts and, for partial cuts, which ties are kept (ctx.rule).
void run_selections(const SelCtx& ctx, std::vector<SelReq>& reqs);

// Chunk c of a cut.
inline ChunkCut chunk_cut(const TrimModel& t, uint64_t c) {
  ChunkCut k;
  k.T = t.T;
  if (t.all) k.tc = 0;
  else if (t.none) k.tc = 0x80000000u;  // above every key
  else if (!t.partial) k.tc = t.T;      // every threshold tie kept
  else if (t.keep_chunk[c] == t.eq_chunk[c]) k.tc = t.T;
  else {
    k.tc = t.T + 1;
    if (t.keep_chunk[c] == 0) return k;
    if (t.tie_bits.empty()) {
      k.budget = t.keep_chunk[c];
    } else {
      k.bits = t.tie_bits.data();
      k.ord = t.eq_before[c];
    }
  }
  return k;
}

}  // namespace ms::kern
