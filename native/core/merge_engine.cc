#include "merge_engine.h"

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "errors.h"
#include "kernels/common.h"
#include "model_source.h"

namespace ms {

namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const std::string suf(suffix);
  return s.size() >= suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}

bool storage_dtype(StDtype st, DType* out) {
  switch (st) {
    case StDtype::F32: *out = DType::F32; return true;
    case StDtype::F16: *out = DType::F16; return true;
    case StDtype::BF16: *out = DType::BF16; return true;
    default: return false;
  }
}

StDtype to_st(DType d) {
  switch (d) {
    case DType::F32: return StDtype::F32;
    case DType::F16: return StDtype::F16;
    case DType::BF16: return StDtype::BF16;
  }
  return StDtype::F32;
}

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

// One input of one tensor: where to read it and how to cut it to the base's shape.
struct InputRef {
  const ModelSource* source;
  const ModelTensor* tensor;
  DType storage;
  bool cut;  // rows/cols beyond the base's are dropped
};

struct TensorPlan {
  std::string name;
  std::vector<uint64_t> shape;  // the reference (base) shape
  uint64_t numel;
  DType compute;                // per-tensor compute dtype
  DType out;                    // per-tensor output dtype
  bool row_cut = false;
  std::optional<InputRef> base; // absent for linear
  std::vector<InputRef> models;
  uint64_t input_bytes = 0;
};

// Tensor values widened to f32 (and cast to the compute dtype), cut to the base's shape.
struct LoadedTensor {
  std::vector<float> base;
  std::vector<std::vector<float>> models;
  uint64_t bytes_read = 0;
};

void load_input(std::vector<float>* out, const InputRef& in, const TensorPlan& t, DType compute) {
  const TensorInfo& info = in.tensor->info;
  std::vector<uint8_t> raw(info.nbytes());
  in.source->read(raw.data(), *in.tensor);
  std::vector<float> full(info.numel);
  widen(full.data(), raw.data(), in.storage, info.numel);
  raw = {};
  if (in.cut) {
    // Row-major: keep the first rows (and, for 2-D, the first cols) of the base's shape.
    const uint64_t rows = t.shape[0];
    const uint64_t cols = t.shape.size() > 1 ? t.numel / rows : 1;
    const uint64_t src_cols = info.shape.size() > 1 ? info.numel / info.shape[0] : 1;
    out->resize(t.numel);
    for (uint64_t r = 0; r < rows; ++r)
      std::copy(full.begin() + int64_t(r * src_cols), full.begin() + int64_t(r * src_cols + cols),
                out->begin() + int64_t(r * cols));
  } else {
    *out = std::move(full);
  }
  // Inputs are cast to the compute dtype first (mergekit loads them in `dtype`).
  if (compute != DType::F32 && in.storage != compute)
    for (float& v : *out) v = round_to(compute, v);
}

LoadedTensor load_tensor(const TensorPlan& t) {
  LoadedTensor lt;
  if (t.base) load_input(&lt.base, *t.base, t, t.compute);
  lt.models.resize(t.models.size());
  for (size_t i = 0; i < t.models.size(); ++i) load_input(&lt.models[i], t.models[i], t, t.compute);
  lt.bytes_read = t.input_bytes;
  return lt;
}

void check_cancel(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load(std::memory_order_relaxed)) throw MergeError(ErrorCode::CANCELLED, "merge cancelled");
}

// Matches one model's tensor against the reference; returns its InputRef.
InputRef match_input(const ModelSource& src, const ModelTensor& ref, DType ref_storage, TensorPlan* t,
                     std::vector<std::string>* warnings) {
  const ModelTensor* mt = src.find(ref.name);
  if (!mt)
    throw MergeError(ErrorCode::MODEL_TENSOR_MISSING,
                     "tensor '" + ref.name + "' is missing from " + src.path() +
                         " (present in the reference model). Merged models must share their tensor names.");
  DType st;
  if (!storage_dtype(mt->info.dtype, &st))
    throw MergeError(ErrorCode::MODEL_DTYPE_UNSUPPORTED,
                     "tensor '" + ref.name + "' in " + src.path() + " has dtype " + st_dtype_name(mt->info.dtype) +
                         "; only F32, F16 and BF16 tensors can be merged");
  (void)ref_storage;
  bool cut = false;
  if (mt->info.shape != ref.info.shape) {
    bool fits = mt->info.shape.size() == ref.info.shape.size() && !ref.info.shape.empty();
    for (size_t d = 0; fits && d < ref.info.shape.size(); ++d) fits = mt->info.shape[d] >= ref.info.shape[d];
    // Only the first (row) dimension of a 2-D tensor, or both, may be larger; cols cut only for 2-D.
    if (fits && ref.info.shape.size() > 2) fits = false;
    if (!is_embedding_tensor(ref.name) || !fits)
      throw MergeError(ErrorCode::MODEL_SHAPE_MISMATCH,
                       "tensor '" + ref.name + "' has shape " + shape_str(mt->info.shape) + " in " + src.path() +
                           " but " + shape_str(ref.info.shape) + " in the reference model");
    cut = true;
    t->row_cut = true;
    warnings->push_back("tensor '" + ref.name + "' of " + src.path() + " cut from " + shape_str(mt->info.shape) +
                        " to the base's " + shape_str(ref.info.shape) + " (embedding size mismatch, as mergekit)");
  }
  t->input_bytes += mt->info.nbytes();
  return InputRef{&src, mt, st, cut};
}

