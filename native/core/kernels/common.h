// Internal constants and helpers shared by the kernels (not public API).
#pragma once
#include <atomic>
#include <cstdint>
#include <string>

#include "errors.h"

namespace ms::kern {

// Elements per parallel task. Fixed, so the split of the data (and hence every
// per-chunk partial result) never depends on the number of threads.
constexpr uint64_t kChunk = uint64_t(1) << 16;
// Elements per inner tile: tile scratch arrays stay in L1/L2.
constexpr uint64_t kTile = 1024;
// Chunks per batch before per-worker u32 histograms are flushed (< 2^32 elements).
constexpr uint64_t kChunksPerBatch = (uint64_t(1) << 31) / kChunk;

inline uint64_t n_chunks(uint64_t n) { return n / kChunk + (n % kChunk != 0); }

inline void check_cancel(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load(std::memory_order_relaxed))
    throw MergeError(ErrorCode::CANCELLED, "merge cancelled");
}

// Checked a * b for sizes.
inline uint64_t mul_size(uint64_t a, uint64_t b, const char* what) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw MergeError(ErrorCode::INTERNAL, std::string("size overflow: ") + what);
  return r;
}

}  // namespace ms::kern
