// torch's CPU sum of a whole contiguous float32 / bfloat16 tensor, in its
// exact order of float32 additions (aten/src/ATen/native/cpu/SumKernel.cpp,
// cascade_sum -> vectorized_inner_sum -> row_sum -> multi_row_sum), so the
// L1 rescale of mergekit's DARE and DELLA divides by bit-identical sums.
//
// Vectorized<float> has kTorchSumLanes lanes: 8, torch's AVX2 kernels, the
// build the golden cases come from (16 lanes -- ATEN_CPU_CAPABILITY=avx512 --
// would change the order; the F32 DELLA cases tell them apart and match only
// with 8). A "vector element" is 8 floats (F32 input) or 2 * 8 bf16 values
// whose two halves are added lane by lane on load (BF16 input). Elements are
// summed in an ILP-4 cascade of four levels (multi_row_sum), leftover vectors
// into the first partial, the four partials in order, then the scalar tail
// into 0 and the lanes in order. The result is rounded to the tensor dtype by
// the caller (torch stores the float accumulator into the output dtype).
//
// torch takes this path serially when the tensor has fewer than 32768
// elements or torch runs one thread; with more threads it splits larger
// tensors into one range per thread and adds the per-thread sums, which this
// function does not model (docs/merge-methods.md).
#pragma once
#include <algorithm>
#include <cstdint>

namespace ms::kern {

constexpr int kTorchSumLanes = 8;  // Vectorized<float> under AVX2

namespace torch_sum_detail {

// utils::CeilLog2
inline int64_t ceil_log2(int64_t x) { return x <= 2 ? 1 : (63 - __builtin_clzll(uint64_t(x - 1))) + 1; }

template <int L>
struct Vec {
  float v[L];
  void zero() { for (int l = 0; l < L; ++l) v[l] = 0.f; }
  void add(const Vec& o) { for (int l = 0; l < L; ++l) v[l] += o.v[l]; }
};

// multi_row_sum<vacc, 4> + row_sum over `size` vector elements; load(e, &vec).
template <int L, class Load>
Vec<L> row_sum(int64_t size, const Load& load) {
  constexpr int64_t kIlp = 4, kLevels = 4;
  const int64_t size_ilp = size / kIlp;
  Vec<L> acc[kLevels][kIlp];
  for (auto& a : acc)
    for (auto& b : a) b.zero();
  const int64_t level_power = std::max<int64_t>(4, ceil_log2(size_ilp) / kLevels);
  const int64_t level_step = int64_t(1) << level_power;
  const int64_t level_mask = level_step - 1;
  Vec<L> x;
  int64_t i = 0;
  for (; i + level_step <= size_ilp;) {
    for (int64_t j = 0; j < level_step; ++j, ++i)
      for (int64_t k = 0; k < kIlp; ++k) {
        load(i * kIlp + k, &x);
        acc[0][k].add(x);
      }
    for (int64_t j = 1; j < kLevels; ++j) {
      for (int64_t k = 0; k < kIlp; ++k) {
        acc[j][k].add(acc[j - 1][k]);
        acc[j - 1][k].zero();
      }
      if ((i & (level_mask << (j * level_power))) != 0) break;
    }
  }
  for (; i < size_ilp; ++i)
    for (int64_t k = 0; k < kIlp; ++k) {
      load(i * kIlp + k, &x);
      acc[0][k].add(x);
    }
  for (int64_t j = 1; j < kLevels; ++j)
    for (int64_t k = 0; k < kIlp; ++k) acc[0][k].add(acc[j][k]);
  // row_sum: leftover elements into partial 0, then the partials in order
  for (int64_t e = size_ilp * kIlp; e < size; ++e) {
    load(e, &x);
    acc[0][0].add(x);
  }
  for (int64_t k = 1; k < kIlp; ++k) acc[0][0].add(acc[0][k]);
  return acc[0][0];
}

}  // namespace torch_sum_detail

// sum of value(j) for j in [0, n), value(j) a float (exactly a bf16 value when
// bf16 is true), in torch's order for a float32 (bf16 false) or bfloat16
// tensor. Returns the float32 accumulator.
template <class Value>
float torch_sum(uint64_t n, bool bf16, const Value& value) {
  using namespace torch_sum_detail;
  constexpr int L = kTorchSumLanes;
  const int64_t vec_numel = bf16 ? 2 * L : L;
  if (int64_t(n) < vec_numel) {
    // scalar_inner_sum: row_sum<float> with one-float "vectors"
    const Vec<1> s = row_sum<1>(int64_t(n), [&](int64_t e, Vec<1>* x) { x->v[0] = value(uint64_t(e)); });
    return 0.f + s.v[0];
  }
  const int64_t vec_size = int64_t(n) / vec_numel;
  const Vec<L> acc = row_sum<L>(vec_size, [&](int64_t e, Vec<L>* x) {
    const uint64_t b = uint64_t(e) * uint64_t(vec_numel);
    if (bf16)
      for (int l = 0; l < L; ++l) x->v[l] = value(b + l) + value(b + L + l);  // load_fp32_from_bf16: halves added
    else
      for (int l = 0; l < L; ++l) x->v[l] = value(b + l);
  });
  float total = 0.f;
  for (uint64_t k = uint64_t(vec_size * vec_numel); k < n; ++k) total += value(k);
  for (int l = 0; l < L; ++l) total += acc.v[l];
  return total;
}

}  // namespace ms::kern
