#include "merge_engine.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <condition_variable>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <system_error>
#include <thread>

#include "errors.h"
#include "grow_buffer.h"
#include "kernels/common.h"
#include "kernels/mt19937.h"
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

// One input of one tensor: where to read it, how to cut it to the base's shape
// and which per-input transforms (input_transforms.h) apply while it loads.
struct InputRef {
  const ModelSource* source;
  const ModelTensor* tensor;
  DType storage;
  bool cut;  // rows/cols beyond the base's are dropped
  std::optional<LoraApply> lora;
  std::shared_ptr<const RowGather> rows;  // rebuilt in the output vocabulary (replaces `cut`)
};

struct TensorPlan {
  std::string name;
  std::vector<uint64_t> shape;  // the reference (base) shape
  uint64_t numel;
  DType compute;                // per-tensor compute dtype
  DType out;                    // per-tensor output dtype
  bool row_cut = false;
  std::optional<InputRef> base; // absent for linear / passthrough
  std::vector<InputRef> models;
  std::vector<ModelParams> mp;  // per model input: the request's, or the plan's values for this tensor
  double lambda = 1, t = 0.5;   // the request's, or the plan's values for this tensor
  uint64_t input_bytes = 0;
};

// Grow-only float array (grow_buffer.h): one allocation serves every tensor.
class FloatBuf {
 public:
  float* ensure(uint64_t n) { return buf_.ensure_n<float>(n); }
  float* data() const { return static_cast<float*>(buf_.data()); }
  void swap(FloatBuf& o) noexcept { buf_.swap(o.buf_); }

 private:
  GrowBuffer buf_;
};

// One tensor's inputs widened to f32 (and cast to the compute dtype), cut to
// the base's shape. Two slots alternate: one is merged while the I/O thread
// fills the other with the next tensor.
struct Slot {
  FloatBuf base;
  std::vector<FloatBuf> models;
  uint64_t bytes_read = 0;
  bool has_base = false;
  std::vector<const float*> ptrs;  // models' arrays
  float* base_data() { return has_base ? base.data() : nullptr; }
};

// Reads elements [e0, e0 + count) of the input (in storage order) into dst as f32.
void read_elements(float* dst, const InputRef& in, uint64_t e0, uint64_t count, std::vector<uint8_t>* staging) {
  read_f32(dst, TensorRead{in.source, in.tensor, in.storage}, e0, count, staging);
}

void load_input(float* out, const InputRef& in, const TensorPlan& t, DType compute, std::vector<uint8_t>* staging) {
  const TensorInfo& info = in.tensor->info;
  uint64_t out_cols = 1;  // elements per row of the output shape
  for (size_t d = 1; d < t.shape.size(); ++d) out_cols *= t.shape[d];
  if (in.rows) {
    gather_rows(out, *in.rows, out_cols, staging);
    // Rows of other models may come in another storage dtype: round them all.
    if (compute != DType::F32) round_buffer(out, t.numel, compute);
    finish_rows(out, *in.rows, out_cols, compute, staging);
    return;
  }
  if (!in.cut) {
    read_elements(out, in, 0, info.numel, staging);
  } else {
    // Row-major: keep the first rows (and, for 2-D, the first cols) of the base's shape.
    const uint64_t rows = t.shape[0];
    const uint64_t cols = t.shape.size() > 1 ? t.numel / rows : 1;
    const uint64_t src_cols = info.shape.size() > 1 ? info.numel / info.shape[0] : 1;
    if (cols == src_cols) read_elements(out, in, 0, t.numel, staging);  // only rows cut: one prefix
    else
      for (uint64_t r = 0; r < rows; ++r) read_elements(out + r * cols, in, r * src_cols, cols, staging);
  }
  // A LoRA adapter is merged into the stored weight first (mergekit merges it into a copy of the model).
  if (in.lora) apply_lora(out, t.shape.empty() ? 1 : t.shape[0], out_cols, in.storage, *in.lora, staging);
  // Inputs are cast to the compute dtype first (mergekit loads them in `dtype`).
  if (compute != DType::F32 && in.storage != compute) round_buffer(out, t.numel, compute);
}

// Loads the tensor's inputs into the slot, on up to staging->size() threads
// (one staging buffer each; inputs dealt round-robin). Reading from the page
// cache, widening and the first touch of fresh slot memory (page zeroing) are
// CPU work: with one loader they are a serial stage as long as the
// multi-threaded kernels that consume them.
using LoadJobs = std::vector<std::pair<float*, const InputRef*>>;  // destination array, input
void load_jobs(const LoadJobs& jobs, const TensorPlan& t, std::vector<std::vector<uint8_t>>* staging);

void load_into(Slot* s, const TensorPlan& t, std::vector<std::vector<uint8_t>>* staging) {
  s->has_base = t.base.has_value();
  if (s->models.size() < t.models.size()) s->models.resize(t.models.size());
  s->ptrs.resize(t.models.size());
  LoadJobs jobs;
  if (t.base) jobs.emplace_back(s->base.ensure(t.numel), &*t.base);
  for (size_t i = 0; i < t.models.size(); ++i) {
    s->ptrs[i] = s->models[i].ensure(t.numel);
    jobs.emplace_back(s->models[i].data(), &t.models[i]);
  }
  load_jobs(jobs, t, staging);
  s->bytes_read = t.input_bytes;
}

