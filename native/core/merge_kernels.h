// Per-tensor merge kernels: linear, task_arithmetic, ties (sum/count
// election), ties_sv (TIES with a slack variable), breadcrumbs(_ties),
// dare_linear / dare_ties, della / della_linear, slerp and model_stock; sce, nuslerp, multislerp,
// karcher, arcee_fusion and nearswap (kernels/sce.cc, spherical.cc, fusion.cc). They reproduce
// mergekit's numbers (test/fixtures/golden/README.md is the spec; docs/merge-methods.md pins
// down breadcrumbs' ranking, DARE's generator, slerp, model_stock and the reductions of the
// newer methods).
//
// ---------------------------------------------------------------------------
// Inputs. Every tensor arrives as float arrays of n elements, already widened
// exactly from storage (F32/F16/BF16) and already cut to the base's shape
// (embedding rows). Models i = 0..M-1 with weight w_i, density d_i; base b.
//
// Compute dtype (MergeParams::compute), with R(x) = round_to(compute, x):
//  * F32: R is the identity; the caller rounds the result to the output
//    dtype once (narrow(), RNE). Matches expected.safetensors.
//  * F16 / BF16 ("native", mergekit's default when the recipe has no dtype):
//    every elementwise op is computed in F32 and rounded to the dtype; sums
//    over models accumulate in F32 (starting from +0, in model order) and are
//    rounded once. `out` then holds values exactly representable in that
//    dtype. Matches expected_native.safetensors. Operation order (verified
//    bit-exact on every golden case):
//      wr_i  = R(w_i)                         weights as a tensor of the dtype
//      d_i   = R(x_i - b)                     task vector
//      t_i   = trim(d_i)                      top-k on |d_i| (see below)
//      wd_i  = R(wr_i * t_i)                  weighted BEFORE the election
//      sum:   s = R(0 + wd_0 + wd_1 + ...)    maj = s >= 0 ? +1 : -1 (-0 >= 0)
//      count: maj = (#{wd_i > 0} - #{wd_i < 0}) >= 0 ? +1 : -1
//      c_i   = wd_i != 0 && sign(wd_i) == maj
//      mixed = R(sum of c_i ? wd_i : 0);  div = R(sum of c_i ? wr_i : 0)
//      if normalize: mixed = R(mixed / (div == 0 ? 1 : div))
//      if lambda != 1: mixed = R(mixed * float(lambda))   (lambda NOT rounded to the dtype)
//      out   = R(b + mixed)
//    task_arithmetic: no trim/election, c_i = 1, div = R(sum of wr_i) (a
//    scalar; |div| < 1e-8 -> 1). linear: acc = R(sum R(wr_i * x_i));
//    out = normalize ? R(acc / R(sum wr_i)) : acc.
//
// Trim (ties family): density >= 1 keeps everything; else k = int(d * n)
// (float64 product truncated) and the k entries of largest |d_i| are kept
// (O(n) radix select on IEEE bits, no sort). Ties at the threshold
// (MergeParams::tie_order): mergekit's order by default -- the entries
// torch.argsort places first, i.e. libstdc++ std::sort's order, resolved in
// expected O(n) by kernels/tie_order.h (docs/tie-order.md) -- or the lowest
// flat index first. k == 0 keeps nothing (mergekit asserts k > 0). NaN
// magnitudes rank above +inf and equal each other (torch's argsort order);
// NaN is never rejected.
//
// Determinism: results (outputs and statistics) are bit-identical for any
// number of threads: work is split into fixed 64Ki-element chunks and
// floating-point partial sums are combined in chunk order.
//
// Threading / cancellation: all passes run on `pool`; `cancel` (may be null)
// is polled before every chunk and raises MergeError(CANCELLED).
// Errors: MergeError(RECIPE_INVALID) for bad parameters (validate_params),
// MergeError(INTERNAL) for caller bugs (null pointers, plan mismatch).
//
// Memory: no full-size copies of the inputs; per-thread tile scratch (a few
// KiB per model), small per-chunk tables, and for each trimmed model the
// |delta| keys inside the top-k search window (typically ~3% of n, capped at
// n/8 keys, else the histogram fallback is used). `out` may alias `base` or
// one model array exactly (each chunk is read before it is written); no
// partial overlap.
//
// Passes over memory (ties family; each reads base and the models' arrays):
//  1. top-k threshold search, one pass for all trimmed models: a fixed
//     sample of |delta| brackets the k-th key; the pass counts keys above
//     the window and collects the keys inside it per chunk, which yields the
//     exact threshold and per-chunk tie counts. A window that misses (or is
//     too large, e.g. heavily tied data) falls back to exact radix
//     histograms (1-2 passes) plus, if only some threshold ties are kept, a
//     tie-count pass. Results never depend on which path ran.
//  2. the fused merge pass (reads all inputs, writes out).
// ties_sv adds its margin passes (see below). linear / task_arithmetic: one
// pass.
//
// ---------------------------------------------------------------------------
// TIES-SV (TIES with a slack variable). One model is favored (the SFT model).
// After the election, candidates are positions where the favored weighted
// entry wd_f is non-zero and sign(wd_f) != maj. Margin = |s| (the election
// sum; in native mode the rounded sum). R = min(#candidates,
// floor(slack * nnz(t_f))) candidates with the smallest margin are reserved:
// their elected sign becomes sign(wd_f); the merge then proceeds as TIES.
// Ranking ties break by position: tensor name (byte-wise order), then flat
// index. slack 0 gives exactly TIES. Requires the sum election.
//  * SlackScope::Tensor: R and the ranking are per tensor; merge_tensor does
//    everything (no plan argument).
//  * SlackScope::Model: R = floor(slack * total favored nnz over all tensors)
//    and the ranking is global. Two passes over the model:
//      SlackPlanner planner(p);
//      for each tensor (any order; planner calls are not thread-safe):  // pass 1
//        planner.add(name, slack_summarize(base, models, ...));
//      while (!planner.finish())                                // F32 compute only, at most once:
//        for (name : planner.tensors_to_refine())               //   re-read the few tensors holding
//          planner.add_refinement(name,                         //   the boundary margin bucket
//              slack_summarize(..., &planner.refine_request()));
//      for each tensor (any order, in parallel):                // pass 2
//        SlackPlanForTensor plan = planner.plan_for(name);
//        merge_tensor(out, &stats, base, models, ..., &plan);
//    Pass-1 summaries are histograms over margin bits (< 2^18 bins, stored
//    sparse), never per-element data. In native F16/BF16 mode the margins are
//    16-bit values and the first histogram is exact; F32-compute tensors with
//    candidates in the one boundary bucket are re-read once for a finer
//    histogram (refinement) when that bucket is only partly reserved.
//
// Lost-election margins (TensorStats::has_margins, ties_sv only). The margin of
// a candidate is the one the reserve ranks by: |R(s)|, s = sum_i wd_i the sign
// election's sum at that position (native F16/BF16: the sum rounded to the
// dtype; F32: the float sum in model order), over the candidates -- positions
// where the favored model's weighted entry wd_f is non-zero and its sign is not
// the elected one (0 and NaN never lose). Every candidate is counted in a fixed
// histogram of kMarginBins bins; the reserved ones in a second one:
//   bin 0            margin == 0 (the election tied at +0 / -0: maj = +1)
//   bin 1            0 < margin < E_0
//   bin 2 + e        E_e <= margin < E_{e+1}          (e = 0..59)
//   bin 62           margin >= E_60 (1e1), +inf and NaN
// with E_e = float(10^((e - 54) / 6)) (the float64 power rounded to the nearest
// float): 6 log-spaced bins per decade over [1e-9, 1e1). Fixed edges (not the
// range seen) so that any two analyses -- TIES-SV at two checkpoints, slacks or
// densities -- are drawn on one axis and can be added; the range holds
// task-vector differences of bf16/f32 checkpoints (weights of order 1e-3..1,
// changes of 1e-7..1e-1), with the ends catching the rest. Counts are integers,
// so the histograms are exact and independent of the thread count.
// ---------------------------------------------------------------------------
#pragma once
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dtype.h"
#include "grow_buffer.h"
#include "thread_pool.h"

