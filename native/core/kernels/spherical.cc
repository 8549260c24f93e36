// nuslerp, multislerp and karcher: spherical interpolations of the models (or,
// with a base model, of their task vectors). Each is a few float64 reduction
// passes (kernels/reduce.h, fixed order) that give per-vector coefficients,
// then one elementwise pass that writes `out` (so `out` may alias an input).
//
// Two arithmetic modes (reduce.h): float32 compute evaluates the formulas in
// float64 and rounds once (closest to torch's float32 result, which carries
// its own rounding noise: golden README, within 7.5e-9); F16/BF16 compute
// mirrors mergekit's torch op sequence in the dtype (every intermediate --
// norms, cosines, angles -- rounded to it), which reproduces the golden
// expected_native files bit for bit.
// Semantics: test/fixtures/golden/README.md "Method semantics"; docs/merge-methods.md.
#pragma GCC optimize("fp-contract=off", "vect-cost-model=dynamic")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "errors.h"
#include "kernels/common.h"
#include "kernels/kernels.h"
#include "kernels/reduce.h"

namespace ms::kern {

namespace {

// ============================================================== nuslerp
//
// shape: models x_0, x_1 [n] (+ base b [n]) -> out [n]; vectors per
// nuslerp_flatten / nuslerp_row_wise (VecLayout), each interpolated with
// t = w_1 / (w_0 + w_1):
//   v_k = b ? R(x_k - b) : x_k;  u_k = R(v_k / max(|v_k|, 1e-7));  cos = sum R(u_0 u_1)
//   th = acos(clamp(cos, -1, 1));  res = (sin((1-t) th) v_0 + sin(t th) v_1) / sin(th)
//   (|sin(th)| < 1e-8: res = (1-t) v_0 + t v_1);  out = b ? R(b + res) : res

VecLayout nuslerp_layout(const Job& job) {
  const MergeParams& p = *job.p;
  const uint64_t n = job.n;
  if (p.nuslerp_flatten || n == 0) return {1, n, false};
  if (p.nuslerp_row_wise) {  // mergekit's dim 0: columns (the opposite of its docs' wording)
    const uint64_t d0 = p.dim0_len ? p.dim0_len : n;
    return {n / d0, d0, true};
  }
  const uint64_t L = p.row_len ? p.row_len : n;
  return {n / L, L, false};
}

struct NuCoef {
  bool lerp = false;
  double c0 = 0, c1 = 0, div = 1;  // res = (c0 v0 + c1 v1) / div   (F64)
  float f0 = 0, f1 = 0, fdiv = 1;  // the same as rounded 16-bit values (mirror)
};

double nuslerp_t(const Job& job) {
  const double w0 = job.mp[0].weight, w1 = job.mp[1].weight;
  return std::fabs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);  // Python floats, as mergekit
}

// Per-worker tile arrays of the contiguous-vector paths.
template <class T>
struct PairTiles {
  std::vector<T> buf;
  T* a(unsigned w) { return buf.data() + uint64_t(w) * 3 * kTile; }
  T* b(unsigned w) { return a(w) + kTile; }
  T* c(unsigned w) { return a(w) + 2 * kTile; }
  explicit PairTiles(unsigned workers) : buf(uint64_t(workers) * 3 * kTile) {}
};

// v0, v1 of one tile: the task vectors (F64: exact in float64; mirror: rounded) or the models.
template <class T, class R>
void nu_inputs(const Job& job, uint64_t e0, uint64_t m, T* v0, T* v1, const R& r) {
  const float* b = job.base ? job.base + e0 : nullptr;
  const float* x0 = job.models[0] + e0;
  const float* x1 = job.models[1] + e0;
  if (b) {
    for (uint64_t j = 0; j < m; ++j) v0[j] = r(T(x0[j]) - T(b[j]));
    for (uint64_t j = 0; j < m; ++j) v1[j] = r(T(x1[j]) - T(b[j]));
  } else {
    for (uint64_t j = 0; j < m; ++j) v0[j] = T(x0[j]);
    for (uint64_t j = 0; j < m; ++j) v1[j] = T(x1[j]);
  }
}

void nuslerp_f64(const Job& job, const VecLayout& lay, double t) {
  const float* b = job.base;
  const float* x0 = job.models[0];
  const float* x1 = job.models[1];
  auto v = [&](const float* x, uint64_t e) { return b ? double(x[e]) - double(b[e]) : double(x[e]); };
  auto id = [](double x) { return x; };
  PairTiles<double> W(job.pool->size());
  const std::vector<double> s =
      lay.strided ? vector_sums(job, lay, 3, [&](uint64_t e, uint64_t, double* acc) {
        const double a = v(x0, e), c = v(x1, e);
        acc[0] += a * a;
        acc[1] += c * c;
        acc[2] += a * c;
      })
                  : vector_tile_sums(job, lay, 3, [&](uint64_t e0, uint64_t m, uint64_t, double* sums, unsigned w) {
                      double *a = W.a(w), *c = W.b(w);
                      nu_inputs(job, e0, m, a, c, id);
                      sums[0] = lane_dot(a, a, m);
                      sums[1] = lane_dot(c, c, m);
                      sums[2] = lane_dot(a, c, m);
                    });
  std::vector<NuCoef> coef(lay.count);
  uint64_t n_lerp = 0;
  for (uint64_t k = 0; k < lay.count; ++k) {
    const double n0 = std::max(std::sqrt(s[k * 3]), 1e-7), n1 = std::max(std::sqrt(s[k * 3 + 1]), 1e-7);
    const double cos = std::min(1.0, std::max(-1.0, s[k * 3 + 2] / (n0 * n1)));
    // Colinear as torch decides it in float32 (its cosine must round to exactly 1),
    // or where the float64 sine vanishes too.
    const float thf = facos(std::min(1.f, std::max(-1.f, float(cos))));
    const double th = std::acos(cos), st = std::sin(th);
    NuCoef& c = coef[k];
    c.lerp = std::fabs(fsin(thf)) < 1e-8f || std::fabs(st) < 1e-8;
    if (c.lerp) {
      c.c0 = 1.0 - t;
      c.c1 = t;
      c.div = 1.0;
      ++n_lerp;
    } else {
      c.c0 = std::sin((1.0 - t) * th);
      c.c1 = std::sin(t * th);
      c.div = st;
    }
  }
  if (job.stats) job.stats->n_fallback = n_lerp;
  if (!job.out) return;
  if (lay.strided) {
    for_elements(job, lay, [&](uint64_t e, uint64_t k) {
      const NuCoef& c = coef[k];
      const double res = (c.c0 * v(x0, e) + c.c1 * v(x1, e)) / c.div;
      job.out[e] = float(b ? double(b[e]) + res : res);
    });
    return;
  }
  for_vector_tiles(job, lay, [&](uint64_t e0, uint64_t m, uint64_t k, unsigned w) {
    const NuCoef& c = coef[k];
    double *p = W.a(w), *q = W.b(w), *res = W.c(w);
    nu_inputs(job, e0, m, p, q, id);
    for (uint64_t j = 0; j < m; ++j) res[j] = (c.c0 * p[j] + c.c1 * q[j]) / c.div;
    float* out = job.out + e0;  // written after every input of the tile was read (out may alias one)
    if (b)
      for (uint64_t j = 0; j < m; ++j) out[j] = float(double(b[e0 + j]) + res[j]);
    else
      for (uint64_t j = 0; j < m; ++j) out[j] = float(res[j]);
  });
}

template <class A>
void nuslerp_mirror(const Job& job, const VecLayout& lay, double t, const A& a) {
  const float* b = job.base;
  const float* x0 = job.models[0];
  const float* x1 = job.models[1];
  auto v = [&](const float* x, uint64_t e) { return b ? a.r(x[e] - b[e]) : x[e]; };
  auto R = [&](float x) { return a.r(x); };
  PairTiles<float> W(job.pool->size());
  const std::vector<double> sq =
      lay.strided ? vector_sums(job, lay, 2, [&](uint64_t e, uint64_t, double* acc) {
        const double p = v(x0, e), q = v(x1, e);
        acc[0] += p * p;
        acc[1] += q * q;
      })
                  : vector_tile_sums(job, lay, 2, [&](uint64_t e0, uint64_t m, uint64_t, double* sums, unsigned w) {
                      float *p = W.a(w), *q = W.b(w);
                      nu_inputs(job, e0, m, p, q, R);
                      sums[0] = lane_dot(p, p, m);
                      sums[1] = lane_dot(q, q, m);
                    });
  const float clamp_min = a.scalar_add(1e-7);  // clamp(min=eps): the scalar in the tensor's dtype
  std::vector<float> nrm(lay.count * 2);       // the clamped norms
  for (uint64_t k = 0; k < lay.count; ++k) {
    nrm[k * 2] = std::max(a.sum(std::sqrt(sq[k * 2])), clamp_min);
    nrm[k * 2 + 1] = std::max(a.sum(std::sqrt(sq[k * 2 + 1])), clamp_min);
  }
  const std::vector<double> dot =
      lay.strided ? vector_sums(job, lay, 1, [&](uint64_t e, uint64_t k, double* acc) {
        const float u0 = a.r(v(x0, e) / nrm[k * 2]), u1 = a.r(v(x1, e) / nrm[k * 2 + 1]);
        acc[0] += double(a.r(u0 * u1));
      })
                  : vector_tile_sums(job, lay, 1, [&](uint64_t e0, uint64_t m, uint64_t k, double* sums, unsigned w) {
                      float *p = W.a(w), *q = W.b(w), *u = W.c(w);
                      nu_inputs(job, e0, m, p, q, R);
                      const float n0 = nrm[k * 2], n1 = nrm[k * 2 + 1];
                      for (uint64_t j = 0; j < m; ++j) u[j] = a.r(a.r(p[j] / n0) * a.r(q[j] / n1));
                      sums[0] = lane_sum(u, m);
                    });
  std::vector<NuCoef> coef(lay.count);
  uint64_t n_lerp = 0;
  const float eps = a.scalar_add(1e-8);
  for (uint64_t k = 0; k < lay.count; ++k) {
    const float cos = std::min(1.f, std::max(-1.f, a.sum(dot[k])));
    const float th = a.r(facos(cos));
    const float st = a.r(fsin(th));
    NuCoef& c = coef[k];
    c.lerp = std::fabs(st) < eps;
    if (c.lerp) {
      c.f0 = a.scalar_mul(1.0 - t);
      c.f1 = a.scalar_mul(t);
      ++n_lerp;
    } else {
      c.f0 = a.r(fsin(a.r(a.scalar_mul(1.0 - t) * th)));
      c.f1 = a.r(fsin(a.r(a.scalar_mul(t) * th)));
      c.fdiv = st;
    }
  }
  if (job.stats) job.stats->n_fallback = n_lerp;
  if (!job.out) return;
  if (lay.strided) {
    for_elements(job, lay, [&](uint64_t e, uint64_t k) {
      const NuCoef& c = coef[k];
      const float p = v(x0, e), q = v(x1, e);
      const float res = c.lerp ? a.r(a.r(c.f0 * p) + a.r(c.f1 * q)) : a.r(a.r(a.r(c.f0 * p) + a.r(c.f1 * q)) / c.fdiv);
      job.out[e] = b ? a.r(b[e] + res) : res;
    });
    return;
  }
  for_vector_tiles(job, lay, [&](uint64_t e0, uint64_t m, uint64_t k, unsigned w) {
    const NuCoef& c = coef[k];
    float *p = W.a(w), *q = W.b(w), *res = W.c(w);
    nu_inputs(job, e0, m, p, q, R);
    const float f0 = c.f0, f1 = c.f1, div = c.lerp ? 1.f : c.fdiv;  // lerp: no division (x / 1 is exact anyway)
    for (uint64_t j = 0; j < m; ++j) res[j] = a.r(a.r(a.r(f0 * p[j]) + a.r(f1 * q[j])) / div);
    float* out = job.out + e0;  // written after every input of the tile was read (out may alias one)
    if (b)
      for (uint64_t j = 0; j < m; ++j) out[j] = a.r(b[e0 + j] + res[j]);
    else
      for (uint64_t j = 0; j < m; ++j) out[j] = res[j];
  });
}

// ============================================================== multislerp
//
// shape: models x_i [n] (+ base b [n]) -> out [n]; the whole tensor is one
// vector per model. T_i = b ? x_i - b : x_i, w = weights (/ sum if
// normalize_weights), u_i = T_i / (|T_i| + eps), mean = sum w_i u_i,
// m = mean / |mean|, tr = sum w_i (u_i - (u_i . m) m), L = |tr| + eps,
// out = (m cos L + tr sin L / L) * sum_i |T_i| w_i (+ b). One model: x_0.
// |mean| < eps: two models -> w_0 T_0 + w_1 T_1 (+ b); more -> error.

[[noreturn]] void multislerp_zero_mean() {
  throw MergeError(ErrorCode::RECIPE_INVALID,
                   "multislerp: the weighted sum of the models' unit vectors is zero (antipodal models whose weights "
                   "balance out, as mergekit reports); use different weights");
}

std::vector<double> multislerp_weights(const Job& job) {
  const uint32_t N = job.n_models;
  std::vector<double> w(N);
  for (uint32_t i = 0; i < N; ++i) w[i] = job.wr[i];  // torch.tensor(weight, dtype): each rounded to the dtype
  return w;
}

void multislerp_f64(const Job& job) {
  const uint32_t N = job.n_models;
  const uint64_t n = job.n;
  const float* b = job.base;
  const VecLayout whole{1, n, false};
  std::vector<double> w = multislerp_weights(job);
  if (job.p->normalize_weights) {
    double s = 0;
    for (double x : w) s += x;
    for (double& x : w) x /= s;
  }
  const double eps = job.p->eps;
  // Gram matrix of the task vectors: every norm, |mean| and (u_i . m) follow from it.
  const uint32_t Q = N * N;
  std::vector<double> G = vector_sums(job, whole, Q, [&](uint64_t e, uint64_t, double* acc) {
    double tv[64];
    for (uint32_t i = 0; i < N; ++i) tv[i] = b ? double(job.models[i][e]) - double(b[e]) : double(job.models[i][e]);
    for (uint32_t i = 0; i < N; ++i)
      for (uint32_t j = i; j < N; ++j) acc[i * N + j] += tv[i] * tv[j];
  });
  for (uint32_t i = 0; i < N; ++i)
    for (uint32_t j = 0; j < i; ++j) G[i * N + j] = G[j * N + i];
  std::vector<double> norm(N), den(N), coef(N);
  for (uint32_t i = 0; i < N; ++i) {
    norm[i] = std::sqrt(G[i * N + i]);
    den[i] = norm[i] + eps;
  }
  double mean2 = 0;
  for (uint32_t i = 0; i < N; ++i)
    for (uint32_t j = 0; j < N; ++j) mean2 += w[i] * w[j] * G[i * N + j] / (den[i] * den[j]);
  const double mn = std::sqrt(std::max(mean2, 0.0));
  if (mn < eps) {
    if (N != 2) multislerp_zero_mean();
    for (uint32_t i = 0; i < N; ++i) coef[i] = w[i];  // linear fallback: w_0 T_0 + w_1 T_1
  } else {
    // d_i = u_i . m; tr = mean - (sum w_i d_i) m = c_tr * mean (0 up to rounding)
    double D = 0;
    for (uint32_t i = 0; i < N; ++i) {
      double di = 0;
      for (uint32_t j = 0; j < N; ++j) di += w[j] * G[i * N + j] / (den[i] * den[j]);
      D += w[i] * di / mn;
    }
    const double c_tr = 1.0 - D / mn;
    const double L = std::fabs(c_tr) * mn + eps;
    double avg_norm = 0;
    for (uint32_t i = 0; i < N; ++i) avg_norm += norm[i] * w[i];
    const double K = (std::cos(L) / mn + c_tr * std::sin(L) / L) * avg_norm;  // out = K * mean (+ b)
    for (uint32_t i = 0; i < N; ++i) coef[i] = K * w[i] / den[i];
  }
  if (!job.out) return;
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    for (uint64_t e = e0; e < e1; ++e) {
      double res = 0;
      for (uint32_t i = 0; i < N; ++i)
        res += coef[i] * (b ? double(job.models[i][e]) - double(b[e]) : double(job.models[i][e]));
      job.out[e] = float(b ? double(b[e]) + res : res);
    }
  });
}

