// Elementwise tile operations (m <= kern::kTile elements each), the building
// blocks of every merge kernel. Each is one simple loop the compiler
// vectorizes, dispatched at load time to AVX-512 / AVX2 / baseline with
// bit-identical results (see simd.h).
//
// `r` is the rounding applied after each elementwise op: F32 = none (F32
// compute), F16 / BF16 = round the F32 result to that dtype (native compute,
// mergekit's default of computing in the storage dtype: torch evaluates each
// F16/BF16 op in F32 and rounds the result once).
// Arrays passed to one call must not overlap unless stated.
#pragma once
#include <cstdint>

#include "dtype.h"

namespace ms::kern {

constexpr uint32_t kNoCandidate = 0xffffffffu;  // margin key of a non-candidate position (above every real key)

// keys[j] = mag_key(R(x[j] - b[j]))
void t_delta_keys(uint32_t* keys, const float* x, const float* b, uint64_t m, DType r);
// d = R(x[j] - b[j]); dt[j] = mag_key(d) >= tc ? d : 0     (tc = 0 keeps all)
void t_delta_trim(float* dt, const float* x, const float* b, uint64_t m, DType r, uint32_t tc);
// Fused t_delta_trim + t_weigh_sum / t_weigh_count (count = true):
// d = R(x - b); dt = mag_key(d) >= tc ? d : 0; wd = R(wr * dt); acc += wd or sign(wd)
void t_trim_weigh(float* dt, float* wd, float* acc, const float* x, const float* b, uint64_t m, DType r, uint32_t tc,
                  float wr, bool count);
// breadcrumbs: dt[j] = mag_key(dt[j]) >= tu ? 0 : dt[j]   (removes the top outliers)
void t_cut_top(float* dt, uint64_t m, uint32_t tu);
// DARE: keep_j = dare_u53(stream, j0 + j) < thr (kernels/dare_rng.h);
// dt[j] = keep_j ? (scale ? R(dt[j] * ratio) : dt[j]) : 0. Returns the number kept.
uint64_t t_dare_mask(float* dt, uint64_t stream, uint64_t j0, uint64_t m, uint64_t thr, bool scale, float ratio,
                     DType r);
// mergekit-stream masks (kernels/random_trim.h): keep_j = bit (j0 + j) of `bits`;
// dt[j] = keep_j ? (scale ? R(dt[j] * ratio) : dt[j]) : 0. Returns the number kept.
uint64_t t_keep_bits(float* dt, const uint64_t* bits, uint64_t j0, uint64_t m, bool scale, float ratio, DType r);
// DARE rescale sums of one tile: *all = sum |dt[j]|, *kept = sum over kept j, each in
// 8 interleaved float64 lanes (lane = j mod 8) added in lane order (docs/merge-methods.md).
void t_dare_l1(double* all, double* kept, const float* dt, uint64_t stream, uint64_t j0, uint64_t m, uint64_t thr);
// sg[j] = sign(wd[j]) in {+1, 0, -1}: per-entry "elected sign" when a method has no election
void t_sign_of(float* sg, const float* wd, uint64_t m);
// Tile sums for slerp / model_stock, 8 interleaved float64 lanes like t_dare_l1:
// sum a[j] * b[j]
double t_dot(const float* a, const float* b, uint64_t m);
// ---- density sweep (kernels/sweep.cc)
// f[j] = number of levels u with mag_key(d[j]) < tc[u] (the first kept level for nested cuts)
void t_sweep_levels(uint32_t* f, const float* d, uint64_t m, const uint32_t* tc, uint32_t n_levels);
// sig[j] |= state(d[j], wd[j]) << shift; state in 0..7: 0 zero, 1..3 d > 0 with wd > 0 / < 0 / == 0,
// 4..6 d < 0 with wd < 0 / > 0 / == 0, 7 NaN
void t_sweep_state(uint32_t* sig, const float* d, const float* wd, uint64_t m, uint32_t shift);
// sig[j] |= R(acc[j]) >= 0 ? bit : 0       (elected sign of a model subset, sum election)
void t_sweep_majority(uint32_t* sig, const float* acc, uint64_t m, uint32_t bit, DType r);
// cell[j] = cell[j] * radix + f[j]
void t_sweep_cell(uint32_t* cell, const uint32_t* f, uint64_t m, uint32_t radix);
// number of j with keys[j] == t / keys[j] > t
uint64_t t_count_eq(const uint32_t* keys, uint64_t m, uint32_t t);
uint64_t t_count_gt(const uint32_t* keys, uint64_t m, uint32_t t);
// Appends the keys with lo < key < hi to out (in order); returns how many.
// out must have room for m keys.
uint64_t t_collect_between(uint32_t* out, const uint32_t* keys, uint64_t m, uint32_t lo, uint32_t hi);
// wd[j] = R(wr * dt[j]); acc[j] += wd[j]          (election sum / task arithmetic sum; F32 accumulation)
void t_weigh_sum(float* wd, float* acc, const float* dt, float wr, uint64_t m, DType r);
// wd[j] = R(wr * dt[j]); acc[j] += sign(wd[j])    (count election; exact small integers)
void t_weigh_count(float* wd, float* acc, const float* dt, float wr, uint64_t m, DType r);
// maj[j] = R(acc[j]) >= 0 ? +1 : -1   (-0 counts as >= 0; NaN as < 0, like torch)
void t_majority(float* maj, const float* acc, uint64_t m, DType r);
// TIES-SV: mk[j] = margin key mag_key(R(acc[j])) where the favored weighted
// entry wdf[j] is non-zero with a sign != maj[j]; kNoCandidate elsewhere.
void t_sv_margin(uint32_t* mk, const float* acc, const float* wdf, const float* maj, uint64_t m, DType r);
// TIES-SV: where mk[j] < cutoff, maj[j] = sign(wdf[j]). Returns how many.
uint64_t t_sv_reserve(float* maj, const uint32_t* mk, const float* wdf, uint32_t cutoff, uint64_t m);
// c = wd[j] != 0 && sign(wd[j]) == maj[j]: mixed[j] += c ? wd : 0; div[j] += c ? wr : 0; nc[j] += c
void t_contrib(float* mixed, float* div, float* nc, const float* wd, const float* maj, float wr, uint64_t m);
// q = R(mixed); if normalize: d = R(div), q = R(q / (d == 0 ? 1 : d)); if use_lambda: q = R(q * lam);
// res = R(b + q).       res may alias b or mixed.
void t_finish(float* res, const float* b, const float* mixed, const float* div, uint64_t m, DType r,
              bool normalize, bool use_lambda, float lam);
// Same with one divisor for all elements (task arithmetic); div is already rounded and non-zero.
void t_finish_scalar(float* res, const float* b, const float* mixed, float div, uint64_t m, DType r,
                     bool normalize, bool use_lambda, float lam);
// linear: acc[j] += R(wr * x[j])
void t_linear_acc(float* acc, const float* x, float wr, uint64_t m, DType r);
// linear: res[j] = normalize ? R(R(acc[j]) / div) : R(acc[j])     res may alias acc
void t_linear_finish(float* res, const float* acc, uint64_t m, DType r, bool normalize, float div);

// ---- statistics
// pos[j] += dt[j] > 0; neg[j] += dt[j] < 0
void t_signs(float* pos, float* neg, const float* dt, uint64_t m);
uint64_t t_nnz(const float* x, uint64_t m);

struct ModelTileStats {
  uint64_t nnz = 0, contributing = 0, discarded = 0, in_conflict = 0, conflicts_won = 0;
  double l1_discarded = 0;
};
// Adds one model's counts for a tile (dt: trimmed delta, wd: weighted, maj: elected sign,
// pos/neg: per-position counts of positive/negative trimmed entries over all models).
// l1_discarded gets the tile's sum in a fixed order (8 interleaved lanes).
void t_model_stats(ModelTileStats* s, const float* dt, const float* wd, const float* maj, const float* pos,
                   const float* neg, uint64_t m);

// ---- task-vector geometry (TensorStats::has_geometry)
struct GeometryTileStats {
  double sum_sq0 = 0, sum_sq1 = 0, dot = 0;
  uint64_t both_nonzero = 0, signs_agree = 0, mask_intersection = 0, mask_union = 0;
};
// Shape: d0, d1 [m] untrimmed task vectors of models 0 and 1; k0, k1 [m] 1 where the trim keeps
// the position, else 0 (both null: no mask counts). Adds the tile's sums of d0^2, d1^2, d0*d1
// (8 interleaved float64 lanes, lane = j mod 8, combined in lane order) and its counts to *s.
void t_geometry(GeometryTileStats* s, const float* d0, const float* d1, const float* k0, const float* k1, uint64_t m);
// sum d[j]^2 in t_geometry's order
double t_sum_sq(const float* d, uint64_t m);
// keep[j] = all || dt[j] != 0 ? 1 : 0   (kept entries of a magnitude trim with threshold key > 0)
void t_kept(float* keep, const float* dt, uint64_t m, bool all);

struct TensorTileStats {
  uint64_t sign_conflicts = 0, no_contributor = 0, majority_negative = 0;
};
void t_tensor_stats(TensorTileStats* s, const float* pos, const float* neg, const float* nc, const float* maj, uint64_t m);

}  // namespace ms::kern