// Loads each job's input of tensor t into its array, the jobs dealt round-robin over the threads.
void load_jobs(const LoadJobs& jobs, const TensorPlan& t, std::vector<std::vector<uint8_t>>* staging) {
  const size_t ways = std::max<size_t>(1, std::min(staging->size(), jobs.size()));
  std::vector<std::exception_ptr> errs(jobs.size());
  auto run = [&](size_t w) noexcept {
    for (size_t j = w; j < jobs.size(); j += ways) {
      try {
        load_input(jobs[j].first, *jobs[j].second, t, t.compute, &(*staging)[w]);
      } catch (...) {
        errs[j] = std::current_exception();
        return;
      }
    }
  };
  std::vector<std::thread> helpers;
  for (size_t w = 1; w < ways; ++w) {
    try {
      helpers.emplace_back(run, w);
    } catch (const std::system_error&) {  // no thread to be had: load that share here
      run(w);
    }
  }
  run(0);
  for (std::thread& h : helpers) h.join();  // every helper finishes before the slot is used or freed
  // The first failing input in input order, as a one-thread load reports it.
  for (const std::exception_ptr& e : errs)
    if (e) std::rethrow_exception(e);
}

// Output bytes are produced in pieces of this size (narrowed into a small
// staging buffer, hashed and written from cache): no full-size byte copy.
constexpr uint64_t kOutPieceBytes = uint64_t(1) << 20;

// Narrows finished tensors and hands them to the ShardWriter on its own
// thread, so narrowing, hashing and writing overlap the next tensor's compute.
// One tensor in flight. submit() takes the f32 array that holds the result
// and gives back the array of the tensor written before (swapped, not copied),
// after waiting for that write to finish. A write error is rethrown by the
// next submit() or drain(), unchanged (the ShardWriter is then unusable).
class AsyncShardWriter {
 public:
  explicit AsyncShardWriter(ShardWriter* w) : w_(w), th_([this] { run(); }) {}
  ~AsyncShardWriter() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    th_.join();  // lets a write in progress finish; never deletes anything
  }
  AsyncShardWriter(const AsyncShardWriter&) = delete;
  AsyncShardWriter& operator=(const AsyncShardWriter&) = delete;

  // Writes n values of *buf narrowed to dt as the next tensor; *buf receives
  // the writer's previous array.
  void submit(FloatBuf* buf, DType dt, uint64_t n) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !busy_; });
    rethrow_locked();
    buf->swap(held_);
    dt_ = dt;
    n_ = n;
    busy_ = true;
    cv_.notify_all();
  }
  // Waits until every submitted tensor is written.
  void drain() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [&] { return !busy_; });
    rethrow_locked();
  }

 private:
  void rethrow_locked() {
    if (err_) std::rethrow_exception(err_);  // stays set: every later call fails too
  }
  void write_one() {
    const uint64_t es = dtype_size(dt_);
    const uint64_t per_piece = kOutPieceBytes / es;
    if (staging_.size() < kOutPieceBytes) staging_.resize(kOutPieceBytes);
    const float* src = held_.data();
    uint64_t done = 0;
    do {  // a 0-element tensor still needs its (empty) write
      const uint64_t m = std::min(per_piece, n_ - done);
      if (m) narrow(staging_.data(), src + done, dt_, m);
      w_->write_tensor_part(staging_.data(), m * es);
      done += m;
    } while (done < n_);
  }
  void run() {
    std::unique_lock<std::mutex> lk(mu_);
    for (;;) {
      cv_.wait(lk, [&] { return stop_ || busy_; });
      if (busy_) {
        lk.unlock();
        std::exception_ptr e;
        if (!err_) {
          try {
            write_one();
          } catch (...) {
            e = std::current_exception();
          }
        }
        lk.lock();
        if (e) err_ = e;
        busy_ = false;
        cv_.notify_all();
        continue;
      }
      if (stop_) return;
    }
  }

  ShardWriter* w_;
  std::mutex mu_;
  std::condition_variable cv_;
  FloatBuf held_;  // the tensor being written (owned by the writer thread while busy_)
  DType dt_ = DType::F32;
  uint64_t n_ = 0;
  bool busy_ = false, stop_ = false;
  std::exception_ptr err_;
  std::vector<uint8_t> staging_;  // writer thread only
  std::thread th_;  // last: starts after the state above is initialized
};

// Methods whose kernels write `out` only after reading the same chunk of the
// inputs (merge_kernels.h), so the output can reuse the base's (or, for
// linear, the first model's) array.
bool out_may_alias_input(Method m) {
  switch (m) {
    case Method::Linear:
    case Method::TaskArithmetic:
    case Method::Ties:
    case Method::TiesSV:
    // every kernel reads a tile of all inputs before writing it (merge_kernels.h)
    case Method::Breadcrumbs:
    case Method::BreadcrumbsTies:
    case Method::DareLinear:
    case Method::DareTies:
    case Method::Della:
    case Method::DellaLinear:
    case Method::Slerp:
    case Method::ModelStock:
    case Method::Passthrough: return true;
    // the reducing methods write `out` only in their last, elementwise pass (kernels/reduce.h)
    case Method::Sce:
    case Method::Nuslerp:
    case Method::Multislerp:
    case Method::Karcher:
    case Method::ArceeFusion:
    case Method::Nearswap: return true;
    case Method::kCount: break;
  }
  return false;
}

void check_cancel(const std::atomic<bool>* cancel) {
  if (cancel && cancel->load(std::memory_order_relaxed)) throw MergeError(ErrorCode::CANCELLED, "merge cancelled");
}

// Finds input tensor `in_name` of `src` and checks its dtype; `out_name` is
// the output tensor it feeds (named in the error when they differ).
const ModelTensor& find_input(const ModelSource& src, const std::string& in_name, const std::string& out_name, DType* st) {
  const ModelTensor* mt = src.find(in_name);
  if (!mt)
    throw MergeError(ErrorCode::MODEL_TENSOR_MISSING,
                     "tensor '" + in_name + "' is missing from " + src.path() +
                         (in_name == out_name ? std::string(" (present in the reference model)")
                                              : " (input of output tensor '" + out_name + "')") +
                         ". Merged models must share their tensor names.");
  if (!storage_dtype(mt->info.dtype, st))
    throw MergeError(ErrorCode::MODEL_DTYPE_UNSUPPORTED,
                     "tensor '" + in_name + "' in " + src.path() + " has dtype " + st_dtype_name(mt->info.dtype) +
                         "; only F32, F16 and BF16 tensors can be merged");
  return *mt;
}

