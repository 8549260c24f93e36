// Internal entry points of the kernel families (called by merge_kernels.cc
// after validation). Not public API.
#pragma once
#include <atomic>
#include <cstdint>
#include <vector>

#include "merge_kernels.h"

namespace ms::kern {

struct Job {
  float* out = nullptr;            // null: analysis only
  TensorStats* stats = nullptr;    // null: no statistics
  const float* base = nullptr;
  const float* const* models = nullptr;
  uint32_t n_models = 0;
  uint64_t n = 0;
  const ModelParams* mp = nullptr;
  const MergeParams* p = nullptr;
  ThreadPool* pool = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  std::vector<float> wr;           // weights as float, rounded to the compute dtype
  KernelScratch* scratch = nullptr;  // full-size temporaries (never null inside a kernel)
};

// Test knob for the top-k threshold search: 0 auto (sampled window, falls
// back to histograms), 1 always histograms, 2 sampled window with a zero
// safety margin (forces frequent fallbacks). Results never depend on it.
extern int g_topk_mode;
// Tensors with fewer elements use histograms directly (tests lower it).
extern uint64_t g_topk_sample_min_n;
// Counts models whose sampled window failed (window missed / too large) and
// fell back to histograms (observability for tests and tuning).
extern std::atomic<uint64_t> g_topk_fallbacks;
// BF16 histogram selections whose chunk tie counts came from the sampled bin
// windows of the level-1 pass (hits) or needed the separate tie-count pass
// (misses); see select_by_histogram. Observability for tests and tuning.
extern std::atomic<uint64_t> g_tie_window_hits, g_tie_window_misses;
// Sample of the top-k window search: kTopkSample stratified, deterministic
// positions, one per block of n / kTopkSample elements (n >= 4 * kTopkSample).
constexpr uint64_t kTopkSample = uint64_t(1) << 14;
inline uint64_t topk_sample_position(uint64_t s, uint64_t n) {
  const uint64_t blk = n / kTopkSample;
  return s * blk + (s * 2654435761u) % blk;
}

void run_linear(const Job& job);
void run_task_arithmetic(const Job& job);
// The trim/election family: ties, ties_sv, breadcrumbs(_ties), dare_linear,
// dare_ties (sv: ties_sv model-scope plan, or null).
void run_ties(const Job& job, const SlackPlanForTensor* sv);
// Density sweep of ties (kernels/sweep.cc): out gets D^M grid points.
void run_sweep(const Job& job, const double* densities, uint32_t D, std::vector<TensorStats>* out);
// Interpolations (kernels/interp.cc).
void run_slerp(const Job& job);
void run_model_stock(const Job& job);
// passthrough (kernels/passthrough.cc).
void run_passthrough(const Job& job);
// Newer mergekit methods: sce (kernels/sce.cc), nuslerp / multislerp / karcher
// (kernels/spherical.cc), arcee_fusion / nearswap (kernels/fusion.cc).
void run_sce(const Job& job);
void run_nuslerp(const Job& job);
void run_multislerp(const Job& job);
void run_karcher(const Job& job);
void run_arcee_fusion(const Job& job);
void run_nearswap(const Job& job);
SlackSummary run_slack_summarize(const Job& job, const SlackRefineRequest* refine);

// ties_sv lost-election margins of one chunk (kernels/margins.cc): candidates (mk != kNoCandidate)
// per margin bin; reserved: those with mk < reserve_below; at / taken at the plan's cutoff key.
struct MarginTileCounts {
  uint64_t candidates[kMarginBins] = {};
  uint64_t reserved[kMarginBins] = {};
  uint64_t at_cutoff = 0, taken_at_cutoff = 0;
};
void t_margin_tile(MarginTileCounts* c, const uint32_t* mk, uint64_t m, uint32_t reserve_below, uint32_t cutoff);

}  // namespace ms::kern