template <class A>
void multislerp_mirror(const Job& job, const A& a) {
  const uint32_t N = job.n_models;
  const uint64_t n = job.n;
  const float* b = job.base;
  const VecLayout whole{1, n, false};
  std::vector<float> w(N);
  for (uint32_t i = 0; i < N; ++i) w[i] = job.wr[i];
  if (job.p->normalize_weights) {
    float s = 0.f;
    for (float x : w) s += x;
    s = a.r(s);
    for (float& x : w) x = a.r(x / s);
  }
  auto tv = [&](uint32_t i, uint64_t e) { return b ? a.r(job.models[i][e] - b[e]) : job.models[i][e]; };
  const std::vector<double> sq = vector_sums(job, whole, N, [&](uint64_t e, uint64_t, double* acc) {
    for (uint32_t i = 0; i < N; ++i) {
      const double x = tv(i, e);
      acc[i] += x * x;
    }
  });
  const float eps_add = a.scalar_add(job.p->eps);
  std::vector<float> norm(N), den(N);
  for (uint32_t i = 0; i < N; ++i) {
    norm[i] = a.sum(std::sqrt(sq[i]));
    den[i] = a.r(norm[i] + eps_add);
  }
  auto unit = [&](uint32_t i, uint64_t e) { return a.r(tv(i, e) / den[i]); };
  // mean (materialized, then normalized in place), |mean|
  float* m = job.scratch->array<float>(0, n);
  const double mean2 = vector_sums(job, whole, 1, [&](uint64_t e, uint64_t, double* acc) {
    float s = 0.f;
    for (uint32_t i = 0; i < N; ++i) s += a.r(unit(i, e) * w[i]);
    m[e] = a.r(s);
    acc[0] += double(m[e]) * m[e];
  })[0];
  const float mn = a.sum(std::sqrt(mean2));
  if (mn < float(job.p->eps)) {
    if (N != 2) multislerp_zero_mean();
    if (!job.out) return;
    for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
      for (uint64_t e = e0; e < e1; ++e) {
        const float res = a.r(a.r(tv(0, e) * w[0]) + a.r(tv(1, e) * w[1]));
        job.out[e] = b ? a.r(res + b[e]) : res;
      }
    });
    return;
  }
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    for (uint64_t e = e0; e < e1; ++e) m[e] = a.r(m[e] / mn);
  });
  const std::vector<double> dsum = vector_sums(job, whole, N, [&](uint64_t e, uint64_t, double* acc) {
    for (uint32_t i = 0; i < N; ++i) acc[i] += double(a.r(unit(i, e) * m[e]));
  });
  std::vector<float> dots(N);
  for (uint32_t i = 0; i < N; ++i) dots[i] = a.sum(dsum[i]);
  float* tr = job.scratch->array<float>(1, n);
  const double tr2 = vector_sums(job, whole, 1, [&](uint64_t e, uint64_t, double* acc) {
    float s = 0.f;
    for (uint32_t i = 0; i < N; ++i) s += a.r(a.r(unit(i, e) - a.r(dots[i] * m[e])) * w[i]);
    tr[e] = a.r(s);
    acc[0] += double(tr[e]) * tr[e];
  })[0];
  const float L = a.r(a.sum(std::sqrt(tr2)) + eps_add);
  const float cl = a.r(fcos(L));
  const float sl = a.r(a.r(fsin(L)) / L);
  float avg = 0.f;
  for (uint32_t i = 0; i < N; ++i) avg += a.r(norm[i] * w[i]);
  avg = a.r(avg);
  if (!job.out) return;
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    for (uint64_t e = e0; e < e1; ++e) {
      const float res = a.r(a.r(a.r(m[e] * cl) + a.r(tr[e] * sl)) * avg);
      job.out[e] = b ? a.r(res + b[e]) : res;
    }
  });
}

