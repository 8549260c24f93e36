// Whole-model merge / analysis: opens the checkpoints, matches tensors by
// name, streams them tensor by tensor through the kernels (merge_kernels.h)
// and, for a merge, into a ShardWriter. N-API free: the binding, the C++
// tests and the fuzzers link it directly.
//
// Memory: bounded by the largest tensor, not the model — seven f32 arrays of
// the largest tensor's size for a two-model merge (base + models of the tensor
// being merged, the same for the next one, prefetched on an I/O thread while
// the kernels run, and the finished result being narrowed, hashed and written
// on a writer thread), reused from tensor to tensor; raw bytes only pass
// through 1 MiB staging buffers. The merged values overwrite the base's array
// (the kernels allow `out` to alias an input) for the methods that permit it.
// sce, arcee_fusion, multislerp and karcher add full-size temporaries
// (KernelScratch, reused from tensor to tensor): sce up to 3 f32-sized arrays
// of the largest tensor (variance keys, and torch's top-k tie order when
// threshold ties are split), the others 1-2.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "input_transforms.h"
#include "merge_kernels.h"
#include "path_policy.h"
#include "shard_writer.h"

namespace ms {

// Compute dtype of a recipe: Storage = mergekit without `dtype` (each tensor
// in its storage dtype; mixed storage dtypes promote to F32, like torch).
enum class ComputeMode : uint8_t { Storage, F32, F16, BF16 };

struct EngineModel {
  std::string path;  // model directory or .safetensors file
  ModelParams params;
  InputTransforms transforms;  // LoRA / embedding row map applied as its tensors load (input_transforms.h)
};

// An explicit tensor plan (gradients, filters, slices): every output tensor
// with its inputs as (source, tensor name) and the parameter values resolved
// for it. Without a plan the engine matches tensors by name across the models
// and uses the request's parameters for every tensor.
struct PlannedInput {
  uint32_t source = 0;  // index into EnginePlan::sources
  std::string tensor;   // tensor name in that source
};

struct PlannedTensor {
  std::string name;  // output tensor name (unique)
  bool has_base = false;
  PlannedInput base;
  std::vector<PlannedInput> models;
  std::vector<ModelParams> params;  // one per model input
  double lambda = 1;                // per-tensor global values
  double t = 0.5;
};

struct EnginePlan {
  std::vector<std::string> sources;    // model directories / .safetensors files, each opened once
  std::vector<PlannedTensor> tensors;  // output order
};

struct EngineRequest {
  MergeParams params;  // params.compute is set per tensor from `compute`
  ComputeMode compute = ComputeMode::Storage;
  bool has_out_dtype = false;  // false: compute dtype if set, else the base tensor's storage dtype
  DType out_dtype = DType::F32;
  std::string base_path;       // empty only for linear (first model then defines the tensors)
  InputTransforms base_transforms;
  std::vector<EngineModel> models;
  std::string out_dir;         // existing empty directory for the shards; empty = statistics only
  uint64_t shard_size = 5000000000ull;
  unsigned threads = 0;        // 0 = all cores
  // Density sweep (analysis only, ties): statistics for every combination of
  // `densities` across the models instead of one analysis (sweep.h).
  bool sweep = false;
  std::vector<double> densities;
  // Series pass (analysis only, ties; needs `densities`): models[0] is the SFT,
  // models[1..N] the CT checkpoints; result.series[i] is the density sweep of
  // (base, SFT, CT i+1), equal bit for bit to that sweep run alone. Per tensor
  // the base and SFT are read once, each CT once. Memory: six f32 arrays of the
  // largest tensor (base, SFT and one CT, each double-buffered for the
  // prefetch) plus the sweep kernel's tables -- not N CT tensors at once.
  bool series = false;
  // Explicit plan: base_path/models are then only the report's model list;
  // inputs and per-tensor parameters come from the plan.
  bool has_plan = false;
  EnginePlan plan;
  // Allowed input folders (disabled = every readable file; see path_policy.h).
  PathPolicy paths;
};

struct EngineTensorReport {
  std::string name;
  std::vector<uint64_t> shape;  // output shape (the base's)
  DType out_dtype = DType::F32;
  bool row_cut = false;         // an embedding of a model was cut to the base's rows/cols
  TensorStats stats;
};

struct EngineSweepPoint {
  std::vector<double> densities;             // per model
  std::vector<EngineTensorReport> tensors;   // sorted by name
};

struct EngineSeriesCheckpoint {
  std::vector<EngineSweepPoint> sweep;  // as EngineResult::sweep for (SFT, this CT)
  std::vector<std::string> warnings;    // what that sweep alone would warn (row cuts)
};

// ties_sv: the favored model's lost-election margins over the whole model (merge_kernels.h,
// "Lost-election margins"): the tensors' histograms added up, and the slack cut of model scope:
// every candidate whose margin key is < cut_key was reserved, and taken_at_cut of the at_cut
// candidates whose key equals it (byte-wise tensor name, then flat index order).
struct EngineMargins {
  std::vector<uint64_t> candidates, reserved;  // kMarginBins each
  bool has_cut = false;  // model scope with a budget R > 0 (tensor scope: one cut per tensor, none here)
  uint32_t cut_key = 0;
  uint64_t at_cut = 0, taken_at_cut = 0;
};

struct EngineResult {
  std::vector<EngineTensorReport> tensors;  // sorted by name
  std::vector<ShardFile> shards;
  bool has_index = false;                   // model.safetensors.index.json written
  std::vector<std::string> warnings;
  uint64_t bytes_read = 0, bytes_written = 0;
  double seconds = 0;
  bool has_slack_budget = false;
  uint64_t slack_budget = 0;                // ties_sv model scope: R
  bool has_sweep = false;
  std::vector<EngineSweepPoint> sweep;      // first model's density varying slowest
  bool has_series = false;
  std::vector<EngineSeriesCheckpoint> series;  // per CT checkpoint (request.models[1..])
  bool has_margins = false;                 // ties_sv (not a sweep)
  EngineMargins margins;
};

struct EngineProgress {
  const char* phase = "plan";  // plan | slack | merge | analyze
  uint64_t tensors_done = 0, tensors_total = 0;
  uint64_t bytes_done = 0, bytes_total = 0;  // input bytes over all passes
  std::string tensor;
};

using EngineProgressFn = std::function<void(const EngineProgress&)>;

// Throws MergeError: MODEL_* for mismatched checkpoints, ST_* / IDX_* for bad
// files, RECIPE_INVALID, OUT_NO_SPACE / OUT_IO, CANCELLED. On error the shards
// written so far stay in out_dir: the caller owns (and removes) that staging dir.
EngineResult run_engine(const EngineRequest& req, const EngineProgressFn& progress,
                        const std::atomic<bool>* cancel);

// True for embedding / output-projection tensors, whose rows may be cut to the base's
// (or rebuilt in the output vocabulary by an embedding row map).
bool is_embedding_tensor(const std::string& name);

}  // namespace ms