// Input tensor `in_name` of `src`, checked against the output `shape`; an
// embedding may be larger and is cut (mergekit).
InputRef match_plain(const ModelSource& src, const std::string& in_name, const std::string& out_name,
                     const std::vector<uint64_t>& shape, TensorPlan* t, std::vector<std::string>* warnings) {
  DType st;
  const ModelTensor& mt = find_input(src, in_name, out_name, &st);
  InputRef r{&src, &mt, st, false, std::nullopt, nullptr};
  if (mt.info.shape != shape) {
    bool fits = mt.info.shape.size() == shape.size() && !shape.empty();
    for (size_t d = 0; fits && d < shape.size(); ++d) fits = mt.info.shape[d] >= shape[d];
    // Only the first (row) dimension of a 2-D tensor, or both, may be larger; cols cut only for 2-D.
    if (fits && shape.size() > 2) fits = false;
    if (!is_embedding_tensor(out_name) || !fits)
      throw MergeError(ErrorCode::MODEL_SHAPE_MISMATCH,
                       "tensor '" + in_name + "' has shape " + shape_str(mt.info.shape) + " in " + src.path() +
                           " but " + shape_str(shape) + " in the reference model");
    r.cut = true;
    t->row_cut = true;
    const uint64_t dropped_rows = mt.info.shape[0] - shape[0];
    warnings->push_back("tensor '" + in_name + "' of " + src.path() + " cut from " + shape_str(mt.info.shape) +
                        " to the base's " + shape_str(shape) +
                        (dropped_rows > 0 ? ": its last " + std::to_string(dropped_rows) +
                                                " rows (tokens the base's vocabulary does not have) are DROPPED, as "
                                                "mergekit does without tokenizer_source; set `tokenizer_source: union` "
                                                "(or base) to keep or re-index them"
                                          : " (embedding size mismatch, as mergekit)"));
  }
  t->input_bytes += mt.info.nbytes();
  return r;
}

// The models of a request with their per-input transforms, indexed by
// model index + 1 (0 = base, which may be absent).
struct InputSet {
  std::vector<const ModelSource*> sources;
  std::vector<const InputTransforms*> transforms;
  std::vector<std::optional<ModelSource>> adapters;  // opened LoRA adapter files
  std::vector<std::map<std::string, const LoraTarget*>> lora_targets;
  std::vector<std::set<std::string>> lora_used;
};

