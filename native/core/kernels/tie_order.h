// mergekit's tie order for magnitude cuts (TieRule::Mergekit): which of the
// entries equal to a cut's threshold torch's CPU sort places inside the cut.
//
// torch.argsort / torch.sort (stable=False) run libstdc++'s std::sort over
// (value, index) pairs compared by value only (kernels/introsort.h). Its
// sub-ranges never exchange elements once partitioned and its final
// insertion sort never moves an element across a partition boundary nor
// past an equal key, so the set sorted into positions [0, k) is decided by
// the chain of sub-ranges that contain position k strictly inside. This file
// follows that chain exactly as std::sort would (median-of-three pivot,
// unguarded Hoare partition, depth budget 2*floor(log2 n) with the heap-sort
// fallback, stable insertion sort of the last <= 16 elements) and settles
// every other sub-range wholesale: expected O(n), not O(n log n).
// docs/tie-order.md has the argument.
//
// Elements are 32-bit codes: the magnitude key, or, for an entry equal to a
// threshold being resolved, a flag plus its tie ordinal (rank among those
// ties by flat index), which compares as that threshold. Large sub-ranges
// are partitioned in parallel with the exact Hoare result (the t-th stopper
// from the left swaps with the t-th from the right).
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

#include "kernels/selection.h"

namespace ms {
class GrowBuffer;
class ThreadPool;
}

namespace ms::kern {

// Fills t->tie_bits and t->eq_before for the partial cuts of one model (all
// cuts of one ranking: ctx.ascending; each with T, n_equal and eq_chunk set).
void resolve_mergekit_ties(const SelCtx& ctx, uint32_t model, const std::vector<TrimModel*>& cuts);

// The same over an explicit key array (mag_key values), for tests and
// callers that hold keys: the top set of a cut is its k first elements of
// the descending ranking (ascending: the last k of the ascending one); bits
// over the entries with key == T in flat index order.
struct KeyCut {
  uint64_t k = 0;
  uint32_t T = 0;
  std::vector<uint64_t> bits;  // out
};
void mergekit_tie_bits(const uint32_t* keys, uint64_t n, bool ascending, std::vector<KeyCut>& cuts, ThreadPool& pool,
                       GrowBuffer* scratch = nullptr);

// Test knob: sub-ranges of at least this many elements are partitioned in
// parallel (results never depend on it).
extern uint64_t g_tie_parallel_min;
// ... counting their stoppers in blocks of this many elements.
extern uint64_t g_tie_parallel_block;
// Test knob: stopper scans take the portable loop even where AVX-512 runs
// (results never depend on it).
extern bool g_tie_scalar_scans;
// Observability for tests: sub-ranges the chain heap-sorted because the depth
// budget ran out, and partitions done in parallel.
extern std::atomic<uint64_t> g_tie_heap_fallbacks, g_tie_parallel_partitions;

}  // namespace ms::kern