DType compute_for(ComputeMode mode, DType ref_storage, bool mixed) {
  switch (mode) {
    case ComputeMode::F32: return DType::F32;
    case ComputeMode::F16: return DType::F16;
    case ComputeMode::BF16: return DType::BF16;
    case ComputeMode::Storage: return mixed ? DType::F32 : ref_storage;
  }
  return DType::F32;
}

std::vector<TensorPlan> plan_tensors(const EngineRequest& req, const ModelSource* base,
                                     const std::vector<ModelSource>& models, std::vector<std::string>* warnings) {
  const ModelSource& ref = base ? *base : models.front();
  // Extra tensors in any model are reported, never silently dropped.
  for (const ModelSource& m : models)
    for (const ModelTensor& mt : m.tensors())
      if (!ref.find(mt.name))
        throw MergeError(ErrorCode::MODEL_TENSOR_EXTRA,
                         "tensor '" + mt.name + "' of " + m.path() + " does not exist in the reference model " +
                             ref.path() + ". Merged models must share their tensor names.");
  std::vector<TensorPlan> plans;
  plans.reserve(ref.tensors().size());
  for (const ModelTensor& rt : ref.tensors()) {
    DType ref_st;
    if (!storage_dtype(rt.info.dtype, &ref_st))
      throw MergeError(ErrorCode::MODEL_DTYPE_UNSUPPORTED,
                       "tensor '" + rt.name + "' in " + ref.path() + " has dtype " + st_dtype_name(rt.info.dtype) +
                           "; only F32, F16 and BF16 tensors can be merged");
    TensorPlan t;
    t.name = rt.name;
    t.shape = rt.info.shape;
    t.numel = rt.info.numel;
    if (base) t.base = match_input(*base, rt, ref_st, &t, warnings);
    for (const ModelSource& m : models) t.models.push_back(match_input(m, rt, ref_st, &t, warnings));
    bool mixed = false;
    for (const InputRef& in : t.models) mixed |= in.storage != ref_st;
    t.compute = compute_for(req.compute, ref_st, mixed);
    // slerp always runs in float32 (mergekit converts to numpy float32).
    if (req.params.method == Method::Slerp && req.compute == ComputeMode::Storage) t.compute = DType::F32;
    t.out = req.has_out_dtype ? req.out_dtype : (req.compute != ComputeMode::Storage ? t.compute : ref_st);
    plans.push_back(std::move(t));
  }
  return plans;
}

// The request's parameters with the per-tensor fields set.
MergeParams tensor_params(const MergeParams& p, const TensorPlan& t) {
  MergeParams tp = p;
  tp.compute = t.compute;
  tp.tensor_key = dare_tensor_key(t.name);
  tp.row_len = t.shape.empty() ? t.numel : t.shape.back();
  return tp;
}

// One warning for mergekit's breadcrumbs edge case instead of one per tensor.
void warn_dropped_no_outliers(EngineResult* result) {
  uint64_t n = 0;
  std::string first;
  for (const EngineTensorReport& t : result->tensors)
    for (const ModelTensorStats& m : t.stats.models)
      if (m.dropped_no_outliers) {
        if (n++ == 0) first = t.name;
      }
  if (n == 0) return;
  result->warnings.push_back(
      "breadcrumbs: int(gamma * numel) is 0 for " + std::to_string(n) + " model tensor(s) (first: '" + first +
      "'); as in mergekit, their task vectors were dropped entirely. Set `keep_if_no_outliers: true` to keep the "
      "density fraction instead (docs/merge-methods.md)");
}

}  // namespace

