// Per-input transforms: what happens to ONE model's tensor while it is loaded
// into its f32 array, before any merge method sees it. They key on (model,
// input tensor name) only, so they compose with any plan of which inputs feed
// which output tensor.
//
//  * LoRA (PEFT adapter applied on the fly, mergekit `model+lora`):
//      W' = round_to(storage(W), W + (B @ A) * scale)        (all in f32)
//    B @ A is summed over the rank in ascending order starting from +0, one
//    rounding per multiply and per add (no FMA), then multiplied by
//    float(scale); the sum with W is rounded once to W's storage dtype, as
//    peft's merge_and_unload + save in W's dtype does. Shapes: A [r, in],
//    B [out, r]; W is [out, in], or [in, out] when `transpose` (PEFT
//    fan_in_fan_out, and embedding adapters: lora_embedding_A [r, vocab],
//    lora_embedding_B [dim, r]).
//
//  * Embedding row map (mergekit tokenizer_source, PermutedEmbeddings): the
//    model's embedding / lm_head matrix rebuilt in the OUTPUT vocabulary. Every
//    output row comes from exactly one of: a run of rows of some model's same
//    tensor (the model itself, or the donor model for a token it lacks),
//    zeros, or the average of several models' rows (tokens several models have
//    but neither this model nor the base). Averages are computed in the compute
//    dtype like torch does on the gathered tensors: acc = 0; acc = R(acc + row)
//    in source order; R(acc / count). Rows >= pad_from (tokenizer
//    pad_to_multiple_of) get the column mean of rows [0, pad_from) of the
//    rebuilt matrix (f64 sum in row order, rounded once; torch's own reduction
//    order may differ in the last bit).
//
// Sources name models as in EngineRequest: kBaseModel (-1) is the base model,
// 0..M-1 the request's models, kZeroRows (-2) zeros.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dtype.h"
#include "model_source.h"

namespace ms {

constexpr int32_t kBaseModel = -1;
constexpr int32_t kZeroRows = -2;

struct LoraTarget {
  std::string tensor;  // the model's tensor the delta is added to, e.g. model.layers.0.self_attn.q_proj.weight
  std::string a_name;  // adapter tensors (in the adapter file)
  std::string b_name;
  double scale = 1;    // lora_alpha / r (or / sqrt(r) with rslora); applied as float(scale)
  bool transpose = false;
};

struct LoraAdapter {
  std::string path;                 // adapter_model.safetensors
  std::vector<LoraTarget> targets;  // at most one per tensor
};

struct RowRun {
  uint64_t out_row = 0;
  uint64_t count = 0;
  int32_t src = kZeroRows;  // kBaseModel, a model index, or kZeroRows
  uint64_t src_row = 0;
};

struct RowAverage {
  uint64_t out_row = 0;
  std::vector<std::pair<int32_t, uint64_t>> sources;  // (model, row), summed in this order
};

struct EmbedRowMap {
  uint64_t rows = 0;                 // rows of the rebuilt matrix
  std::vector<RowRun> runs;
  std::vector<RowAverage> averages;
  uint64_t pad_from = UINT64_MAX;    // rows >= pad_from: column mean of rows [0, pad_from)
};

struct InputTransforms {
  std::shared_ptr<const LoraAdapter> lora;       // null: no adapter
  std::shared_ptr<const EmbedRowMap> embed_rows; // null: rows as stored (or cut to the base's)
  bool empty() const { return !lora && !embed_rows; }
};

// One tensor of one model, as a byte source of f32 values.
struct TensorRead {
  const ModelSource* source = nullptr;
  const ModelTensor* tensor = nullptr;
  DType storage = DType::F32;
};

// Reads elements [e0, e0 + count) (storage order) of `t` into dst as f32,
// through `staging` (1 MiB pieces, no full-size raw copy).
void read_f32(float* dst, const TensorRead& t, uint64_t e0, uint64_t count, std::vector<uint8_t>* staging);

// LoRA resolved against one model's tensor: the adapter matrices to read.
struct LoraApply {
  TensorRead a, b;  // a: [r, q], b: [p, r]
  float scale = 1;
  bool transpose = false;  // delta = (B @ A)^T
};

// Checks an adapter target against the model tensor it modifies (shapes, rank)
// and returns what apply_lora needs. Throws MergeError MODEL_SHAPE_MISMATCH /
// MODEL_DTYPE_UNSUPPORTED naming both files.
LoraApply resolve_lora(const ModelSource& adapter, const LoraTarget& target, const ModelTensor& weight,
                       const std::string& model_path);

// w: the model tensor (shape `full`: [rows, cols] of the stored weight), loaded
// as its top-left [rows_loaded, cols_loaded] sub-matrix (an embedding cut to the
// base's shape) in row-major order with row stride cols_loaded.
// w[i][j] = round_to(storage, w[i][j] + float(sum_k B[i][k] A[k][j]) * scale).
// Shape: B [p, r] @ A [r, q] = [p, q]; W = that or its transpose.
void apply_lora(float* w, uint64_t rows_loaded, uint64_t cols_loaded, DType storage, const LoraApply& l,
                std::vector<uint8_t>* staging);

// Row gather for one input: `sources[s]` is the tensor of model s (index
// kBaseModel + 1 + s: 0 = base, 1.. = models). out: [map.rows, cols].
struct RowGather {
  const EmbedRowMap* map = nullptr;
  std::vector<TensorRead> sources;  // indexed by src + 1 (base first); entries unused by the map may be empty
  const TensorRead& source(int32_t src) const { return sources[size_t(src + 1)]; }
};

// Checks a row map against the tensors it reads (every output row covered once,
// source rows in range, equal column counts). Throws MergeError RECIPE_INVALID.
void validate_row_gather(const RowGather& g, uint64_t cols, const std::string& tensor, const std::string& model_path);

// Fills out [map.rows, cols] with the run rows and zeros (values exact from storage).
void gather_rows(float* out, const RowGather& g, uint64_t cols, std::vector<uint8_t>* staging);

// Then, after `out` is in the compute dtype: averaged rows and pad rows.
// R = round_to(compute, .).
void finish_rows(float* out, const RowGather& g, uint64_t cols, DType compute, std::vector<uint8_t>* staging);

}  // namespace ms