// ============================================================== karcher
//
// shape: inputs X_k [n] (the models in recipe order, then the base when
// given: mergekit averages the base tensor too) -> out [n]; alpha_k = 1/N.
// Riemannian mean on the unit sphere of the unit vectors u_k = X_k / |X_k|,
// scaled by sum alpha_k |X_k| (golden README "karcher"). Only the current
// mean u is stored; the tangent T = sum a_k (th_k / sin th_k)(u_k - d_k u)
// is recomputed elementwise from per-input scalars.

struct KarcherInputs {
  std::vector<const float*> x;
  uint32_t size() const { return uint32_t(x.size()); }
};

KarcherInputs karcher_inputs(const Job& job) {
  KarcherInputs in;
  for (uint32_t i = 0; i < job.n_models; ++i) in.x.push_back(job.models[i]);
  if (job.base) in.x.push_back(job.base);
  return in;
}

template <class A>
void karcher_impl(const Job& job, const A& a) {
  using T = typename A::T;
  const KarcherInputs in = karcher_inputs(job);
  const uint32_t N = in.size();
  const uint64_t n = job.n;
  const VecLayout whole{1, n, false};
  const double tol = job.p->tol;
  const bool mirror = !std::is_same<T, double>::value;
  if (N == 1) {  // mergekit returns the only tensor
    if (job.out) for_chunks(job, n, [&](uint64_t e0, uint64_t e1) { std::memmove(job.out + e0, in.x[0] + e0, (e1 - e0) * 4); });
    return;
  }
  // |X_k| as torch.linalg.norm(x.float()).item(): a float32 value (F64: exact)
  const std::vector<double> sq = vector_sums(job, whole, N, [&](uint64_t e, uint64_t, double* acc) {
    for (uint32_t k = 0; k < N; ++k) acc[k] += double(in.x[k][e]) * in.x[k][e];
  });
  std::vector<double> norm(N);
  for (uint32_t k = 0; k < N; ++k) norm[k] = mirror ? double(float(std::sqrt(sq[k]))) : std::sqrt(sq[k]);
  const double alpha = 1.0 / N;
  std::vector<uint32_t> valid;
  for (uint32_t k = 0; k < N; ++k)
    if (norm[k] > tol) valid.push_back(k);
  double scale = 0;
  for (uint32_t k = 0; k < N; ++k) scale += alpha * norm[k];
  if (valid.empty()) {
    if (job.out) for_chunks(job, n, [&](uint64_t e0, uint64_t e1) { std::fill(job.out + e0, job.out + e1, 0.f); });
    return;
  }
  const uint32_t V = uint32_t(valid.size());
  std::vector<double> na(V);
  for (uint32_t j = 0; j < V; ++j) na[j] = alpha / (alpha * V);  // alpha / sum of the valid alphas
  std::vector<float> nf(N);
  for (uint32_t k = 0; k < N; ++k) nf[k] = float(norm[k]);
  // unit vector of input k at e (mirror: (x / float32 norm) rounded to the dtype)
  auto unit = [&](uint32_t k, uint64_t e) -> T {
    if (mirror) return T(a.r(float(in.x[k][e]) / nf[k]));
    return T(double(in.x[k][e]) / norm[k]);
  };
  T* u = job.scratch->array<T>(0, n);
  // initial guess: normalized weighted mean of the unit vectors
  const double u2 = vector_sums(job, whole, 1, [&](uint64_t e, uint64_t, double* acc) {
    T s = 0;
    for (uint32_t j = 0; j < V; ++j) s = a.r(s + a.r(a.scalar_mul(na[j]) * unit(valid[j], e)));
    u[e] = s;
    acc[0] += double(s) * double(s);
  })[0];
  const double norm_u = mirror ? double(float(std::sqrt(u2))) : std::sqrt(u2);
  {
    const T div = a.scalar_mul(norm_u);
    for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
      for (uint64_t e = e0; e < e1; ++e) u[e] = norm_u < tol ? unit(valid[0], e) : a.r(u[e] / div);
    });
  }
  uint64_t iterations = 0;
  std::vector<T> dot(V), coef(V);
  std::vector<bool> use(V);
  for (uint32_t it = 0; it < job.p->max_iter; ++it) {
    const std::vector<double> ds = vector_sums(job, whole, V, [&](uint64_t e, uint64_t, double* acc) {
      for (uint32_t j = 0; j < V; ++j) acc[j] += double(u[e]) * double(unit(valid[j], e));
    });
    bool any = false;
    for (uint32_t j = 0; j < V; ++j) {
      dot[j] = std::min(T(1), std::max(T(-1), a.sum(ds[j])));
      const T th = a.r(T(std::acos(double(dot[j]))));
      use[j] = !(double(th) < tol);
      if (!use[j]) continue;
      any = true;
      coef[j] = a.r(a.scalar_mul(na[j]) * a.r(th / a.r(T(std::sin(double(th))))));
    }
    // T_e, accumulated over the inputs in order (mirror: rounded after each op)
    auto tangent = [&](uint64_t e) {
      T s = 0;
      for (uint32_t j = 0; j < V; ++j)
        if (use[j]) s = a.r(s + a.r(coef[j] * a.r(unit(valid[j], e) - a.r(dot[j] * u[e]))));
      return s;
    };
    const double t2 = any ? vector_sums(job, whole, 1, [&](uint64_t e, uint64_t, double* acc) {
                              const double x = tangent(e);
                              acc[0] += x * x;
                            })[0]
                          : 0.0;
    // torch.linalg.norm(T.float()): a float32 0-dim tensor (F64: exact)
    const double nT = mirror ? double(float(std::sqrt(t2))) : std::sqrt(t2);
    if (nT < tol) break;
    ++iterations;
    const T c = mirror ? a.scalar_op0(fcos(float(nT))) : T(std::cos(nT));
    const T s = mirror ? a.scalar_op0(fsin(float(nT))) : T(std::sin(nT));
    const T divT = a.scalar_mul(nT);
    const double un2 = vector_sums(job, whole, 1, [&](uint64_t e, uint64_t, double* acc) {
      const T nu = a.r(a.r(c * u[e]) + a.r(s * a.r(tangent(e) / divT)));
      u[e] = nu;  // in place: tangent(e) reads only u[e] of the old mean, before this write
      acc[0] += double(nu) * double(nu);
    })[0];
    const double un = mirror ? double(float(std::sqrt(un2))) : std::sqrt(un2);
    if (un > tol) {
      const T div = a.scalar_mul(un);
      for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
        for (uint64_t e = e0; e < e1; ++e) u[e] = a.r(u[e] / div);
      });
    }
  }
  if (job.stats) job.stats->iterations = iterations;
  if (!job.out) return;
  const T sc = a.scalar_mul(scale);
  for_chunks(job, n, [&](uint64_t e0, uint64_t e1) {
    for (uint64_t e = e0; e < e1; ++e) job.out[e] = a.out(a.r(sc * u[e]));
  });
}

}  // namespace

