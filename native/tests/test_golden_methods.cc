// Golden cases of the second batch (test/fixtures/golden, README "Method
// semantics (mergekit 0.1.4)") for sce, nuslerp, multislerp, karcher,
// arcee_fusion and nearswap, in F32 compute (expected.safetensors) and native
// F16/BF16 compute (expected_native.safetensors).
//
// Tolerances (what this engine achieves; the README's are looser):
//  * native (16-bit) compute: bit-exact at every position, for every method
//    (the kernels mirror mergekit's torch op sequence in the dtype; sce
//    reproduces torch.topk's tie order, so ambiguous_mask positions are
//    compared too);
//  * nearswap: bit-exact in both modes;
//  * F32 compute, 16-bit output: within 1 ULP of the storage dtype;
//  * F32 compute, F32 output: within max(7.5e-9, 1 ULP) -- torch's float32
//    result itself is that far from the exact value (README);
//  * arcee_fusion, F32 compute: the importance mask compares float32 KL
//    divergences whose rounding noise is ~1% (cancellation), so positions whose
//    float64 importance lies within 3% of the float64 threshold may be kept by
//    one engine and not the other; every other position as above.
// Statistics: sce's k, threshold, n_greater/equal/kept_at_threshold exactly.
#include <algorithm>
#include <cmath>
#include <map>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "dtype.h"
#include "errors.h"
#include "golden_util.h"
#include "merge_kernels.h"
#include "test_main.h"
#include "thread_pool.h"

using namespace ms;
using golden::Json;