// Matches one model's tensor against the reference, with the model's
// transforms (embedding row map, LoRA); `shape` is the output shape (the
// reference's, or the row map's for embeddings).
InputRef match_input(const InputSet& in, size_t slot, const ModelTensor& ref, const std::vector<uint64_t>& shape,
                     TensorPlan* t, std::vector<std::string>* warnings, std::set<std::string>* lora_used) {
  const ModelSource& src = *in.sources[slot];
  const InputTransforms& tx = *in.transforms[slot];
  InputRef r;
  if (tx.embed_rows && is_embedding_tensor(ref.name)) {
    DType st;
    const ModelTensor& mt = find_input(src, ref.name, ref.name, &st);
    r = InputRef{&src, &mt, st, false, std::nullopt, nullptr};
    if (mt.info.shape.size() != 2 || shape.size() != 2 || mt.info.shape[1] != shape[1])
      throw MergeError(ErrorCode::MODEL_SHAPE_MISMATCH, "tensor '" + ref.name + "' has shape " + shape_str(mt.info.shape) +
                                                            " in " + src.path() + " but " + shape_str(shape) +
                                                            " after re-indexing into the output vocabulary");
    auto g = std::make_shared<RowGather>();
    g->map = tx.embed_rows.get();
    g->sources.resize(in.sources.size());
    for (size_t s = 0; s < in.sources.size(); ++s) {
      if (!in.sources[s]) continue;
      const ModelTensor* other = in.sources[s]->find(ref.name);
      DType ost;
      if (other && storage_dtype(other->info.dtype, &ost)) g->sources[s] = TensorRead{in.sources[s], other, ost};
    }
    validate_row_gather(*g, shape[1], ref.name, src.path());
    r.rows = std::move(g);
    t->input_bytes += mt.info.nbytes();
  } else {
    r = match_plain(src, ref.name, ref.name, shape, t, warnings);
  }
  const auto& targets = in.lora_targets[slot];
  if (auto it = targets.find(ref.name); it != targets.end()) {
    if (r.rows)
      throw MergeError(ErrorCode::RECIPE_INVALID,
                       "the LoRA adapter of " + src.path() + " changes '" + ref.name +
                           "', which is also re-indexed into the output vocabulary (tokenizer_source); merge that adapter "
                           "into the model first or drop tokenizer_source");
    r.lora = resolve_lora(*in.adapters[slot], *it->second, *r.tensor, src.path());
    t->input_bytes += r.lora->a.tensor->info.nbytes() + r.lora->b.tensor->info.nbytes();
    lora_used->insert(ref.name);
  }
  return r;
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

// Compute and output dtype of a planned tensor from its inputs' storage dtypes.
void set_dtypes(const EngineRequest& req, DType ref_st, TensorPlan* t) {
  bool mixed = false;
  for (const InputRef& in : t->models) mixed |= in.storage != ref_st;
  t->compute = compute_for(req.compute, ref_st, mixed);
  // slerp always runs in float32 (mergekit converts to numpy float32).
  if (req.params.method == Method::Slerp && req.compute == ComputeMode::Storage) t->compute = DType::F32;
  t->out = req.has_out_dtype ? req.out_dtype : (req.compute != ComputeMode::Storage ? t->compute : ref_st);
  // arcee_fusion returns float32 (its mask is a float32 tensor); without out_dtype mergekit saves that.
  if (req.params.method == Method::ArceeFusion && !req.has_out_dtype) t->out = DType::F32;
}

DType reference_storage(const ModelTensor& rt, const ModelSource& src) {
  DType st;
  if (!storage_dtype(rt.info.dtype, &st))
    throw MergeError(ErrorCode::MODEL_DTYPE_UNSUPPORTED,
                     "tensor '" + rt.name + "' in " + src.path() + " has dtype " + st_dtype_name(rt.info.dtype) +
                         "; only F32, F16 and BF16 tensors can be merged");
  return st;
}

// Without a plan: the reference model's tensors, matched by name in every model.
std::vector<TensorPlan> plan_tensors(const EngineRequest& req, InputSet* in, std::vector<std::string>* warnings) {
  const ModelSource* base = in->sources[0];
  const ModelSource& ref = base ? *base : *in->sources[1];
  // Extra tensors in any model are reported, never silently dropped.
  for (size_t s = 1; s < in->sources.size(); ++s)
    for (const ModelTensor& mt : in->sources[s]->tensors())
      if (!ref.find(mt.name))
        throw MergeError(ErrorCode::MODEL_TENSOR_EXTRA,
                         "tensor '" + mt.name + "' of " + in->sources[s]->path() + " does not exist in the reference model " +
                             ref.path() + ". Merged models must share their tensor names.");
  std::vector<ModelParams> mp;
  for (const EngineModel& m : req.models) mp.push_back(m.params);
  // Embedding row maps: all inputs or none, one output row count.
  const EmbedRowMap* rows_map = nullptr;
  size_t with_rows = 0, inputs = 0;
  for (size_t s = 0; s < in->sources.size(); ++s) {
    if (!in->sources[s]) continue;
    ++inputs;
    if (const EmbedRowMap* m = in->transforms[s]->embed_rows.get()) {
      if (rows_map && m->rows != rows_map->rows)
        throw MergeError(ErrorCode::RECIPE_INVALID, "embedding row maps disagree on the output vocabulary size (" +
                                                        std::to_string(rows_map->rows) + " vs " + std::to_string(m->rows) + ")");
      rows_map = m;
      ++with_rows;
    }
  }
  if (with_rows != 0 && with_rows != inputs)
    throw MergeError(ErrorCode::RECIPE_INVALID, "an embedding row map is given for some inputs but not all; give one per model");
  std::vector<TensorPlan> plans;
  plans.reserve(ref.tensors().size());
  for (const ModelTensor& rt : ref.tensors()) {
    const DType ref_st = reference_storage(rt, ref);
    TensorPlan t;
    t.name = rt.name;
    t.shape = rt.info.shape;
    if (rows_map && is_embedding_tensor(rt.name) && t.shape.size() == 2) t.shape[0] = rows_map->rows;
    t.numel = 1;
    for (uint64_t d : t.shape) t.numel = kern::mul_size(t.numel, d, "tensor size");
    if (base) t.base = match_input(*in, 0, rt, t.shape, &t, warnings, &in->lora_used[0]);
    for (size_t s = 1; s < in->sources.size(); ++s)
      t.models.push_back(match_input(*in, s, rt, t.shape, &t, warnings, &in->lora_used[s]));
    t.mp = mp;
    t.lambda = req.params.lambda;
    t.t = req.params.t;
    set_dtypes(req, ref_st, &t);
    plans.push_back(std::move(t));
  }
  // Every LoRA target must have been applied: an adapter for another model is an error, not a no-op.
  for (size_t s = 0; s < in->sources.size(); ++s)
    for (const auto& [name, target] : in->lora_targets[s])
      if (!in->lora_used[s].count(name))
        throw MergeError(ErrorCode::MODEL_TENSOR_MISSING, "LoRA adapter " + in->adapters[s]->path() + " targets '" + name +
                                                              "', which " + in->sources[s]->path() + " does not have (is the adapter for this model?)");
  return plans;
}

// With a plan: each output tensor's inputs looked up by their own names. The
// reference shape is the base input's (else the first input's).
std::vector<TensorPlan> plan_from_request(const EngineRequest& req, const std::vector<ModelSource>& sources,
                                          std::vector<std::string>* warnings) {
  const EnginePlan& plan = req.plan;
  if (plan.tensors.empty()) throw MergeError(ErrorCode::RECIPE_INVALID, "the merge plan has no tensors");
  const bool needs_base = req.params.method != Method::Linear && req.params.method != Method::Passthrough;
  std::vector<std::string> names;
  std::vector<TensorPlan> plans;
  plans.reserve(plan.tensors.size());
  for (const PlannedTensor& pt : plan.tensors) {
    const std::string where = "merge plan, tensor '" + pt.name + "': ";
    if (pt.name.empty()) throw MergeError(ErrorCode::RECIPE_INVALID, "merge plan: a tensor has an empty name");
    if (pt.models.empty()) throw MergeError(ErrorCode::RECIPE_INVALID, where + "no model inputs");
    if (pt.params.size() != pt.models.size())
      throw MergeError(ErrorCode::INTERNAL, where + "parameters and inputs differ in count");
    if (needs_base && !pt.has_base)
      throw MergeError(ErrorCode::RECIPE_INVALID,
                       where + "method " + method_name(req.params.method) + " needs a base model input");
    auto check_source = [&](const PlannedInput& in) -> const ModelSource& {
      if (in.source >= sources.size())
        throw MergeError(ErrorCode::RECIPE_INVALID, where + "input source " + std::to_string(in.source) +
                                                        " is out of range (" + std::to_string(sources.size()) +
                                                        " sources)");
      return sources[in.source];
    };
    const PlannedInput& ref_in = pt.has_base ? pt.base : pt.models.front();
    const ModelSource& ref_src = check_source(ref_in);
    const ModelTensor* rt = ref_src.find(ref_in.tensor);
    if (!rt)
      throw MergeError(ErrorCode::MODEL_TENSOR_MISSING, "tensor '" + ref_in.tensor + "' is missing from " +
                                                            ref_src.path() + " (input of output tensor '" + pt.name +
                                                            "')");
    const DType ref_st = reference_storage(*rt, ref_src);
    TensorPlan t;
    t.name = pt.name;
    t.shape = rt->info.shape;
    t.numel = rt->info.numel;
    if (pt.has_base) t.base = match_plain(ref_src, pt.base.tensor, pt.name, rt->info.shape, &t, warnings);
    for (const PlannedInput& in : pt.models)
      t.models.push_back(match_plain(check_source(in), in.tensor, pt.name, rt->info.shape, &t, warnings));
    t.mp = pt.params;
    t.lambda = pt.lambda;
    t.t = pt.t;
    set_dtypes(req, ref_st, &t);
    if (req.params.method == Method::Karcher && t.row_cut)
      throw MergeError(ErrorCode::MODEL_SHAPE_MISMATCH,
                       "tensor '" + t.name + "' has different shapes in the models; karcher cannot merge embeddings of "
                       "different sizes (mergekit 0.1.4 fails on them too)");
    plans.push_back(std::move(t));
    names.push_back(pt.name);
  }
  std::sort(names.begin(), names.end());
  const auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end())
    throw MergeError(ErrorCode::RECIPE_INVALID, "merge plan: output tensor '" + *dup + "' is planned twice");
  return plans;
}

