// Exact top-k cuts of task-vector magnitudes |R(x_i - base)|, several per
// pass: a sampled window search (pass S) with exact histogram fallbacks
// (A1, A2) and per-chunk tie counts (A3). See ties.cc for the pass overview.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace ms::kern {

struct SelCtx {
  const Job* job = nullptr;
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
  std::vector<uint64_t> keep_chunk, eq_chunk;
};

// One selection to run: the model and the cut it fills (t->k in (0, n]).
struct SelReq {
  uint32_t model;
  TrimModel* t;
};

// Runs the selections; requests of one model must be adjacent (their keys
// are computed once per tile). Fills T, n_greater, n_equal, kept_at, partial
// and the chunk tie budgets.
void run_selections(const SelCtx& ctx, std::vector<SelReq>& reqs);

// Chunk c of a cut: an entry is inside the cut iff key >= *tc, plus the first
// *budget entries with key == T (lowest flat index first) when *budget > 0.
inline void chunk_cut(const TrimModel& t, uint64_t c, uint32_t* tc, uint64_t* budget) {
  *budget = 0;
  if (t.all) *tc = 0;
  else if (t.none) *tc = 0x80000000u;  // above every key
  else if (!t.partial) *tc = t.T;      // every threshold tie kept
  else if (t.keep_chunk[c] == t.eq_chunk[c]) *tc = t.T;
  else { *tc = t.T + 1; *budget = t.keep_chunk[c]; }
}

}  // namespace ms::kern