namespace {

const std::string kDir = "../../test/fixtures/golden";

DType parse_dtype(const std::string& s) {
  if (s == "F16") return DType::F16;
  if (s == "BF16") return DType::BF16;
  return DType::F32;
}

double ulp_of(float x, DType d) {
  const int mant = d == DType::BF16 ? 7 : d == DType::F16 ? 10 : 23;
  int e;
  std::frexp(std::fabs(x) > 0 ? x : 1e-30f, &e);
  return std::ldexp(1.0, e - 1 - mant);
}

// Float64 importance of arcee_fusion (the formula, no rounding) and its threshold.
struct ArceeRef {
  std::vector<double> imp;
  double thr = 0;
};
ArceeRef arcee_ref(const std::vector<float>& x, const std::vector<float>& b, uint64_t L) {
  const uint64_t n = x.size(), rows = n / L;
  ArceeRef r;
  r.imp.resize(n);
  auto softmax = [&](const float* v, std::vector<double>& out) {
    double mx = v[0], s = 0;
    for (uint64_t j = 1; j < L; ++j) mx = std::max(mx, double(v[j]));
    for (uint64_t j = 0; j < L; ++j) s += out[j] = std::exp(double(v[j]) - mx);
    for (uint64_t j = 0; j < L; ++j) out[j] = out[j] / s + 1e-8;
  };
  std::vector<double> p(L), q(L);
  for (uint64_t rw = 0; rw < rows; ++rw) {
    softmax(x.data() + rw * L, p);
    softmax(b.data() + rw * L, q);
    double kl = 0;
    for (uint64_t j = 0; j < L; ++j) kl += p[j] * std::log(p[j] / q[j]);
    for (uint64_t j = 0; j < L; ++j) r.imp[rw * L + j] = std::fabs(double(x[rw * L + j]) - b[rw * L + j]) * kl;
  }
  std::vector<double> s = r.imp;
  std::sort(s.begin(), s.end());
  auto at = [&](double qq) { return s[uint64_t(float(qq) * float(n - 1))]; };
  r.thr = at(0.5) + 1.5 * (at(0.75) - at(0.25));
  return r;
}

struct CaseResult {
  uint64_t positions = 0, compared = 0, mismatched = 0, stat_failures = 0, mask_flips = 0;
  double max_abs = 0, max_ulps = 0;
};

Method method_of(const std::string& m) {
  Method x;
  if (!method_from_name(m, &x)) throw std::runtime_error("unknown method " + m);
  return x;
}

void expect_stat(CaseResult* r, const std::string& what, double got, const Json& want) {
  if (want.is_null()) return;
  if (got != want.num) {
    std::fprintf(stderr, "    stat %s: got %.17g, golden %.17g\n", what.c_str(), got, want.num);
    ++r->stat_failures;
  }
}

CaseResult run_case(const std::string& id, bool native, ThreadPool& pool) {
  CaseResult res;
  const std::string dir = kDir + "/" + id;
  const Json c = golden::parse_json_file(dir + "/case.json");
  const DType storage = parse_dtype(c["storage_dtype"].str);
  const Json& pe = c["parameters_effective"];
  MergeParams p;
  p.method = method_of(c["method"].str);
  p.compute = native ? storage : DType::F32;
  if (pe.has("select_topk")) p.select_topk = pe["select_topk"].num;
  if (pe.has("nuslerp_flatten")) p.nuslerp_flatten = pe["nuslerp_flatten"].b;
  if (pe.has("nuslerp_row_wise")) p.nuslerp_row_wise = pe["nuslerp_row_wise"].b;
  if (pe.has("normalize_weights")) p.normalize_weights = pe["normalize_weights"].b;
  if (pe.has("eps")) p.eps = pe["eps"].num;
  if (pe.has("max_iter")) p.max_iter = uint32_t(pe["max_iter"].num);
  if (pe.has("tol")) p.tol = pe["tol"].num;
  if (pe.has("t")) p.t = pe["t"].num;

  std::vector<ModelParams> mp;
  std::vector<std::map<std::string, golden::StTensor>> models;
  for (const Json& m : c["models"].arr) {
    ModelParams x;
    x.weight = m.has("weight") ? m["weight"].num : 1.0;
    mp.push_back(x);
    models.push_back(golden::load_safetensors(dir + "/" + m["file"].str));
  }
  std::map<std::string, golden::StTensor> base;
  if (!c["base"].is_null()) base = golden::load_safetensors(dir + "/" + c["base"].str);
  const auto expected = golden::load_safetensors(dir + (native ? "/expected_native.safetensors" : "/expected.safetensors"));

  for (const auto& [tname, tj] : c["tensors"].obj) {
    std::vector<uint64_t> shape;
    for (const Json& d : tj["shape"].arr) shape.push_back(d.u64());
    std::vector<const float*> ptr;
    for (auto& m : models) ptr.push_back(m.at(tname).f.data());
    const uint64_t n = models[0].at(tname).f.size();
    const float* bp = base.empty() ? nullptr : base.at(tname).f.data();
    p.row_len = shape.back();
    p.dim0_len = shape.front();
    std::vector<float> out(n);
    TensorStats st;
    merge_tensor(out.data(), &st, bp, ptr.data(), uint32_t(ptr.size()), n, mp.data(), p, pool);

    const golden::StTensor& want_t = expected.at(tname);
    // mergekit's output dtype: the storage dtype, except arcee_fusion's native float32
    const DType out_dt = parse_dtype(want_t.dtype);
    const bool exact = native || p.method == Method::Nearswap;
    ArceeRef aref;
    const bool arcee_f32 = p.method == Method::ArceeFusion && !native;
    if (arcee_f32) aref = arcee_ref(models[0].at(tname).f, base.at(tname).f, shape.back());
    res.positions += n;
    uint64_t shown = 0;
    for (uint64_t j = 0; j < n; ++j) {
      ++res.compared;
      const float got = round_to(out_dt, out[j]);
      const float want = want_t.f[j];
      const double ad = std::fabs(double(got) - want);
      const double ulps = ad / ulp_of(want, out_dt);
      res.max_abs = std::max(res.max_abs, ad);
      res.max_ulps = std::max(res.max_ulps, ulps);
      bool ok;
      if (exact) ok = f32_bits(got) == f32_bits(want);
      else if (out_dt == DType::F32) ok = ad <= std::max(7.5e-9, ulp_of(want, DType::F32));
      else ok = ulps <= 1.0;
      if (!ok && arcee_f32 && std::fabs(aref.imp[j] - aref.thr) <= 0.03 * std::fabs(aref.thr)) {
        ++res.mask_flips;  // a near-threshold mask decision (see the top of the file)
        ok = true;
      }
      if (!ok) {
        ++res.mismatched;
        if (shown++ < 5)
          std::fprintf(stderr, "    %s %s [%llu]: got %a, expected %a\n", id.c_str(), tname.c_str(), (unsigned long long)j,
                       got, want);
      }
    }
    const char* key = native ? "stats_native_compute" : "stats";
    if (p.method == Method::Sce && tj.has(key)) {
      const Json& gs = tj[key];
      const std::string pre = id + "/" + tname + "." + key + ".";
      for (const ModelTensorStats& m : st.models) {
        if (!gs.has("k")) {  // select_topk >= 1: nothing trimmed
          if (m.trimmed || m.k != n) ++res.stat_failures;
          continue;
        }
        expect_stat(&res, pre + "k", double(m.k), gs["k"]);
        if (!gs["threshold_f32_hex"].is_null()) {
          const uint32_t hex = uint32_t(std::stoul(gs["threshold_f32_hex"].str, nullptr, 16));
          if (!m.threshold_valid || f32_bits(m.threshold) != hex) {
            std::fprintf(stderr, "    stat %sthreshold: got %08x, golden %08x\n", pre.c_str(), f32_bits(m.threshold), hex);
            ++res.stat_failures;
          }
        }
        expect_stat(&res, pre + "n_greater_than_threshold", double(m.n_greater_than_threshold), gs["n_greater_than_threshold"]);
        expect_stat(&res, pre + "n_equal_to_threshold", double(m.n_equal_to_threshold), gs["n_equal_to_threshold"]);
        expect_stat(&res, pre + "n_kept_at_threshold", double(m.n_kept_at_threshold), gs["n_kept_at_threshold"]);
      }
    }
  }
  return res;
}

void run_method(const std::string& method) {
  const Json index = golden::parse_json_file(kDir + "/index.json");
  ThreadPool pool(2);
  int n_cases = 0;
  for (const Json& e : index["cases"].arr) {
    if (e["method"].str != method) continue;
    const std::string id = e["id"].str;
    for (int native = 0; native <= (e["storage_dtype"].str != "F32" ? 1 : 0); ++native) {
      CaseResult r;
      try {
        r = run_case(id, native != 0, pool);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "    %s: exception %s\n", id.c_str(), ex.what());
        CHECK(false);
        continue;
      }
      std::printf("  golden %-42s %-6s %s: %llu/%llu compared, %llu mismatched, %llu near-threshold mask flips, "
                  "%llu stat failures, max |diff| %.3g (%.2g ULP)\n",
                  id.c_str(), native ? "native" : "f32", (r.mismatched || r.stat_failures) ? "FAIL" : "ok",
                  (unsigned long long)r.compared, (unsigned long long)r.positions, (unsigned long long)r.mismatched,
                  (unsigned long long)r.mask_flips, (unsigned long long)r.stat_failures, r.max_abs, r.max_ulps);
      CHECK_EQ(r.mismatched, uint64_t(0));
      CHECK_EQ(r.stat_failures, uint64_t(0));
      // near-threshold flips are rare: at most 0.5% of the positions
      CHECK(r.mask_flips * 200 <= r.positions);
      ++n_cases;
    }
  }
  CHECK(n_cases > 0);
}

}  // namespace

TEST(golden_sce) { run_method("sce"); }
TEST(golden_nuslerp) { run_method("nuslerp"); }
TEST(golden_multislerp) { run_method("multislerp"); }
TEST(golden_karcher) { run_method("karcher"); }
TEST(golden_arcee_fusion) { run_method("arcee_fusion"); }
TEST(golden_nearswap) { run_method("nearswap"); }