namespace ms {

// Adding a method: an enumerator, method_name, a case in validate_params and
// a kernel family (kernels/kernels.h).
enum class Method : uint8_t {
  Linear, TaskArithmetic, Ties, TiesSV,
  Breadcrumbs, BreadcrumbsTies,  // magnitude-outlier trim, without / with sign election
  DareLinear, DareTies,          // random (Bernoulli) trim + L1 rescale, without / with sign election
  Slerp, ModelStock,             // interpolations between the base and the model(s)
  Della, DellaLinear,            // magnitude-ranked random trim (DELLA) + L1 rescale, with / without sign election
  Passthrough,                   // one input copied, optionally times a per-model `scale` (no base)
  Sce,                           // variance top-k trim + sum election + tv-energy weights
  Nuslerp, Multislerp, Karcher,  // spherical interpolations (base optional)
  ArceeFusion, Nearswap,         // base + one model, elementwise selection
  kCount  // keep last: the number of methods (engine_info lists every method below it)
};
enum class Consensus : uint8_t { Sum, Count };
// Which of several entries with the threshold magnitude a top-k cut keeps
// (ties, ties_sv, breadcrumbs*, the density sweep): mergekit's (torch's sort
// order; byte-identical output) or the lowest flat index first.
enum class TieOrder : uint8_t { Mergekit, Index };
// Where DARE's keep/drop draws come from: MergeScope's counter-based
// generator (thread- and tensor-order-independent, the default) or
// mergekit's stream (torch's MT19937 after --random-seed; DELLA always uses
// it). docs/merge-methods.md, "Random streams".
enum class RandomStream : uint8_t { Counter, Mergekit };
enum class SlackScope : uint8_t { Model, Tensor };

const char* method_name(Method m);  // mergekit's names: "linear", "task_arithmetic", "ties", "breadcrumbs_ties", ...
std::vector<std::string> all_method_names();  // every method the engine runs, in enum order
// The method named `name` (method_name's spelling); false if there is none.
bool method_from_name(const std::string& name, Method* out);

// Task-vector methods with a trim step (ties family: top-k / outliers / random).
bool method_trims(Method m);
// Task-vector methods with a sign election (ties, ties_sv, breadcrumbs_ties, dare_ties).
bool method_elects(Method m);
// Methods that run without a base model (linear, nuslerp, multislerp, karcher).
bool method_base_optional(Method m);

struct ModelParams {
  double weight = 1;     // finite; applied before the election (a negative weight flips the vote)
  double density = 1;    // >= 0; >= 1 keeps the whole task vector (ignored by linear/task_arithmetic)
  bool favored = false;  // ties_sv: exactly one model must be favored
  double gamma = 0.01;   // breadcrumbs*: fraction of largest |delta| removed, in [0, 1]
  bool has_scale = false;  // passthrough: out = x * float(scale) in the compute dtype; false = x unchanged
  double scale = 1;
  double epsilon = 0.15; // della*: keep probabilities span density -+ epsilon
};

// Full-size temporaries of the kernels that need them (sce: variance keys and
// the tie-order pairs; arcee_fusion: the importances; multislerp: the mean and
// tangent; karcher: the running mean; the top-k tie order's codes; the
// mergekit-stream keep masks), reused from tensor to tensor: grow-only
// blocks, so a run faults their pages in once, not once per tensor (page
// faults dominate fresh allocations on VMs). Contents are unspecified on
// return. The engine keeps one per run; merge_tensor without one makes a
// temporary. Not thread-safe: one kernel call at a time.
class KernelScratch {
 public:
  KernelScratch() = default;
  ~KernelScratch();
  KernelScratch(const KernelScratch&) = delete;
  KernelScratch& operator=(const KernelScratch&) = delete;
  // At least `bytes` bytes, aligned to 64; slot 0..3 are independent blocks.
  void* get(unsigned slot, uint64_t bytes);
  template <class T>
  T* array(unsigned slot, uint64_t n) {
    return static_cast<T*>(get(slot, n * sizeof(T)));
  }