// The request's parameters with the per-tensor fields set.
MergeParams tensor_params(const MergeParams& p, const TensorPlan& t) {
  MergeParams tp = p;
  tp.compute = t.compute;
  tp.lambda = t.lambda;
  tp.t = t.t;
  tp.tensor_key = dare_tensor_key(t.name);
  tp.row_len = t.shape.empty() ? t.numel : t.shape.back();
  tp.dim0_len = t.shape.empty() ? t.numel : t.shape.front();
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

// mergekit estimates arcee_fusion's quantiles from a random sample for large tensors.
void warn_arcee_sampling(const std::vector<TensorPlan>& plans, EngineResult* result) {
  uint64_t n = 0;
  std::string first;
  for (const TensorPlan& t : plans)
    if (t.numel > 1000000 && n++ == 0) first = t.name;
  if (n == 0) return;
  result->warnings.push_back(
      "arcee_fusion: " + std::to_string(n) + " tensor(s) have more than 1e6 elements (first: '" + first +
      "'); mergekit takes their importance quantiles from a random sample of 1e6 elements (a different result on "
      "every run), MergeScope from every element (docs/merge-methods.md)");
}

// ---------------------------------------------------------------------------
// Series pass (EngineRequest::series): the density sweep of (base, SFT, CT i)
// for every CT checkpoint, reading the base and the SFT once and each CT once.
// Every checkpoint gets the plan a sweep of its own recipe makes (same checks,
// same MODEL_* errors naming that checkpoint, same compute dtype per tensor)
// and the same kernel call on the same arrays, so its points equal that
// sweep's bit for bit, for any thread count.
//
// Work items run in order tensor by tensor, then checkpoint by checkpoint. The
// checkpoints of a tensor whose compute dtype is the same share one load of
// the base and SFT arrays (a "unit"; checkpoints stored in another dtype than
// the others get their own unit). The next item is prefetched while one runs:
// its CT array into the other of two CT buffers, and, when it starts a unit,
// its base/SFT arrays into the other of two pair buffers (the unit before the
// running one is finished by then). Six f32 arrays of the largest tensor.
struct SeriesItem {
  size_t tensor, ct, unit;
  bool loads_pair;  // first item of its unit: loads base and SFT too
};

EngineResult run_series(const EngineRequest& req, const EngineProgressFn& progress, const std::atomic<bool>* cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  auto invalid = [](const std::string& m) { throw MergeError(ErrorCode::RECIPE_INVALID, "series pass: " + m); };
  if (req.has_plan) invalid("not available with per-tensor parameters or slices");
  if (req.params.method != Method::Ties) invalid(std::string("runs on merge_method ties, got ") + method_name(req.params.method));
  if (!req.out_dir.empty()) invalid("statistics only (no output directory)");
  if (req.base_path.empty()) invalid("needs a base model");
  if (req.models.size() < 2) invalid("needs the SFT model and at least one CT checkpoint");
  bool transforms = !req.base_transforms.empty();
  for (const EngineModel& m : req.models) transforms |= !m.transforms.empty();
  if (transforms) invalid("LoRA inputs and tokenizer_source are not supported; sweep those checkpoints one by one");
  const uint64_t D = req.densities.size();
  if (D == 0 || D * D > 4096)
    invalid(std::to_string(D) + " densities give " + std::to_string(D * D) + " grid points per checkpoint; 1 to 4096");
  const size_t n_ct = req.models.size() - 1;

  // One two-model request per checkpoint: what a sweep of (base, SFT, CT i) is given.
  std::vector<EngineRequest> pair_reqs(n_ct);
  for (size_t c = 0; c < n_ct; ++c) {
    EngineRequest& pr = pair_reqs[c];
    pr.params = req.params;
    pr.compute = req.compute;
    pr.has_out_dtype = req.has_out_dtype;
    pr.out_dtype = req.out_dtype;
    pr.base_path = req.base_path;
    pr.models = {req.models[0], req.models[c + 1]};
    const ModelParams mp[2] = {pr.models[0].params, pr.models[1].params};
    MergeParams check = req.params;
    check.compute = req.compute == ComputeMode::F16 ? DType::F16 : req.compute == ComputeMode::BF16 ? DType::BF16 : DType::F32;
    validate_params(mp, 2, check, req.compute != ComputeMode::Storage);
  }

  EngineProgress prog;
  prog.phase = "plan";
  if (progress) progress(prog);

  EngineResult result;
  const ModelSource base = ModelSource::open(req.base_path, &req.paths);
  const ModelSource sft = ModelSource::open(req.models[0].path, &req.paths);
  std::vector<ModelSource> cts;
  cts.reserve(n_ct);
  for (size_t c = 0; c < n_ct; ++c) cts.push_back(ModelSource::open(req.models[c + 1].path, &req.paths));
  const InputTransforms none;
  std::vector<std::vector<TensorPlan>> plans(n_ct);  // [checkpoint][tensor]
  result.has_series = true;
  result.series.resize(n_ct);
  for (size_t c = 0; c < n_ct; ++c) {
    InputSet in;
    in.sources = {&base, &sft, &cts[c]};
    in.transforms = {&none, &none, &none};
    in.adapters.resize(3);
    in.lora_targets.resize(3);
    in.lora_used.resize(3);
    plans[c] = plan_tensors(pair_reqs[c], &in, &result.series[c].warnings);
    for (TensorPlan& t : plans[c]) {
      MergeParams p = req.params;
      p.compute = t.compute;
      validate_params(t.mp.data(), uint32_t(t.mp.size()), p);
    }
  }
  const size_t n_tensors = plans[0].size();  // every plan lists the base's tensors in the same order

  std::vector<SeriesItem> items;
  items.reserve(n_tensors * n_ct);
  size_t units = 0;
  for (size_t j = 0; j < n_tensors; ++j) {
    std::vector<bool> placed(n_ct, false);
    for (size_t c = 0; c < n_ct; ++c) {
      if (placed[c]) continue;
      const DType unit_dtype = plans[c][j].compute;
      for (size_t k = c; k < n_ct; ++k)
        if (!placed[k] && plans[k][j].compute == unit_dtype) {
          items.push_back({j, k, units, k == c});
          placed[k] = true;
        }
      ++units;
    }
  }
  auto item_bytes = [&](const SeriesItem& it) {
    const TensorPlan& t = plans[it.ct][it.tensor];
    uint64_t b = t.models[1].tensor->info.nbytes();
    if (it.loads_pair) b += t.base->tensor->info.nbytes() + t.models[0].tensor->info.nbytes();
    return b;
  };
  prog.tensors_total = items.size();
  for (const SeriesItem& it : items) prog.bytes_total += item_bytes(it);

  // Grid points as the sweep numbers them: the SFT's density varying slowest.
  for (size_t c = 0; c < n_ct; ++c) {
    result.series[c].sweep.resize(D * D);
    for (uint64_t q = 0; q < D * D; ++q) {
      result.series[c].sweep[q].densities = {req.densities[q / D], req.densities[q % D]};
      result.series[c].sweep[q].tensors.resize(n_tensors);
    }
  }

  ThreadPool pool(req.threads);
  std::vector<std::vector<uint8_t>> staging(std::min(pool.size(), 3u));  // used by the I/O threads only
  FloatBuf pair_base[2], pair_sft[2], ct_buf[2];
  auto load = [&](size_t k) {
    const SeriesItem it = items[k];
    const TensorPlan* t = &plans[it.ct][it.tensor];
    LoadJobs jobs;
    if (it.loads_pair) {
      jobs.emplace_back(pair_base[it.unit % 2].ensure(t->numel), &*t->base);
      jobs.emplace_back(pair_sft[it.unit % 2].ensure(t->numel), &t->models[0]);
    }
    jobs.emplace_back(ct_buf[k % 2].ensure(t->numel), &t->models[1]);
    return std::async(std::launch::async, [jobs = std::move(jobs), t, &staging] { load_jobs(jobs, *t, &staging); });
  };
  KernelScratch scratch;
  std::vector<kern::Mt19937> mts(n_ct, kern::Mt19937(req.params.seed));  // each checkpoint's own stream, as its sweep has
  prog.phase = "analyze";
  std::future<void> next;
  if (!items.empty()) next = load(0);
  for (size_t k = 0; k < items.size(); ++k) {
    next.get();
    check_cancel(cancel);
    if (k + 1 < items.size()) next = load(k + 1);
    const SeriesItem& it = items[k];
    const TensorPlan& t = plans[it.ct][it.tensor];
    MergeParams tp = tensor_params(req.params, t);
    tp.scratch = &scratch;
    tp.mt = &mts[it.ct];
    const float* ptrs[2] = {pair_sft[it.unit % 2].data(), ct_buf[k % 2].data()};
    std::vector<TensorStats> points;
    sweep_tensor(&points, pair_base[it.unit % 2].data(), ptrs, 2, t.numel, t.mp.data(), tp, req.densities.data(),
                 uint32_t(D), pool, cancel);
    for (size_t q = 0; q < points.size(); ++q) {
      EngineTensorReport& rep = result.series[it.ct].sweep[q].tensors[it.tensor];
      rep.name = t.name;
      rep.shape = t.shape;
      rep.out_dtype = t.out;
      rep.row_cut = t.row_cut;
      rep.stats = std::move(points[q]);
    }
    const uint64_t bytes = item_bytes(it);
    result.bytes_read += bytes;
    prog.tensors_done++;
    prog.bytes_done += bytes;
    prog.tensor = t.name;
    if (progress) progress(prog);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
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

// The whole model's lost-election margins: the tensors' histograms in report order (integer sums).
static void add_up_margins(EngineResult* result, const SlackPlanner* planner) {
  EngineMargins& mg = result->margins;
  mg.candidates.assign(kMarginBins, 0);
  mg.reserved.assign(kMarginBins, 0);
  mg.has_cut = planner != nullptr && planner->budget() > 0;
  mg.cut_key = mg.has_cut ? planner->cutoff_key() : 0;
  for (const EngineTensorReport& t : result->tensors) {
    if (!t.stats.has_margins) continue;
    for (uint32_t b = 0; b < kMarginBins; ++b) {
      mg.candidates[b] += t.stats.margin_candidates[b];
      mg.reserved[b] += t.stats.margin_reserved[b];
    }
    if (mg.has_cut) {
      mg.at_cut += t.stats.margin_at_cutoff;
      mg.taken_at_cut += t.stats.margin_taken_at_cutoff;
    }
  }
  result->has_margins = true;
}

EngineResult run_engine(const EngineRequest& req, const EngineProgressFn& progress,
                        const std::atomic<bool>* cancel) {
  if (req.series) return run_series(req, progress, cancel);
  const auto t0 = std::chrono::steady_clock::now();
  if (!req.has_plan) {
    if (req.models.empty()) throw MergeError(ErrorCode::RECIPE_INVALID, "a merge needs at least one model");
    if (req.base_path.empty() && !method_base_optional(req.params.method))
      throw MergeError(ErrorCode::RECIPE_INVALID,
                       std::string("method ") + method_name(req.params.method) + " needs a base model (base_model)");
    if (req.params.method == Method::Nuslerp)
      for (const EngineModel& m : req.models)
        if (m.path == req.base_path)
          throw MergeError(ErrorCode::RECIPE_INVALID,
                           "nuslerp: base_model must not be one of the two merged models (" + m.path + ")");
    std::vector<ModelParams> mp;
    for (const EngineModel& m : req.models) mp.push_back(m.params);
    MergeParams check = req.params;
    check.compute = req.compute == ComputeMode::F16 ? DType::F16
                    : req.compute == ComputeMode::BF16 ? DType::BF16 : DType::F32;
    // Storage mode: F32 stands in for the tensors' dtypes (a weight unrepresentable in F32 is in
    // F16/BF16 too); the dtype-dependent weight sum is left to the per-tensor check below.
    validate_params(mp.data(), uint32_t(mp.size()), check, req.compute != ComputeMode::Storage);
  } else if (req.sweep) {
    throw MergeError(ErrorCode::RECIPE_INVALID, "density sweep: not available with per-tensor parameters or slices");
  }

  EngineProgress prog;
  prog.phase = "plan";
  if (progress) progress(prog);

  EngineResult result;
  std::optional<ModelSource> base;
  std::vector<ModelSource> models;  // the request's models, or the plan's sources
  InputSet inputs;                  // outlives the plans: they point into its LoRA adapters
  std::vector<TensorPlan> plans;
  if (req.has_plan) {
    // Input transforms (LoRA, vocabulary row maps) apply to whole models matched by name.
    bool transforms = !req.base_transforms.empty();
    for (const EngineModel& m : req.models) transforms |= !m.transforms.empty();
    if (transforms)
      throw MergeError(ErrorCode::RECIPE_INVALID,
                       "LoRA inputs and tokenizer_source work with whole-model merges only, not with slices or per-layer parameters");
    for (const std::string& p : req.plan.sources) models.push_back(ModelSource::open(p, &req.paths));
    plans = plan_from_request(req, models, &result.warnings);
  } else {
    if (!req.base_path.empty()) base.emplace(ModelSource::open(req.base_path, &req.paths));
    for (const EngineModel& m : req.models) models.push_back(ModelSource::open(m.path, &req.paths));
    inputs.sources.push_back(base ? &*base : nullptr);
    inputs.transforms.push_back(&req.base_transforms);
    for (size_t i = 0; i < models.size(); ++i) {
      inputs.sources.push_back(&models[i]);
      inputs.transforms.push_back(&req.models[i].transforms);
    }
    inputs.adapters.resize(inputs.sources.size());
    inputs.lora_targets.resize(inputs.sources.size());
    inputs.lora_used.resize(inputs.sources.size());
    for (size_t s = 0; s < inputs.sources.size(); ++s) {
      const LoraAdapter* lora = inputs.transforms[s]->lora.get();
      if (!lora || !inputs.sources[s]) continue;
      inputs.adapters[s].emplace(ModelSource::open(lora->path, &req.paths));
      for (const LoraTarget& target : lora->targets)
        if (!inputs.lora_targets[s].emplace(target.tensor, &target).second)
          throw MergeError(ErrorCode::RECIPE_INVALID, "LoRA adapter " + lora->path + " lists '" + target.tensor + "' twice");
    }
    plans = plan_tensors(req, &inputs, &result.warnings);
  }
  for (TensorPlan& t : plans) {
    MergeParams p = req.params;
    p.compute = t.compute;
    p.lambda = t.lambda;
    p.t = t.t;
    try {
      validate_params(t.mp.data(), uint32_t(t.mp.size()), p);  // e.g. weights must be representable in the dtype
    } catch (const MergeError& e) {
      if (!req.has_plan) throw;
      throw MergeError(e.code(), "tensor '" + t.name + "': " + e.what());
    }
    if ((p.method == Method::Della || p.method == Method::DellaLinear) && t.shape.size() > 2)
      throw MergeError(ErrorCode::RECIPE_INVALID, "della: tensor '" + t.name + "' has " + std::to_string(t.shape.size()) +
                                                      " dimensions; DELLA ranks rows of 1-D and 2-D tensors only");
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

  // Two input slots (the tensor being merged, the next one being loaded) plus
  // the array the writer is narrowing and writing: memory is bounded by seven
  // f32 copies of the largest tensor (three inputs), not by the model.
  Slot slots[2];
  // One staging buffer per loader thread: with 2+ engine threads the inputs of a tensor load concurrently.
  std::vector<std::vector<uint8_t>> staging(std::min(pool.size(), 3u));  // used by the I/O threads only
  std::optional<AsyncShardWriter> async_writer;
  if (writer) async_writer.emplace(writer.get());

  // Streams every tensor through `fn`, prefetching the next one on an I/O thread.
  auto stream = [&](const char* phase, const std::function<void(size_t, Slot&)>& fn) {
    prog.phase = phase;
    std::future<void> next;
    auto load = [&](size_t i) {
      Slot* s = &slots[i % 2];
      const TensorPlan* t = &plans[i];
      return std::async(std::launch::async, [s, t, &staging] { load_into(s, *t, &staging); });
    };
    if (!plans.empty()) next = load(0);
    for (size_t i = 0; i < plans.size(); ++i) {
      next.get();
      check_cancel(cancel);
      if (i + 1 < plans.size()) next = load(i + 1);
      Slot& cur = slots[i % 2];
      const uint64_t bytes = cur.bytes_read;
      result.bytes_read += bytes;
      fn(i, cur);
      prog.tensors_done++;
      prog.bytes_done += bytes;
      prog.tensor = plans[i].name;
      if (progress) progress(prog);
    }
  };

  std::optional<SlackPlanner> planner;
  if (model_slack) {
    MergeParams p = req.params;
    planner.emplace(p);
    stream("slack", [&](size_t i, Slot& lt) {
      MergeParams tp = req.params;
      tp.compute = plans[i].compute;
      planner->add(plans[i].name, slack_summarize(lt.base_data(), lt.ptrs.data(), uint32_t(lt.ptrs.size()),
                                                  plans[i].numel, plans[i].mp.data(), tp, pool, cancel));
    });
    if (!planner->finish()) {
      // F32 margins need a second, finer histogram of the one boundary bucket.
      const std::vector<std::string> names = planner->tensors_to_refine();
      for (const std::string& name : names) {
        for (const TensorPlan& t : plans) {
          if (t.name != name) continue;
          Slot& lt = slots[0];
          load_into(&lt, t, &staging);
          result.bytes_read += lt.bytes_read;
          MergeParams tp = req.params;
          tp.compute = t.compute;
          SlackRefineRequest rr = planner->refine_request();
          planner->add_refinement(name, slack_summarize(lt.base_data(), lt.ptrs.data(), uint32_t(lt.ptrs.size()),
                                                        t.numel, t.mp.data(), tp, pool, cancel, &rr));
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
    const size_t n_models = req.models.size();
    for (size_t i = 0; i < n_models; ++i) n_points = kern::mul_size(n_points, D, "sweep grid");
    if (D == 0 || n_points > 4096)
      throw MergeError(ErrorCode::RECIPE_INVALID, "density sweep: " + std::to_string(D) + " densities over " +
                                                      std::to_string(n_models) + " models give " +
                                                      std::to_string(n_points) + " grid points; at most 4096");
    result.has_sweep = true;
    result.sweep.resize(n_points);
    for (uint64_t q = 0; q < n_points; ++q) {
      for (uint64_t rest = q, i = n_models; i-- > 0; rest /= D) result.sweep[q].densities.insert(
          result.sweep[q].densities.begin(), req.densities[rest % D]);
      result.sweep[q].tensors.resize(plans.size());
    }
  }
  FloatBuf out_f32;  // only for methods whose output cannot reuse an input array
  KernelScratch scratch;  // the kernels' per-tensor temporaries (sce, arcee_fusion, multislerp, karcher, tie order, keep masks), reused
  // mergekit's random stream: torch.manual_seed(seed) once, then the tensors
  // draw in mergekit's execution order -- tensor name order, which is the
  // order of `plans` (ModelSource sorts by name) -- docs/merge-methods.md.
  kern::Mt19937 mt(req.params.seed);
  const bool alias = out_may_alias_input(req.params.method);
  stream(write ? "merge" : "analyze", [&](size_t i, Slot& lt) {
    const TensorPlan& t = plans[i];
    MergeParams tp = tensor_params(req.params, t);
    tp.scratch = &scratch;
    tp.mt = &mt;
    EngineTensorReport& rep = result.tensors[i];
    rep.name = t.name;
    rep.shape = t.shape;
    rep.out_dtype = t.out;
    rep.row_cut = t.row_cut;
    SlackPlanForTensor sv;
    const SlackPlanForTensor* svp = nullptr;
    if (planner) {
      sv = planner->plan_for(t.name);
      svp = &sv;
    }
    float* base_ptr = lt.base_data();
    const uint32_t n_models = uint32_t(lt.ptrs.size());
    if (req.sweep) {
      std::vector<TensorStats> points;
      sweep_tensor(&points, base_ptr, lt.ptrs.data(), n_models, t.numel, t.mp.data(), tp, req.densities.data(),
                   uint32_t(req.densities.size()), pool, cancel);
      for (size_t q = 0; q < points.size(); ++q) {
        EngineTensorReport pr = rep;
        pr.stats = std::move(points[q]);
        result.sweep[q].tensors[i] = std::move(pr);
      }
    } else if (write) {
      // The result overwrites the base's array (or, for linear without a base,
      // the first model's), which then goes to the writer in exchange for the
      // array it wrote before: the loader refills that one with a later tensor.
      FloatBuf* out_buf = !alias ? &out_f32 : base_ptr ? &lt.base : &lt.models[0];
      float* out = out_buf->ensure(t.numel);
      merge_tensor(out, &rep.stats, base_ptr, lt.ptrs.data(), n_models, t.numel, t.mp.data(), tp, pool, cancel, svp, &scratch);
      async_writer->submit(out_buf, t.out, t.numel);
    } else {
      analyze_tensor(&rep.stats, base_ptr, lt.ptrs.data(), n_models, t.numel, t.mp.data(), tp, pool, cancel, svp, &scratch);
    }
  });

  if (req.params.method == Method::TiesSV && !req.sweep) add_up_margins(&result, planner ? &*planner : nullptr);
  warn_dropped_no_outliers(&result);
  if (req.params.method == Method::ArceeFusion) warn_arcee_sampling(plans, &result);

  if (writer) {
    async_writer->drain();
    check_cancel(cancel);
    result.shards = writer->finish();
    result.has_index = result.shards.size() > 1;
    for (const ShardFile& s : result.shards) result.bytes_written += s.bytes;
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

}  // namespace ms