bool is_embedding_tensor(const std::string& name) {
  static const char* const kSuffixes[] = {"embed_tokens.weight", "lm_head.weight", "wte.weight",
                                          "embed_in.weight", "embed_out.weight", "word_embeddings.weight",
                                          "tok_embeddings.weight"};
  for (const char* s : kSuffixes)
    if (ends_with(name, s)) return true;
  return false;
}

EngineResult run_engine(const EngineRequest& req, const EngineProgressFn& progress,
                        const std::atomic<bool>* cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  if (req.models.empty()) throw MergeError(ErrorCode::RECIPE_INVALID, "a merge needs at least one model");
  if (req.base_path.empty() && req.params.method != Method::Linear)
    throw MergeError(ErrorCode::RECIPE_INVALID,
                     std::string("method ") + method_name(req.params.method) + " needs a base model (base_model)");
  std::vector<ModelParams> mp;
  for (const EngineModel& m : req.models) mp.push_back(m.params);
  {
    MergeParams check = req.params;
    check.compute = req.compute == ComputeMode::F16 ? DType::F16
                    : req.compute == ComputeMode::BF16 ? DType::BF16 : DType::F32;
    validate_params(mp.data(), uint32_t(mp.size()), check);
  }

  EngineProgress prog;
  prog.phase = "plan";
  if (progress) progress(prog);

  std::optional<ModelSource> base;
  if (!req.base_path.empty()) base.emplace(ModelSource::open(req.base_path));
  std::vector<ModelSource> models;
  for (const EngineModel& m : req.models) models.push_back(ModelSource::open(m.path));

  EngineResult result;
  std::vector<TensorPlan> plans = plan_tensors(req, base ? &*base : nullptr, models, &result.warnings);
  for (TensorPlan& t : plans) {
    MergeParams p = req.params;
    p.compute = t.compute;
    validate_params(mp.data(), uint32_t(mp.size()), p);  // e.g. weights must be representable in the dtype
  }

  const bool write = !req.out_dir.empty();
  const bool model_slack = req.params.method == Method::TiesSV && req.params.slack_scope == SlackScope::Model;
  uint64_t input_bytes = 0;
  for (const TensorPlan& t : plans) input_bytes += t.input_bytes;
  prog.tensors_total = plans.size() * (model_slack ? 2 : 1);
  prog.bytes_total = input_bytes * (model_slack ? 2 : 1);

  std::unique_ptr<ShardWriter> writer;
  if (write) {
    std::vector<OutTensorSpec> specs;
    for (const TensorPlan& t : plans) specs.push_back({t.name, to_st(t.out), t.shape});
    const StringPairs metadata = {{"format", "pt"}};
    check_free_space(req.out_dir, ShardWriter::planned_bytes(specs, req.shard_size, metadata));
    writer = std::make_unique<ShardWriter>(req.out_dir, std::move(specs), req.shard_size, metadata);
  }

  ThreadPool pool(req.threads);

  // Streams every tensor through `fn`, prefetching the next one on an I/O thread.
  auto stream = [&](const char* phase, const std::function<void(size_t, LoadedTensor&)>& fn) {
    prog.phase = phase;
    std::future<LoadedTensor> next;
    if (!plans.empty()) next = std::async(std::launch::async, load_tensor, std::cref(plans[0]));
    for (size_t i = 0; i < plans.size(); ++i) {
      LoadedTensor cur = next.get();
      check_cancel(cancel);
      if (i + 1 < plans.size()) next = std::async(std::launch::async, load_tensor, std::cref(plans[i + 1]));
      const uint64_t bytes = cur.bytes_read;  // fn may release `cur`
      result.bytes_read += bytes;
      fn(i, cur);
      prog.tensors_done++;
      prog.bytes_done += bytes;
      prog.tensor = plans[i].name;
      if (progress) progress(prog);
    }
  };
  auto pointers = [](LoadedTensor& lt) {
    std::vector<const float*> ptrs;
    for (auto& m : lt.models) ptrs.push_back(m.data());
    return ptrs;
  };

  std::optional<SlackPlanner> planner;
  if (model_slack) {
    MergeParams p = req.params;
    planner.emplace(p);
    stream("slack", [&](size_t i, LoadedTensor& lt) {
      MergeParams tp = req.params;
      tp.compute = plans[i].compute;
      auto ptrs = pointers(lt);
      planner->add(plans[i].name, slack_summarize(lt.base.data(), ptrs.data(), uint32_t(ptrs.size()), plans[i].numel,
                                                  mp.data(), tp, pool, cancel));
    });
    if (!planner->finish()) {
      // F32 margins need a second, finer histogram of the one boundary bucket.
      const std::vector<std::string> names = planner->tensors_to_refine();
      for (const std::string& name : names) {
        for (const TensorPlan& t : plans) {
          if (t.name != name) continue;
          LoadedTensor lt = load_tensor(t);
          result.bytes_read += lt.bytes_read;
          MergeParams tp = req.params;
          tp.compute = t.compute;
          auto ptrs = pointers(lt);
          SlackRefineRequest rr = planner->refine_request();
          planner->add_refinement(name, slack_summarize(lt.base.data(), ptrs.data(), uint32_t(ptrs.size()), t.numel,
                                                        mp.data(), tp, pool, cancel, &rr));
        }
      }
      planner->finish();
    }
    result.has_slack_budget = true;
    result.slack_budget = planner->budget();
  }

  result.tensors.resize(plans.size());
  if (req.sweep) {
    // Grid points: every combination of the densities, first model's varying slowest.
    if (write) throw MergeError(ErrorCode::RECIPE_INVALID, "density sweep: statistics only (no output directory)");
    const uint64_t D = req.densities.size();
    uint64_t n_points = 1;
    for (size_t i = 0; i < mp.size(); ++i) n_points = kern::mul_size(n_points, D, "sweep grid");
    if (D == 0 || n_points > 4096)
      throw MergeError(ErrorCode::RECIPE_INVALID, "density sweep: " + std::to_string(D) + " densities over " +
                                                      std::to_string(mp.size()) + " models give " +
                                                      std::to_string(n_points) + " grid points; at most 4096");
    result.has_sweep = true;
    result.sweep.resize(n_points);
    for (uint64_t q = 0; q < n_points; ++q) {
      for (uint64_t rest = q, i = mp.size(); i-- > 0; rest /= D) result.sweep[q].densities.insert(
          result.sweep[q].densities.begin(), req.densities[rest % D]);
      result.sweep[q].tensors.resize(plans.size());
    }
  }
  std::vector<float> out;
  std::vector<uint8_t> out_bytes;
  stream(write ? "merge" : "analyze", [&](size_t i, LoadedTensor& lt) {
    const TensorPlan& t = plans[i];
    const MergeParams tp = tensor_params(req.params, t);
    EngineTensorReport& rep = result.tensors[i];
    rep.name = t.name;
    rep.shape = t.shape;
    rep.out_dtype = t.out;
    rep.row_cut = t.row_cut;
    auto ptrs = pointers(lt);
    SlackPlanForTensor sv;
    const SlackPlanForTensor* svp = nullptr;
    if (planner) {
      sv = planner->plan_for(t.name);
      svp = &sv;
    }
    const float* base_ptr = t.base ? lt.base.data() : nullptr;
    if (req.sweep) {
      std::vector<TensorStats> points;
      sweep_tensor(&points, base_ptr, ptrs.data(), uint32_t(ptrs.size()), t.numel, mp.data(), tp,
                   req.densities.data(), uint32_t(req.densities.size()), pool, cancel);
      for (size_t q = 0; q < points.size(); ++q) {
        EngineTensorReport pr = rep;
        pr.stats = std::move(points[q]);
        result.sweep[q].tensors[i] = std::move(pr);
      }
    } else if (write) {
      out.resize(t.numel);
      merge_tensor(out.data(), &rep.stats, base_ptr, ptrs.data(), uint32_t(ptrs.size()), t.numel, mp.data(), tp, pool,
                   cancel, svp);
      lt = LoadedTensor{};  // release inputs before the output copy
      out_bytes.resize(t.numel * dtype_size(t.out));
      narrow(out_bytes.data(), out.data(), t.out, t.numel);
      writer->write_tensor(out_bytes.data(), out_bytes.size());
    } else {
      analyze_tensor(&rep.stats, base_ptr, ptrs.data(), uint32_t(ptrs.size()), t.numel, mp.data(), tp, pool, cancel,
                     svp);
    }
  });

  warn_dropped_no_outliers(&result);

  if (writer) {
    check_cancel(cancel);
    result.shards = writer->finish();
    result.has_index = result.shards.size() > 1;
    for (const ShardFile& s : result.shards) result.bytes_written += s.bytes;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace ms
