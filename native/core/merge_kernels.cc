// Parameter validation and dispatch to the kernel families (core/kernels/).
#include "merge_kernels.h"

#ifdef __linux__
#include <sys/mman.h>
#endif

#include <cfloat>
#include <cmath>
#include <new>
#include <string>

#include "errors.h"
#include "kernels/common.h"
#include "kernels/dare_rng.h"
#include "kernels/kernels.h"

namespace ms {

const char* method_name(Method m) {
  switch (m) {
    case Method::Linear: return "linear";
    case Method::TaskArithmetic: return "task_arithmetic";
    case Method::Ties: return "ties";
    case Method::TiesSV: return "ties_sv";
    case Method::Breadcrumbs: return "breadcrumbs";
    case Method::BreadcrumbsTies: return "breadcrumbs_ties";
    case Method::DareLinear: return "dare_linear";
    case Method::DareTies: return "dare_ties";
    case Method::Slerp: return "slerp";
    case Method::ModelStock: return "model_stock";
    case Method::Della: return "della";
    case Method::DellaLinear: return "della_linear";
    case Method::Passthrough: return "passthrough";
    case Method::Sce: return "sce";
    case Method::Nuslerp: return "nuslerp";
    case Method::Multislerp: return "multislerp";
    case Method::Karcher: return "karcher";
    case Method::ArceeFusion: return "arcee_fusion";
    case Method::Nearswap: return "nearswap";
    case Method::kCount: break;
  }
  return "?";
}

std::vector<std::string> all_method_names() {
  std::vector<std::string> names;
  for (unsigned m = 0; m < static_cast<unsigned>(Method::kCount); ++m) names.emplace_back(method_name(static_cast<Method>(m)));
  return names;
}

bool method_from_name(const std::string& name, Method* out) {
  for (unsigned m = 0; m < static_cast<unsigned>(Method::kCount); ++m)
    if (name == method_name(Method(m))) {
      *out = Method(m);
      return true;
    }
  return false;
}

uint64_t dare_tensor_key(const std::string& tensor_name) { return kern::dare_fnv1a64(tensor_name); }
uint64_t dare_stream(uint64_t seed, uint64_t tensor_key, uint32_t model_index) {
  return kern::dare_stream_of(seed, tensor_key, model_index);
}
uint64_t dare_draw(uint64_t stream, uint64_t flat_index) { return kern::dare_u53(stream, flat_index); }
uint64_t dare_keep_threshold(double density) { return kern::dare_threshold_of(density); }

bool method_trims(Method m) {
  switch (m) {
    case Method::Ties: case Method::TiesSV: case Method::Breadcrumbs: case Method::BreadcrumbsTies:
    case Method::DareLinear: case Method::DareTies: case Method::Della: case Method::DellaLinear: case Method::Sce: return true;
    default: return false;
  }
}

bool method_elects(Method m) {
  return m == Method::Ties || m == Method::TiesSV || m == Method::BreadcrumbsTies || m == Method::DareTies ||
         m == Method::Della || m == Method::Sce;
}

bool method_base_optional(Method m) {
  return m == Method::Linear || m == Method::Passthrough || m == Method::Nuslerp || m == Method::Multislerp || m == Method::Karcher;
}

namespace {

// Large blocks are anonymous mappings that ask for transparent huge pages
// (512x fewer page faults on first touch); small ones come from new[].
// *map_len is 0 for new[] blocks.
void* allocate_block(uint64_t bytes, uint64_t* map_len) {
  constexpr uint64_t kHuge = uint64_t(2) << 20;
  if (bytes == 0) bytes = 64;
  if (bytes > (UINT64_MAX >> 1)) throw std::bad_alloc();
#ifdef __linux__
  if (bytes >= kHuge) {
    const uint64_t len = (bytes + kHuge - 1) / kHuge * kHuge;
    void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    (void)::madvise(m, len, MADV_HUGEPAGE);  // advisory
    *map_len = len;
    return m;
  }
#endif
  *map_len = 0;
  return new uint8_t[bytes];
}

void release_block(void* p, uint64_t map_len) {
  if (!p) return;
#ifdef __linux__
  if (map_len) {
    ::munmap(p, map_len);
    return;
  }
#endif
  delete[] static_cast<uint8_t*>(p);
}

[[noreturn]] void invalid(const std::string& msg) { throw MergeError(ErrorCode::RECIPE_INVALID, msg); }

std::string model_str(uint32_t i) { return "model " + std::to_string(i); }

// Weight as the kernels use it: double -> float (RNE) -> compute dtype.
// (torch.tensor(weights, dtype=dt) converts each Python float through float.)
float weight_value(double w, DType compute) { return round_to(compute, float(w)); }

// Parameters of sce, nuslerp, multislerp, karcher, arcee_fusion and nearswap,
// with mergekit 0.1.4's rules (messages name mergekit's keys).
void validate_newer_methods(uint32_t n_models, const MergeParams& p) {
  constexpr uint32_t kMaxModels = 64;  // sce / multislerp keep per-model values of one position on the stack
  switch (p.method) {
    case Method::Sce:
      if (std::isnan(p.select_topk) || std::isinf(p.select_topk)) invalid("sce: select_topk must be a finite number");
      if (n_models > kMaxModels) invalid("sce: at most 64 models");
      break;
    case Method::Nuslerp:
      if (n_models != 2)
        invalid("nuslerp: merges exactly two models (plus an optional base_model that is not one of them); got " +
                std::to_string(n_models));
      break;
    case Method::Multislerp:
      if (!std::isfinite(p.eps) || p.eps < 0) invalid("multislerp: eps must be a finite number >= 0");
      if (n_models > kMaxModels) invalid("multislerp: at most 64 models");
      break;
    case Method::Karcher:
      if (p.max_iter > 100000) invalid("karcher: max_iter must be an integer in [0, 100000]");
      if (!std::isfinite(p.tol) || p.tol < 0) invalid("karcher: tol must be a finite number >= 0");
      break;
    case Method::ArceeFusion:
      if (n_models != 1) invalid("arcee_fusion: merges base_model with exactly one other model; got " + std::to_string(n_models));
      break;
    case Method::Nearswap:
      if (n_models != 1) invalid("nearswap: merges base_model with exactly one other model; got " + std::to_string(n_models));
      if (!std::isfinite(p.t)) invalid("nearswap: t must be a finite number (the distance below which the model's value is taken)");
      break;
    default: break;
  }
}

}  // namespace

void validate_params(const ModelParams* mp, uint32_t n_models, const MergeParams& p, bool compute_dtype_known) {
  const char* meth = method_name(p.method);
  if (n_models == 0) invalid(std::string(meth) + ": no models to merge");
  if (!mp) throw MergeError(ErrorCode::INTERNAL, "validate_params: null model parameters");
  if (!std::isfinite(p.lambda)) invalid(std::string(meth) + ": lambda must be a finite number");
  if (p.compute != DType::F32 && p.compute != DType::F16 && p.compute != DType::BF16)
    invalid(std::string(meth) + ": compute dtype must be F32, F16 or BF16");
  uint32_t n_fav = 0, fav = 0;
  for (uint32_t i = 0; i < n_models; ++i) {
    const ModelParams& m = mp[i];
    if (!std::isfinite(m.weight)) invalid(model_str(i) + ": weight must be a finite number");
    if (!std::isfinite(weight_value(m.weight, p.compute)))
      invalid(model_str(i) + ": weight " + std::to_string(m.weight) + " is not representable in " + dtype_name(p.compute) +
              " (set the recipe dtype to float32)");
    if (std::isnan(m.density) || m.density < 0)
      invalid(model_str(i) + ": density must be >= 0 (>= 1 keeps the whole task vector)");
    if (std::isinf(m.density)) invalid(model_str(i) + ": density must be finite");
    if (m.favored) { ++n_fav; fav = i; }
  }
  if (p.method == Method::Linear && p.normalize && compute_dtype_known) {
    float s = 0.f;
    for (uint32_t i = 0; i < n_models; ++i) s += weight_value(mp[i].weight, p.compute);
    if (round_to(p.compute, s) == 0.f) invalid("linear: weights sum to 0; cannot normalize (set normalize: false)");
  }
  if (p.method == Method::Breadcrumbs || p.method == Method::BreadcrumbsTies)
    for (uint32_t i = 0; i < n_models; ++i)
      if (!(mp[i].gamma >= 0 && mp[i].gamma <= 1))
        invalid(model_str(i) + ": gamma must be a number in [0, 1] (fraction of largest-magnitude entries removed)");
  if (p.method == Method::Della || p.method == Method::DellaLinear)
    for (uint32_t i = 0; i < n_models; ++i) {
      const double d = mp[i].density, e = mp[i].epsilon;
      if (!std::isfinite(e) || e < 0) invalid(model_str(i) + ": epsilon must be a finite number >= 0");
      if (d > 0 && d < 1 && !(d + e < 1 && d - e > 0))
        invalid(model_str(i) + ": density " + std::to_string(d) + " -+ epsilon " + std::to_string(e) +
                " must lie inside (0, 1) (mergekit raises the same error); lower epsilon");
    }
  if (p.method == Method::Slerp) {
    if (n_models != 1) invalid("slerp: interpolates the base model and exactly one other model; got " + std::to_string(n_models));
    if (!(p.t >= 0 && p.t <= 1)) invalid("slerp: t must be a number in [0, 1]");
  }
  if (p.method == Method::Passthrough) {
    if (n_models != 1) invalid("passthrough: copies exactly one input per tensor; got " + std::to_string(n_models));
    if (mp[0].has_scale && !std::isfinite(mp[0].scale)) invalid("passthrough: scale must be a finite number");
  }
  if (p.method == Method::ModelStock && n_models < 2)
    invalid("model_stock: needs at least two models besides the base; got " + std::to_string(n_models));
  validate_newer_methods(n_models, p);
  if (p.method == Method::TiesSV) {
    if (p.consensus != Consensus::Sum) invalid("ties_sv: requires the sum sign election (consensus: sum)");
    if (!std::isfinite(p.slack) || p.slack < 0) invalid("ties_sv: slack must be a finite number >= 0");
    if (n_fav != 1) invalid("ties_sv: exactly one model must be favored (the SFT model); got " + std::to_string(n_fav));
    if (weight_value(mp[fav].weight, p.compute) == 0.f) invalid("ties_sv: the favored model's weight must not be 0");
  }
}

namespace {

kern::Job make_job(float* out, TensorStats* stats, const float* base, const float* const* models, uint32_t n_models,
                   uint64_t n, const ModelParams* mp, const MergeParams& p, ThreadPool& pool,
                   const std::atomic<bool>* cancel) {
  validate_params(mp, n_models, p);
  if (n > (uint64_t(1) << 62)) throw MergeError(ErrorCode::INTERNAL, "tensor too large");
  if (n > 0) {
    if (!models) throw MergeError(ErrorCode::INTERNAL, "merge: null model array list");
    for (uint32_t i = 0; i < n_models; ++i)
      if (!models[i]) throw MergeError(ErrorCode::INTERNAL, "merge: null data for " + model_str(i));
    if (p.method == Method::ModelStock && p.filter_wise && (p.row_len == 0 || n % p.row_len != 0))
      throw MergeError(ErrorCode::INTERNAL, "model_stock filter_wise: row length does not divide the tensor");
    if (!base && !method_base_optional(p.method))
      throw MergeError(ErrorCode::INTERNAL, std::string(method_name(p.method)) + ": needs a base model tensor");
    if (p.method == Method::Nuslerp && !p.nuslerp_flatten &&
        ((p.nuslerp_row_wise && p.dim0_len && n % p.dim0_len != 0) || (!p.nuslerp_row_wise && p.row_len && n % p.row_len != 0)))
      throw MergeError(ErrorCode::INTERNAL, "nuslerp: the vector length does not divide the tensor");
    if (p.method == Method::ArceeFusion && p.row_len && n % p.row_len != 0)
      throw MergeError(ErrorCode::INTERNAL, "arcee_fusion: the row length does not divide the tensor");
  }
  kern::Job job;
  job.out = out;
  job.stats = stats;
  job.base = base;
  job.models = models;
  job.n_models = n_models;
  job.n = n;
  job.mp = mp;
  job.p = &p;
  job.pool = &pool;
  job.cancel = cancel;
  job.wr.resize(n_models);
  for (uint32_t i = 0; i < n_models; ++i) job.wr[i] = weight_value(mp[i].weight, p.compute);
  if (stats) {
    *stats = TensorStats{};
    stats->numel = n;
    stats->models.resize(n_models);
    for (uint32_t i = 0; i < n_models; ++i) {
      stats->models[i].weight = mp[i].weight;
      stats->models[i].density = mp[i].density;
      stats->models[i].k = n;
    }
    if (p.method == Method::Slerp) {
      stats->has_interpolation_t = true;
      stats->interpolation_t = p.t;
    }
  }
  return job;
}

void run(const kern::Job& job, const SlackPlanForTensor* sv) {
  const MergeParams& p = *job.p;
  const bool model_scope_sv = p.method == Method::TiesSV && p.slack_scope == SlackScope::Model;
  if (model_scope_sv && !sv)
    throw MergeError(ErrorCode::INTERNAL, "ties_sv (model scope): pass 2 needs the SlackPlanner plan for this tensor");
  if (!model_scope_sv && sv) throw MergeError(ErrorCode::INTERNAL, "slack plan given but method/scope does not use one");
  kern::check_cancel(job.cancel);
  switch (p.method) {
    case Method::Linear: kern::run_linear(job); break;
    case Method::TaskArithmetic: kern::run_task_arithmetic(job); break;
    case Method::Ties:
    case Method::TiesSV:
    case Method::Breadcrumbs:
    case Method::BreadcrumbsTies:
    case Method::DareLinear:
    case Method::DareTies:
    case Method::Della:
    case Method::DellaLinear: kern::run_ties(job, sv); break;
    case Method::Slerp: kern::run_slerp(job); break;
    case Method::ModelStock: kern::run_model_stock(job); break;
    case Method::Passthrough: kern::run_passthrough(job); break;
    case Method::Sce: kern::run_sce(job); break;
    case Method::Nuslerp: kern::run_nuslerp(job); break;
    case Method::Multislerp: kern::run_multislerp(job); break;
    case Method::Karcher: kern::run_karcher(job); break;
    case Method::ArceeFusion: kern::run_arcee_fusion(job); break;
    case Method::Nearswap: kern::run_nearswap(job); break;
    case Method::kCount: throw MergeError(ErrorCode::INTERNAL, "merge_tensor: not a method");
  }
}

}  // namespace

void merge_tensor(float* out, TensorStats* stats, const float* base, const float* const* models, uint32_t n_models,
                  uint64_t n, const ModelParams* mp, const MergeParams& p, ThreadPool& pool,
                  const std::atomic<bool>* cancel, const SlackPlanForTensor* sv, KernelScratch* scratch) {
  if (!out && n > 0) throw MergeError(ErrorCode::INTERNAL, "merge_tensor: null output");
  kern::Job job = make_job(out, stats, base, models, n_models, n, mp, p, pool, cancel);
  KernelScratch local;
  job.scratch = scratch ? scratch : p.scratch ? p.scratch : &local;
  run(job, sv);
}

void analyze_tensor(TensorStats* stats, const float* base, const float* const* models, uint32_t n_models, uint64_t n,
                    const ModelParams* mp, const MergeParams& p, ThreadPool& pool, const std::atomic<bool>* cancel,
                    const SlackPlanForTensor* sv, KernelScratch* scratch) {
  if (!stats) throw MergeError(ErrorCode::INTERNAL, "analyze_tensor: null stats");
  kern::Job job = make_job(nullptr, stats, base, models, n_models, n, mp, p, pool, cancel);
  KernelScratch local;
  job.scratch = scratch ? scratch : p.scratch ? p.scratch : &local;
  run(job, sv);
}

KernelScratch::~KernelScratch() {
  for (unsigned s = 0; s < kSlots; ++s) release_block(ptr_[s], map_len_[s]);
}

void* KernelScratch::get(unsigned slot, uint64_t bytes) {
  if (slot >= kSlots) throw MergeError(ErrorCode::INTERNAL, "KernelScratch: no such slot");
  if (bytes > cap_[slot] || !ptr_[slot]) {
    release_block(ptr_[slot], map_len_[slot]);  // free first: never hold the old and the new block at once
    ptr_[slot] = nullptr;
    cap_[slot] = map_len_[slot] = 0;
    ptr_[slot] = allocate_block(bytes, &map_len_[slot]);
    cap_[slot] = bytes;
  }
  return ptr_[slot];
}

void sweep_tensor(std::vector<TensorStats>* out, const float* base, const float* const* models, uint32_t n_models,
                  uint64_t n, const ModelParams* mp, const MergeParams& p, const double* densities,
                  uint32_t n_densities, ThreadPool& pool, const std::atomic<bool>* cancel) {
  if (!out) throw MergeError(ErrorCode::INTERNAL, "sweep_tensor: null output");
  if (p.method != Method::Ties)
    invalid(std::string("density sweep: supported for merge_method ties, got ") + method_name(p.method));
  if (n_densities == 0 || !densities) invalid("density sweep: give at least one density");
  for (uint32_t q = 0; q < n_densities; ++q)
    if (!(densities[q] >= 0) || std::isinf(densities[q]))
      invalid("density sweep: densities must be finite numbers >= 0, got " + std::to_string(densities[q]));
  kern::Job job = make_job(nullptr, nullptr, base, models, n_models, n, mp, p, pool, cancel);
  if (!base && n > 0) throw MergeError(ErrorCode::INTERNAL, "density sweep: needs a base model tensor");
  kern::check_cancel(cancel);
  kern::run_sweep(job, densities, n_densities, out);
}

SlackSummary slack_summarize(const float* base, const float* const* models, uint32_t n_models, uint64_t n,
                             const ModelParams* mp, const MergeParams& p, ThreadPool& pool,
                             const std::atomic<bool>* cancel, const SlackRefineRequest* refine) {
  if (p.method != Method::TiesSV)
    throw MergeError(ErrorCode::INTERNAL, "slack_summarize: method is not ties_sv");
  kern::Job job = make_job(nullptr, nullptr, base, models, n_models, n, mp, p, pool, cancel);
  kern::check_cancel(cancel);
  return kern::run_slack_summarize(job, refine);
}

}  // namespace ms
