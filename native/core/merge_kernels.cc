// Parameter validation and dispatch to the kernel families (core/kernels/).
#include "merge_kernels.h"

#include <cfloat>
#include <cmath>
#include <string>

#include "errors.h"
#include "kernels/common.h"
#include "kernels/kernels.h"

namespace ms {

const char* method_name(Method m) {
  switch (m) {
    case Method::Linear: return "linear";
    case Method::TaskArithmetic: return "task_arithmetic";
    case Method::Ties: return "ties";
    case Method::TiesSV: return "ties_sv";
  }
  return "?";
}

namespace {

[[noreturn]] void invalid(const std::string& msg) { throw MergeError(ErrorCode::RECIPE_INVALID, msg); }

std::string model_str(uint32_t i) { return "model " + std::to_string(i); }

// Weight as the kernels use it: double -> float (RNE) -> compute dtype.
// (torch.tensor(weights, dtype=dt) converts each Python float through float.)
float weight_value(double w, DType compute) { return round_to(compute, float(w)); }

}  // namespace

void validate_params(const ModelParams* mp, uint32_t n_models, const MergeParams& p) {
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
  if (p.method == Method::Linear && p.normalize) {
    float s = 0.f;
    for (uint32_t i = 0; i < n_models; ++i) s += weight_value(mp[i].weight, p.compute);
    if (round_to(p.compute, s) == 0.f) invalid("linear: weights sum to 0; cannot normalize (set normalize: false)");
  }
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
    if (!base && p.method != Method::Linear)
      throw MergeError(ErrorCode::INTERNAL, std::string(method_name(p.method)) + ": needs a base model tensor");
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
    case Method::TiesSV: kern::run_ties(job, sv); break;
  }
}

}  // namespace

void merge_tensor(float* out, TensorStats* stats, const float* base, const float* const* models, uint32_t n_models,
                  uint64_t n, const ModelParams* mp, const MergeParams& p, ThreadPool& pool,
                  const std::atomic<bool>* cancel, const SlackPlanForTensor* sv) {
  if (!out && n > 0) throw MergeError(ErrorCode::INTERNAL, "merge_tensor: null output");
  kern::Job job = make_job(out, stats, base, models, n_models, n, mp, p, pool, cancel);
  run(job, sv);
}

void analyze_tensor(TensorStats* stats, const float* base, const float* const* models, uint32_t n_models, uint64_t n,
                    const ModelParams* mp, const MergeParams& p, ThreadPool& pool, const std::atomic<bool>* cancel,
                    const SlackPlanForTensor* sv) {
  if (!stats) throw MergeError(ErrorCode::INTERNAL, "analyze_tensor: null stats");
  kern::Job job = make_job(nullptr, stats, base, models, n_models, n, mp, p, pool, cancel);
  run(job, sv);
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