  // Named buffers of the top-k tie order (kernels/tie_order.cc) and the random trims.
  GrowBuffer tie_codes;
  std::vector<GrowBuffer> keep_bits;  // per model: mergekit-stream keep masks
  GrowBuffer keep_limits;             // DELLA: per-element keep thresholds

 private:
  static constexpr unsigned kSlots = 4;
  void* ptr_[kSlots] = {};
  uint64_t cap_[kSlots] = {};
  uint64_t map_len_[kSlots] = {};
};

namespace kern {
class Mt19937;
}

struct MergeParams {
  Method method = Method::Ties;
  Consensus consensus = Consensus::Sum;  // ties / ties_sv (ties_sv requires Sum)
  // The caller applies mergekit's per-method default: linear true,
  // ties true, task_arithmetic false.
  bool normalize = true;
  double lambda = 1;                      // task_arithmetic / ties family; != 1 scales the mixed delta
  DType compute = DType::F32;             // F32, or the storage dtype for native compute
  double slack = 0;                       // ties_sv: >= 0
  SlackScope slack_scope = SlackScope::Model;
  bool rescale = true;                    // dare_*, della*: L1 rescale of each sparsified task vector
  uint64_t seed = 0;                      // dare_*: counter generator seed; mergekit stream without `mt`: the seed
  RandomStream random = RandomStream::Counter;  // dare_*: which generator (della* always mergekit's)
  bool keep_if_no_outliers = false;       // breadcrumbs*: see docs/merge-methods.md (false = mergekit)
  TieOrder tie_order = TieOrder::Mergekit;  // threshold ties of top-k cuts (docs/tie-order.md)
  double t = 0.5;                         // slerp: in [0, 1]
  bool filter_wise = false;               // model_stock: one ratio per row of `row_len`
  double select_topk = 1;                 // sce: fraction of positions kept by variance (>= 1 keeps all)
  bool nuslerp_flatten = true;            // nuslerp: the whole tensor is one vector
  bool nuslerp_row_wise = false;          // nuslerp (not flattened): vectors along dim 0 instead of the last dim
  bool normalize_weights = true;          // multislerp: weights / sum(weights)
  double eps = 1e-8;                      // multislerp: norm offset
  uint32_t max_iter = 10;                 // karcher
  double tol = 1e-5;                      // karcher
  // nearswap uses `t` (> 0, no upper bound) as its distance scale.
  // Per tensor (the engine sets them for each call):
  uint64_t tensor_key = 0;                // dare_*: dare_tensor_key(name)
  uint64_t row_len = 0;                   // model_stock filter_wise, nuslerp, arcee_fusion: last dimension (0 = whole tensor)
  uint64_t dim0_len = 0;                  // nuslerp row_wise: first dimension (0 = whole tensor)
  KernelScratch* scratch = nullptr;       // optional reusable memory (not a parameter of the merge)
  // mergekit stream: the run's generator, advanced by this tensor's draws
  // (null: one seeded with `seed` for this tensor alone, like the golden cases).
  kern::Mt19937* mt = nullptr;
};

// DARE's counter-based generator (docs/merge-methods.md): FNV-1a 64 of the
// tensor name, and the 53-bit draw u_j of model `i` at flat index j.
uint64_t dare_tensor_key(const std::string& tensor_name);
uint64_t dare_stream(uint64_t seed, uint64_t tensor_key, uint32_t model_index);
uint64_t dare_draw(uint64_t stream, uint64_t flat_index);
uint64_t dare_keep_threshold(double density);  // keep iff dare_draw(...) < this

// Per model, per tensor. For linear only `weight` is meaningful; for
// task_arithmetic also nnz_trimmed (= nnz of the task vector) and
// n_contributing (= nnz of the weighted task vector).
struct ModelTensorStats {
  double weight = 0, density = 0;
  bool trimmed = false;            // density < 1; false = golden "k": null (whole task vector), k == numel
  uint64_t k = 0;                  // int(density * numel) (trimmed) or numel
  bool threshold_valid = false;    // trimmed && k > 0
  float threshold = 0;             // k-th largest |delta| (native: of the rounded delta);
                                   // sce: the k-th largest variance; arcee_fusion: the importance threshold
  uint64_t n_greater_than_threshold = 0, n_equal_to_threshold = 0, n_kept_at_threshold = 0;
  uint64_t nnz_trimmed = 0;        // non-zeros of the trimmed (unweighted) task vector
  uint64_t n_discarded_by_sign_election = 0;   // nnz_trimmed entries that do not contribute
                                               // (includes entries whose weighted value is 0)
  double l1_discarded_by_sign_election = 0;    // sum |trimmed delta| over those entries
  uint64_t rescued = 0;            // ties_sv, favored model: positions whose sign was reserved by slack
  uint64_t n_contributing = 0;
  uint64_t in_conflict = 0;        // non-zero trimmed entries at sign-conflict positions
  uint64_t conflicts_won = 0;      // sign-conflict positions where this model contributes
  // breadcrumbs*: the removed outliers (the n_top largest |delta|); k counts the kept entries.
  uint64_t n_top_removed = 0;
  bool top_threshold_valid = false;
  float top_threshold = 0;         // smallest removed |delta|
  bool dropped_no_outliers = false;  // mergekit's edge case: int(gamma * numel) == 0 dropped the whole task vector
  // dare_*, della*: k counts the kept positions.
  bool rescaled = false;
  float rescale_factor = 1;        // the L1 ratio applied to the kept entries
  // mergekit stream (dare_* with RandomStream::Mergekit, della*): draws taken and the stream
  // position of the first one (0 = the first draw after the seed).
  bool has_random_draws = false;
  uint64_t random_first_draw = 0, random_draws = 0;
  float keep_probability_min = 0, keep_probability_max = 0;
  // Task-vector geometry (TensorStats::has_geometry): sum of tau_i^2 over the tensor.
  double tv_sum_sq = 0;
};

struct TensorStats {
  uint64_t numel = 0;
  uint64_t sign_conflicts = 0;              // trimmed unweighted task vectors hold both signs
  uint64_t n_positions_no_contributor = 0;
  uint64_t n_majority_negative = 0;         // final elected sign (after ties_sv reservation) is -1
  uint64_t sv_candidates = 0;               // ties_sv: candidate positions in this tensor
  uint64_t sv_reserved = 0;                 // ties_sv: reserved positions (== favored model's rescued)
  bool has_interpolation_t = false;
  double interpolation_t = 0;               // model_stock: t (mean over rows if filter_wise); slerp: the recipe t;
                                            // nuslerp: w_2 / (w_1 + w_2)
  // nearswap: positions whose output is the model's value (|base - model| <= t);
  // arcee_fusion: positions kept by the importance mask.
  bool has_selected = false;
  uint64_t n_selected = 0;
  // nuslerp: vectors interpolated linearly (colinear); karcher: iterations run.
  uint64_t n_fallback = 0;
  uint64_t iterations = 0;
  // Task-vector geometry (ties family and the density sweep; docs/merge-methods.md "Task-vector
  // geometry"). tau_i = R(x_i - b): the untrimmed task vector in the compute dtype, the rounded
  // deltas the trim ranks. models[i].tv_sum_sq = sum tau_i^2. The pair values are for models 0
  // and 1 only (the paper's recipes: SFT, CT). Float64 sums: 8 interleaved lanes per tile
  // (lane = j mod 8, combined in lane order), tiles in order within a 64Ki chunk, chunks in
  // order -- independent of the thread count; every product of two floats is exact in float64.
  bool has_geometry = false;
  bool has_pair = false;            // >= 2 models: the fields below are set
  double tv_dot = 0;                // sum tau_0 * tau_1
  uint64_t n_both_nonzero = 0;      // tau_0 != 0 and tau_1 != 0 (NaN counts as non-zero)
  uint64_t n_signs_agree = 0;       // among those, tau_0 and tau_1 both > 0 or both < 0
  // Magnitude top-k trims only (ties, ties_sv, the sweep): the positions the trims keep (the
  // selection itself: same k, same threshold ties; density >= 1 keeps every position, k = 0 none).
  bool has_mask_overlap = false;
  uint64_t mask_intersection = 0, mask_union = 0;
  // ties_sv: the favored model's lost-election margins (see "Lost-election margins" at the top):
  // per bin the candidates and the reserved candidates (kMarginBins each); the candidates whose
  // margin key equals the reservation plan's cutoff key, and how many of them were reserved.
  bool has_margins = false;
  std::vector<uint64_t> margin_candidates, margin_reserved;
  uint64_t margin_at_cutoff = 0, margin_taken_at_cutoff = 0;
  std::vector<ModelTensorStats> models;
};

// ties_sv model scope, pass 2 input for one tensor (from SlackPlanner::plan_for).
// A candidate with margin key mk (= bits of |margin|) is reserved iff
// mk < cutoff_key, or mk == cutoff_key and it is among the first
// take_at_cutoff such candidates in flat index order.
struct SlackPlanForTensor {
  uint32_t cutoff_key = 0;
  uint64_t take_at_cutoff = 0;
  uint64_t n_at_cutoff = 0;   // candidates with mk == cutoff_key seen in pass 1 (consistency check)
  uint64_t n_reserved = 0;    // expected reserved positions in this tensor (consistency check)
};

// ties_sv pass-1 / refinement result for one tensor: a sparse histogram of
// candidate margin keys (bins ascending, counts > 0). Coarse bins are
// key >> 13 (< 2^18 bins): exact for F16/BF16 compute, whose margins are
// 16-bit values with >= 13 zero low bits; F32 margins are refined with
// key & 0x1fff inside one coarse bin. One binning for every dtype, so a
// model whose tensors use different compute dtypes still ranks globally.
struct SlackSummary {
  uint64_t favored_nnz = 0;   // nnz of the favored model's trimmed task vector
  uint64_t n_candidates = 0;
  bool coarse_exact = false;  // every margin equals its coarse bin << 13 (F16/BF16 compute)
  bool refinement = false;    // false: coarse bins; true: fine bins of refine_request().coarse_bin
  std::vector<uint32_t> bins;
  std::vector<uint64_t> counts;
};

struct SlackRefineRequest {
  uint32_t coarse_bin = 0;
};

// Throws MergeError(RECIPE_INVALID) with a message naming the offending
// parameter: no models; weight/density/lambda/slack not finite; weight not
// representable in the compute dtype; density < 0; linear with normalize and
// weights summing to 0 in the compute dtype; consensus count with ties_sv;
// ties_sv without exactly one favored model or with favored weight 0.
// `compute_dtype_known` false (a request whose compute dtype is each tensor's own,
// checked up front with F32) skips the linear weight-sum test, whose outcome
// depends on the dtype; the per-tensor validation makes it.
void validate_params(const ModelParams* mp, uint32_t n_models, const MergeParams& p, bool compute_dtype_known = true);


// Merges one tensor. out: n floats. stats: may be null (skips the counting).
// base may be null only for the method_base_optional methods (karcher then
// averages only the models; with a base it averages the base too, as mergekit). models: n_models arrays of n floats.
// sv: required for TiesSV with SlackScope::Model (pass 2), null otherwise.
void merge_tensor(float* out, TensorStats* stats, const float* base, const float* const* models, uint32_t n_models,
                  uint64_t n, const ModelParams* mp, const MergeParams& p, ThreadPool& pool,
                  const std::atomic<bool>* cancel = nullptr, const SlackPlanForTensor* sv = nullptr,
                  KernelScratch* scratch = nullptr);

// Statistics only (no output written; skips the output arithmetic and writes).
// Same arguments as merge_tensor.
void analyze_tensor(TensorStats* stats, const float* base, const float* const* models, uint32_t n_models, uint64_t n,
                    const ModelParams* mp, const MergeParams& p, ThreadPool& pool,
                    const std::atomic<bool>* cancel = nullptr, const SlackPlanForTensor* sv = nullptr,
                    KernelScratch* scratch = nullptr);

// Density sweep (ties only, statistics only): for every combination of the
// n_densities values across the models (first model's density varying
// slowest; mp[i].density is ignored), the statistics analyze_tensor returns
// at those densities — counts exactly, l1_discarded_by_sign_election up to
// float64 summation order. out: n_densities^n_models entries. One selection
// pass plus one counting pass (kernels/sweep.cc).
void sweep_tensor(std::vector<TensorStats>* out, const float* base, const float* const* models, uint32_t n_models,
                  uint64_t n, const ModelParams* mp, const MergeParams& p, const double* densities,
                  uint32_t n_densities, ThreadPool& pool, const std::atomic<bool>* cancel = nullptr);

// ties_sv model scope, pass 1 (refine == null) or refinement pass.
SlackSummary slack_summarize(const float* base, const float* const* models, uint32_t n_models, uint64_t n,
                             const ModelParams* mp, const MergeParams& p, ThreadPool& pool,
                             const std::atomic<bool>* cancel = nullptr, const SlackRefineRequest* refine = nullptr);

// Combines pass-1 summaries into a global reservation plan (see top of file).
// Memory: the sparse coarse histograms of all tensors until finish().
class SlackPlanner {
 public:
  explicit SlackPlanner(const MergeParams& p);  // uses p.slack; tensors may differ in compute dtype
  void add(const std::string& tensor_name, SlackSummary s);              // INTERNAL on duplicate name
  // True when the plan is final. False: call add_refinement for every name
  // in tensors_to_refine() (summaries made with &refine_request()), then
  // finish() again, which then returns true.
  bool finish();
  const std::vector<std::string>& tensors_to_refine() const { return to_refine_; }
  const SlackRefineRequest& refine_request() const { return refine_req_; }
  void add_refinement(const std::string& tensor_name, SlackSummary s);
  // After finish() returned true. Tensors never added -> INTERNAL.
  SlackPlanForTensor plan_for(const std::string& tensor_name) const;

