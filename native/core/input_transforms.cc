// No fused multiply-add: the LoRA delta and the row averages round every op (see the header).
#pragma GCC optimize("fp-contract=off")
#include "input_transforms.h"

#include <algorithm>
#include <cmath>

#include "errors.h"
#include "kernels/common.h"

namespace ms {

namespace {

constexpr uint64_t kPieceBytes = uint64_t(1) << 20;

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

bool float_dtype(StDtype st, DType* out) {
  switch (st) {
    case StDtype::F32: *out = DType::F32; return true;
    case StDtype::F16: *out = DType::F16; return true;
    case StDtype::BF16: *out = DType::BF16; return true;
    default: return false;
  }
}

TensorRead adapter_tensor(const ModelSource& adapter, const std::string& name, const std::string& target) {
  const ModelTensor* t = adapter.find(name);
  if (!t)
    throw MergeError(ErrorCode::MODEL_TENSOR_MISSING,
                     "LoRA adapter " + adapter.path() + " has no tensor '" + name + "' (needed for '" + target + "')");
  DType dt;
  if (!float_dtype(t->info.dtype, &dt))
    throw MergeError(ErrorCode::MODEL_DTYPE_UNSUPPORTED, "LoRA tensor '" + name + "' in " + adapter.path() + " has dtype " +
                                                             st_dtype_name(t->info.dtype) + "; only F32, F16 and BF16 adapters are supported");
  if (t->info.shape.size() != 2)
    throw MergeError(ErrorCode::MODEL_SHAPE_MISMATCH,
                     "LoRA tensor '" + name + "' in " + adapter.path() + " has shape " + shape_str(t->info.shape) + "; expected a matrix");
  return TensorRead{&adapter, t, dt};
}

}  // namespace

void read_f32(float* dst, const TensorRead& t, uint64_t e0, uint64_t count, std::vector<uint8_t>* staging) {
  const uint64_t es = dtype_size(t.storage);
  if (t.storage == DType::F32) {
    t.source->read_part(dst, *t.tensor, e0 * es, count * es);
    return;
  }
  const uint64_t per_piece = kPieceBytes / es;
  if (staging->size() < kPieceBytes) staging->resize(kPieceBytes);
  for (uint64_t done = 0; done < count;) {
    const uint64_t m = std::min(per_piece, count - done);
    t.source->read_part(staging->data(), *t.tensor, (e0 + done) * es, m * es);
    widen_stream(dst + done, staging->data(), t.storage, m);
    done += m;
  }
}

LoraApply resolve_lora(const ModelSource& adapter, const LoraTarget& target, const ModelTensor& weight,
                       const std::string& model_path) {
  LoraApply l;
  l.a = adapter_tensor(adapter, target.a_name, target.tensor);
  l.b = adapter_tensor(adapter, target.b_name, target.tensor);
  l.transpose = target.transpose;
  l.scale = float(target.scale);
  if (!std::isfinite(target.scale))
    throw MergeError(ErrorCode::RECIPE_INVALID, "LoRA scale for '" + target.tensor + "' is not finite");
  const auto& as = l.a.tensor->info.shape;  // [r, q]
  const auto& bs = l.b.tensor->info.shape;  // [p, r]
  const auto& ws = weight.info.shape;
  if (as[0] != bs[1])
    throw MergeError(ErrorCode::MODEL_SHAPE_MISMATCH, "LoRA adapter " + adapter.path() + ": '" + target.a_name + "' " +
                                                          shape_str(as) + " and '" + target.b_name + "' " + shape_str(bs) +
                                                          " disagree on the rank");
  const std::vector<uint64_t> want = target.transpose ? std::vector<uint64_t>{as[1], bs[0]} : std::vector<uint64_t>{bs[0], as[1]};
  if (ws != want)
    throw MergeError(ErrorCode::MODEL_SHAPE_MISMATCH,
                     "LoRA adapter " + adapter.path() + " targets '" + target.tensor + "' with a delta of shape " +
                         shape_str(want) + " but the tensor has shape " + shape_str(ws) + " in " + model_path +
                         " (is the adapter for this model?)");
  return l;
}

// Shape: B [p, r] @ A [r, q]; one row of B @ A at a time (q floats of scratch),
// accumulated over k ascending so every element sees the same operation order
// as the plain dot product sum_k B[i][k] * A[k][j] starting from +0.
void apply_lora(float* w, uint64_t rows_loaded, uint64_t cols_loaded, DType storage, const LoraApply& l,
                std::vector<uint8_t>* staging) {
  const uint64_t r = l.a.tensor->info.shape[0];
  const uint64_t q = l.a.tensor->info.shape[1];
  const uint64_t p = l.b.tensor->info.shape[0];
  std::vector<float> a(kern::mul_size(r, q, "LoRA A")), b(kern::mul_size(p, r, "LoRA B")), row(q);
  read_f32(a.data(), l.a, 0, a.size(), staging);
  read_f32(b.data(), l.b, 0, b.size(), staging);
  // Rows of B @ A that touch the loaded sub-matrix: i < rows_loaded (or < cols_loaded when transposed).
  const uint64_t p_used = std::min(p, l.transpose ? cols_loaded : rows_loaded);
  const uint64_t q_used = std::min(q, l.transpose ? rows_loaded : cols_loaded);
  for (uint64_t i = 0; i < p_used; ++i) {
    std::fill(row.begin(), row.begin() + q_used, 0.0f);
    for (uint64_t k = 0; k < r; ++k) {
      const float bik = b[i * r + k];
      const float* ak = a.data() + k * q;
      for (uint64_t j = 0; j < q_used; ++j) {
        const float prod = bik * ak[j];
        row[j] = row[j] + prod;
      }
    }
    for (uint64_t j = 0; j < q_used; ++j) {
      const float d = row[j] * l.scale;
      float* x = l.transpose ? &w[j * cols_loaded + i] : &w[i * cols_loaded + j];
      *x = round_to(storage, *x + d);
    }
  }
}

void validate_row_gather(const RowGather& g, uint64_t cols, const std::string& tensor, const std::string& model_path) {
  const EmbedRowMap& m = *g.map;
  auto fail = [&](const std::string& why) {
    throw MergeError(ErrorCode::RECIPE_INVALID, "embedding row map of '" + tensor + "' for " + model_path + ": " + why);
  };
  const uint64_t rows = m.rows;
  const uint64_t filled_to = std::min(m.pad_from, rows);
  std::vector<uint8_t> seen(filled_to, 0);
  auto check_source = [&](int32_t src, uint64_t row0, uint64_t count) {
    if (src == kZeroRows) return;
    if (src < kBaseModel || size_t(src + 1) >= g.sources.size() || !g.source(src).tensor)
      fail("source model " + std::to_string(src) + " is not an input of this tensor");
    const auto& s = g.source(src).tensor->info.shape;
    if (s.size() != 2 || s[1] != cols) fail("source model " + std::to_string(src) + " has shape " + shape_str(s) + ", expected " + std::to_string(cols) + " columns");
    if (row0 > s[0] || count > s[0] - row0) fail("source rows [" + std::to_string(row0) + ", " + std::to_string(row0 + count) + ") outside " + shape_str(s));
  };
  auto mark = [&](uint64_t row0, uint64_t count) {
    if (row0 > filled_to || count > filled_to - row0) fail("output rows [" + std::to_string(row0) + ", " + std::to_string(row0 + count) + ") outside [0, " + std::to_string(filled_to) + ")");
    for (uint64_t i = row0; i < row0 + count; ++i) {
      if (seen[i]) fail("output row " + std::to_string(i) + " is filled twice");
      seen[i] = 1;
    }
  };
  for (const RowRun& run : m.runs) {
    check_source(run.src, run.src_row, run.count);
    mark(run.out_row, run.count);
  }
  for (const RowAverage& avg : m.averages) {
    if (avg.sources.empty()) fail("an averaged row has no sources");
    for (const auto& [src, row] : avg.sources) {
      if (src == kZeroRows) fail("an averaged row cannot read zeros");
      check_source(src, row, 1);
    }
    mark(avg.out_row, 1);
  }
  for (uint64_t i = 0; i < filled_to; ++i)
    if (!seen[i]) fail("output row " + std::to_string(i) + " has no source");
  if (m.pad_from < rows && m.pad_from == 0) fail("pad rows need at least one vocabulary row");
}

void gather_rows(float* out, const RowGather& g, uint64_t cols, std::vector<uint8_t>* staging) {
  for (const RowRun& run : g.map->runs) {
    float* dst = out + run.out_row * cols;
    if (run.src == kZeroRows) std::fill(dst, dst + run.count * cols, 0.0f);
    else read_f32(dst, g.source(run.src), run.src_row * cols, run.count * cols, staging);
  }
}

void finish_rows(float* out, const RowGather& g, uint64_t cols, DType compute, std::vector<uint8_t>* staging) {
  const EmbedRowMap& m = *g.map;
  std::vector<float> row(cols), acc(cols);
  for (const RowAverage& avg : m.averages) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (const auto& [src, r] : avg.sources) {
      read_f32(row.data(), g.source(src), r * cols, cols, staging);
      for (uint64_t j = 0; j < cols; ++j) acc[j] = round_to(compute, acc[j] + round_to(compute, row[j]));
    }
    const float count = float(avg.sources.size());
    float* dst = out + avg.out_row * cols;
    for (uint64_t j = 0; j < cols; ++j) dst[j] = round_to(compute, acc[j] / count);
  }
  if (m.pad_from < m.rows) {
    std::vector<double> sum(cols, 0.0);
    for (uint64_t i = 0; i < m.pad_from; ++i)
      for (uint64_t j = 0; j < cols; ++j) sum[j] += double(out[i * cols + j]);
    for (uint64_t j = 0; j < cols; ++j) row[j] = round_to(compute, float(sum[j] / double(m.pad_from)));
    for (uint64_t i = m.pad_from; i < m.rows; ++i) std::copy(row.begin(), row.end(), out + i * cols);
  }
}

}  // namespace ms