void run_nuslerp(const Job& job) {
  const VecLayout lay = nuslerp_layout(job);
  const double t = nuslerp_t(job);
  if (job.stats) {
    job.stats->has_interpolation_t = true;
    job.stats->interpolation_t = t;
  }
  if (job.n == 0) return;
  if (job.p->compute == DType::F32) nuslerp_f64(job, lay, t);
  else with_mirror(job.p->compute, [&](auto a) { nuslerp_mirror(job, lay, t, a); });
}

void run_multislerp(const Job& job) {
  if (job.n == 0) return;
  if (job.n_models == 1) {  // mergekit returns the only model as is (before any base subtraction)
    if (job.out) for_chunks(job, job.n, [&](uint64_t e0, uint64_t e1) { std::memmove(job.out + e0, job.models[0] + e0, (e1 - e0) * 4); });
    return;
  }
  if (job.p->compute == DType::F32) multislerp_f64(job);
  else with_mirror(job.p->compute, [&](auto a) { multislerp_mirror(job, a); });
}

void run_karcher(const Job& job) {
  if (job.n == 0) return;
  if (job.p->compute == DType::F32) karcher_impl(job, F64Arith{});
  else with_mirror(job.p->compute, [&](auto a) { karcher_impl(job, a); });
}

}  // namespace ms::kern