  uint64_t total_favored_nnz() const { return total_nnz_; }
  uint64_t total_candidates() const { return total_cand_; }
  uint64_t budget() const { return budget_; }     // R
  uint32_t cutoff_key() const { return cutoff_; }

 private:
  struct Entry {
    SlackSummary coarse;
    SlackSummary fine;
    bool has_fine = false;
    SlackPlanForTensor plan;
  };
  double slack_;
  std::map<std::string, Entry> tensors_;  // byte-wise name order
  int state_ = 0;                          // 0 collecting, 1 refining, 2 final
  std::vector<std::string> to_refine_;
  SlackRefineRequest refine_req_;
  uint64_t total_nnz_ = 0, total_cand_ = 0, budget_ = 0, need_in_bin_ = 0;
  uint32_t cutoff_ = 0;
};

// Margin-key bucketing of the slack summaries.
constexpr uint32_t kSlackFineBits = 13;
inline uint32_t slack_coarse_bin(uint32_t margin_key) { return margin_key >> kSlackFineBits; }
inline uint32_t slack_fine_bin(uint32_t margin_key) { return margin_key & ((1u << kSlackFineBits) - 1); }

// Lost-election margin histogram (top of file): bins and their edges.
constexpr uint32_t kMarginBins = 63;
constexpr uint32_t kMarginEdges = 61;  // E_0 .. E_60
float margin_edge(uint32_t e);          // E_e, e < kMarginEdges
uint32_t margin_bin(uint32_t margin_key);  // bin of the margin whose mag_key is margin_key

}  // namespace ms
