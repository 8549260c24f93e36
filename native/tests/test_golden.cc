// Golden cases (test/fixtures/golden, produced from mergekit's semantics):
// every case, in F32 compute vs expected.safetensors and in native F16/BF16
// compute vs expected_native.safetensors, plus the per-tensor statistics of
// case.json.
//
// Values, with mergekit's tie order (the default): bit-exact at every
// position, ambiguous_mask included -- torch's sort order decides those
// positions and the engine reproduces it (the README allows 1 ULP / 4 ULP;
// this engine follows the operation order exactly) -- except slerp and
// model_stock, whose float64 coefficients may differ from mergekit's float32
// ones in the last bit: within the README tolerance (16-bit outputs 1 ULP,
// F32 outputs 4 ULP or 1e-7 absolute). With the index tie rule the
// ambiguous positions are skipped (the README's tolerance for them).
// Breadcrumbs statistics: kept count, the cut values and n_top exactly.
// Statistics: k, threshold, n_greater/equal/kept_at_threshold and
// nnz_trimmed exactly; the other counts exactly under mergekit's rule, within
// n_ambiguous_positions of the golden counts under the index rule;
// "..._unambiguous_positions" counts exactly (computed by the scalar
// reference restricted to ambiguous_mask == 0, after checking that the
// kernel's full statistics equal the reference's).
// della cases (exact given the seed): bit-exact outputs, the kept counts,
// stream positions and keep-probability range of every model, the election
// counts, and each model's keep mask (della_keep_mask*.safetensors) against
// the stream the kernel draws (seeded before each tensor, models in order).
// tie_order cases (exact including the tie order): the expected files byte
// for byte, k / threshold / tie counts, and trim_mask.safetensors (the kept
// set of each trim) against the tie-order selection itself.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <cstring>
#include <string>
#include <vector>

#include "dtype.h"
#include "errors.h"
#include "golden_util.h"
#include "kernel_ref.h"
#include "kernels/kernels.h"
#include "kernels/mt19937.h"
#include "kernels/random_trim.h"
#include "kernels/tie_order.h"
#include "merge_kernels.h"
#include "test_main.h"
#include "thread_pool.h"
#include "topk.h"

using namespace ms;
using golden::Json;

namespace {

const std::string kDir = "../../test/fixtures/golden";

DType parse_dtype(const std::string& s) {
  if (s == "F16") return DType::F16;
  if (s == "BF16") return DType::BF16;
  return DType::F32;
}

// Cut a model tensor to the base's shape (embedding rows/cols), row-major.
std::vector<float> cut_to(const golden::StTensor& t, const std::vector<uint64_t>& shape) {
  if (t.shape == shape) return t.f;
  if (t.shape.size() != 2 || shape.size() != 2 || t.shape[0] < shape[0] || t.shape[1] < shape[1])
    throw std::runtime_error("cannot cut tensor to shape");
  std::vector<float> out(shape[0] * shape[1]);
  for (uint64_t r = 0; r < shape[0]; ++r)
    for (uint64_t c = 0; c < shape[1]; ++c) out[r * shape[1] + c] = t.f[r * t.shape[1] + c];
  return out;
}

struct CaseResult {
  bool ran = false;
  uint64_t positions = 0, compared = 0, mismatched = 0, stat_failures = 0;
  double max_ulps = 0;
};

// Distance in units in the last place of `storage` (values of that dtype).
double ulp_distance(float a, float b, DType storage) {
  if (f32_bits(a) == f32_bits(b)) return 0;
  if (std::isnan(a) || std::isnan(b)) return INFINITY;
  auto ord = [](float x) {  // monotone integer image of the float line
    const int64_t u = int64_t(f32_bits(x));
    return u & 0x80000000 ? -(u & 0x7fffffff) : u;
  };
  const int shift = storage == DType::BF16 ? 16 : storage == DType::F16 ? 13 : 0;  // F16 subnormals: approximate
  return double(std::llabs(ord(a) - ord(b))) / double(int64_t(1) << shift);
}

// Compare one count: exact, or within `slack` of the golden value.
void expect_count(CaseResult* r, const std::string& what, uint64_t got, const Json& want, uint64_t slack) {
  if (want.is_null()) return;
  const uint64_t w = want.u64();
  const uint64_t d = got > w ? got - w : w - got;
  if (d > slack) {
    std::fprintf(stderr, "    stat %s: got %llu, golden %llu (allowed +-%llu)\n", what.c_str(), (unsigned long long)got,
                 (unsigned long long)w, (unsigned long long)slack);
    ++r->stat_failures;
  }
}

void check_stats(CaseResult* r, const std::string& tname, const Json& gs, const TensorStats& st,
                 const TensorStats& unamb, const std::vector<std::string>& roles, bool exact_ties) {
  const uint64_t amb = exact_ties ? 0 : gs["n_ambiguous_positions"].u64();
  const std::string pre = tname + ".";
  expect_count(r, pre + "numel", st.numel, gs["numel"], 0);
  expect_count(r, pre + "sign_conflicts", st.sign_conflicts, gs["sign_conflicts"], amb);
  expect_count(r, pre + "n_positions_no_contributor", st.n_positions_no_contributor, gs["n_positions_no_contributor"], amb);
  expect_count(r, pre + "n_majority_negative", st.n_majority_negative, gs["n_majority_negative"], amb);
  if (gs.has("sign_conflicts_unambiguous_positions"))
    expect_count(r, pre + "sign_conflicts_unambiguous", unamb.sign_conflicts, gs["sign_conflicts_unambiguous_positions"], 0);
  if (gs.has("n_positions_no_contributor_unambiguous_positions"))
    expect_count(r, pre + "no_contributor_unambiguous", unamb.n_positions_no_contributor,
                 gs["n_positions_no_contributor_unambiguous_positions"], 0);
  if (gs.has("n_majority_negative_unambiguous_positions"))
    expect_count(r, pre + "majority_negative_unambiguous", unamb.n_majority_negative,
                 gs["n_majority_negative_unambiguous_positions"], 0);
  for (size_t i = 0; i < roles.size(); ++i) {
    const Json& gm = gs["models"][roles[i]];
    const ModelTensorStats& m = st.models[i];
    const ModelTensorStats& u = unamb.models[i];
    const std::string mp = pre + roles[i] + ".";
    if (gm["k"].is_null()) {
      if (m.trimmed) { std::fprintf(stderr, "    stat %sk: golden null (whole), got trimmed\n", mp.c_str()); ++r->stat_failures; }
    } else {
      expect_count(r, mp + "k", m.k, gm["k"], 0);
      const uint32_t want_hex = uint32_t(std::stoul(gm["threshold_f32_hex"].str, nullptr, 16));
      if (!m.threshold_valid || f32_bits(m.threshold) != want_hex) {
        std::fprintf(stderr, "    stat %sthreshold: got %08x, golden %08x\n", mp.c_str(), f32_bits(m.threshold), want_hex);
        ++r->stat_failures;
      }
      expect_count(r, mp + "n_greater_than_threshold", m.n_greater_than_threshold, gm["n_greater_than_threshold"], 0);
      expect_count(r, mp + "n_equal_to_threshold", m.n_equal_to_threshold, gm["n_equal_to_threshold"], 0);
      expect_count(r, mp + "n_kept_at_threshold", m.n_kept_at_threshold, gm["n_kept_at_threshold"], 0);
    }
    expect_count(r, mp + "nnz_trimmed", m.nnz_trimmed, gm["nnz_trimmed"], 0);
    expect_count(r, mp + "n_discarded_by_sign_election", m.n_discarded_by_sign_election, gm["n_discarded_by_sign_election"], amb);
    expect_count(r, mp + "n_contributing", m.n_contributing, gm["n_contributing"], amb);
    if (gm.has("nnz_trimmed_unambiguous_positions"))
      expect_count(r, mp + "nnz_trimmed_unambiguous", u.nnz_trimmed, gm["nnz_trimmed_unambiguous_positions"], 0);
    if (gm.has("n_discarded_by_sign_election_unambiguous_positions"))
      expect_count(r, mp + "n_discarded_unambiguous", u.n_discarded_by_sign_election,
                   gm["n_discarded_by_sign_election_unambiguous_positions"], 0);
    if (gm.has("n_contributing_unambiguous_positions"))
      expect_count(r, mp + "n_contributing_unambiguous", u.n_contributing, gm["n_contributing_unambiguous_positions"], 0);
  }
}

// Breadcrumbs: cut positions and values exactly; election counts within the
// ambiguous positions (the golden tie-break is arbitrary, ours lowest index first).
void check_breadcrumbs_stats(CaseResult* r, const std::string& tname, const Json& gs, const TensorStats& st,
                             const std::vector<std::string>& roles, bool exact_ties) {
  const uint64_t amb = exact_ties ? 0 : gs["n_ambiguous_positions"].u64();
  const std::string pre = tname + ".";
  expect_count(r, pre + "sign_conflicts", st.sign_conflicts, gs["sign_conflicts"], amb);
  expect_count(r, pre + "n_positions_no_contributor", st.n_positions_no_contributor, gs["n_positions_no_contributor"], amb);
  if (gs.has("n_majority_negative"))  // absent without an election (breadcrumbs)
    expect_count(r, pre + "n_majority_negative", st.n_majority_negative, gs["n_majority_negative"], amb);
  for (size_t i = 0; i < roles.size(); ++i) {
    const Json& gm = gs["models"][roles[i]];
    const ModelTensorStats& m = st.models[i];
    const std::string mp = pre + roles[i] + ".";
    const Json& range = gm["kept_rank_range"];
    expect_count(r, mp + "kept", m.k, Json::number(double(range.arr[1].u64() - range.arr[0].u64())), 0);
    expect_count(r, mp + "n_top_removed", m.n_top_removed, gm["n_top_removed"], 0);
    expect_count(r, mp + "nnz_trimmed", m.nnz_trimmed, gm["nnz_trimmed"], 0);
    expect_count(r, mp + "n_discarded_by_sign_election", m.n_discarded_by_sign_election, gm["n_discarded_by_sign_election"], amb);
    expect_count(r, mp + "n_contributing", m.n_contributing, gm["n_contributing"], amb);
    const float first_kept = float(gm["lower_cut"]["first_kept"].num);
    const float first_dropped = float(gm["upper_cut"]["first_dropped"].num);
    if (!m.threshold_valid || m.threshold != first_kept || !m.top_threshold_valid || m.top_threshold != first_dropped) {
      std::fprintf(stderr, "    stat %scuts: got kept >= %a, removed >= %a; golden %a, %a\n", mp.c_str(), m.threshold,
                   m.top_threshold, first_kept, first_dropped);
      ++r->stat_failures;
    }
  }
}

bool same_full_stats(const TensorStats& a, const TensorStats& b) {
  if (a.sign_conflicts != b.sign_conflicts || a.n_positions_no_contributor != b.n_positions_no_contributor ||
      a.n_majority_negative != b.n_majority_negative || a.models.size() != b.models.size())
    return false;
  for (size_t i = 0; i < a.models.size(); ++i) {
    const auto &x = a.models[i], &y = b.models[i];
    if (x.k != y.k || x.nnz_trimmed != y.nnz_trimmed || x.n_contributing != y.n_contributing ||
        x.n_discarded_by_sign_election != y.n_discarded_by_sign_election || x.in_conflict != y.in_conflict ||
        x.conflicts_won != y.conflicts_won || x.n_equal_to_threshold != y.n_equal_to_threshold)
      return false;
  }
  return true;
}

// tie_order cases: per model, k / threshold / tie counts / nnz of the trim, and
// the kept set of trim_mask.safetensors (where present) against the
// tie-order selection run on the same |delta| keys.
void check_tie_order_trims(CaseResult* r, const std::string& id, const std::string& tname, const Json& tj,
                           const TensorStats& st, const std::vector<std::string>& roles, const ref::Tensor& t,
                           const MergeParams& p, const std::map<std::string, golden::StTensor>& masks, ThreadPool& pool) {
  for (size_t i = 0; i < roles.size(); ++i) {
    const Json& gm = tj["models"][roles[i]];
    const ModelTensorStats& m = st.models[i];
    const std::string mp = id + "/" + tname + "." + roles[i] + ".";
    expect_count(r, mp + "nnz_trimmed", m.nnz_trimmed, gm["nnz_trimmed"], 0);
    const uint64_t n = t.base.size();
    std::vector<uint32_t> keys(n);
    for (uint64_t j = 0; j < n; ++j) keys[j] = mag_key(round_to(p.compute, t.models[i][j] - t.base[j]));
    std::vector<kern::KeyCut> cuts;  // the top sets whose difference is the kept set
    bool ascending = false;
    if (gm.has("kept_rank_range")) {  // breadcrumbs: kept ascending ranks [lo, hi)
      ascending = true;
      const uint64_t lo = gm["kept_rank_range"][0].u64(), hi = gm["kept_rank_range"][1].u64();
      expect_count(r, mp + "kept", m.k, Json::number(double(hi - lo)), 0);
      cuts.push_back({n - lo, 0, {}});
      if (hi < n) cuts.push_back({n - hi, 0, {}});
    } else {
      expect_count(r, mp + "k", m.k, gm["k"], 0);
      expect_count(r, mp + "n_greater_than_threshold", m.n_greater_than_threshold, gm["n_greater_than_threshold"], 0);
      expect_count(r, mp + "n_equal_to_threshold", m.n_equal_to_threshold, gm["n_equal_to_threshold"], 0);
      expect_count(r, mp + "n_kept_at_threshold", m.n_kept_at_threshold, gm["n_kept_at_threshold"], 0);
      const uint32_t want_hex = uint32_t(std::stoul(gm["threshold_f32_hex"].str, nullptr, 16));
      if (f32_bits(m.threshold) != want_hex) {
        std::fprintf(stderr, "    %sthreshold: got %08x, golden %08x\n", mp.c_str(), f32_bits(m.threshold), want_hex);
        ++r->stat_failures;
      }
      cuts.push_back({gm["k"].u64(), 0, {}});
    }
    const auto mk = masks.find(roles[i] + "/" + tname);
    if (mk == masks.end()) continue;
    // each cut's threshold: the k-th key of the ranking (a sort of the keys alone)
    std::vector<uint32_t> sorted = keys;
    std::sort(sorted.begin(), sorted.end(), std::greater<uint32_t>());
    for (kern::KeyCut& c : cuts) c.T = sorted[c.k - 1];
    kern::mergekit_tie_bits(keys.data(), n, ascending, cuts, pool);
    std::vector<uint8_t> in(n, 0);  // top set of cut 0 minus top set of cut 1
    for (size_t c = 0; c < cuts.size(); ++c) {
      uint64_t o = 0;
      for (uint64_t j = 0; j < n; ++j) {
        bool top = keys[j] > cuts[c].T;
        if (keys[j] == cuts[c].T) { top = (cuts[c].bits[o >> 6] >> (o & 63)) & 1; ++o; }
        if (top) in[j] = c == 0 ? 1 : 0;
      }
    }
    uint64_t differ = 0;
    for (uint64_t j = 0; j < n; ++j) differ += in[j] != mk->second.u8[j];
    if (differ) {
      std::fprintf(stderr, "    %strim_mask: %llu positions differ\n", mp.c_str(), (unsigned long long)differ);
      ++r->stat_failures;
    }
  }
}

void check_della_stats(CaseResult* r, const std::string& tname, const Json& gs, const TensorStats& st,
                       const std::vector<std::string>& roles, DType compute) {
  const std::string pre = tname + ".";
  expect_count(r, pre + "sign_conflicts", st.sign_conflicts, gs["sign_conflicts"], 0);
  expect_count(r, pre + "n_positions_no_contributor", st.n_positions_no_contributor, gs["n_positions_no_contributor"], 0);
  for (size_t i = 0; i < roles.size(); ++i) {
    const Json& gm = gs["models"][roles[i]];
    const ModelTensorStats& m = st.models[i];
    const std::string mp = pre + roles[i] + ".";
    expect_count(r, mp + "nnz_after_pruning", m.nnz_trimmed, gm["nnz_after_pruning"], 0);
    expect_count(r, mp + "n_discarded_by_sign_election", m.n_discarded_by_sign_election, gm["n_discarded_by_sign_election"], 0);
    expect_count(r, mp + "n_contributing", m.n_contributing, gm["n_contributing"], 0);
    if (!gm.has("n_kept")) {  // density >= 1: no mask, no draws
      if (m.has_random_draws) { std::fprintf(stderr, "    stat %s: drew a mask for an untrimmed model\n", mp.c_str()); ++r->stat_failures; }
      continue;
    }
    // the golden count is mask.sum() in the work dtype: rounded to BF16 for BF16 task vectors
    const DType work = compute == DType::BF16 ? DType::BF16 : DType::F32;
    expect_count(r, mp + "n_kept", uint64_t(round_to(work, float(m.k))), gm["n_kept"], 0);
    expect_count(r, mp + "random_draws_first_index", m.random_first_draw, gm["random_draws_first_index"], 0);
    expect_count(r, mp + "random_draws", m.random_draws, gm["random_draws"], 0);
    if (!m.has_random_draws || m.keep_probability_min != float(gm["prob_min"].num) ||
        m.keep_probability_max != float(gm["prob_max"].num)) {
      std::fprintf(stderr, "    stat %skeep probabilities: got [%a, %a], golden [%a, %a]\n", mp.c_str(), m.keep_probability_min,
                   m.keep_probability_max, float(gm["prob_min"].num), float(gm["prob_max"].num));
      ++r->stat_failures;
    }
  }
}

// The keep masks the kernels draw for one tensor (models in order, one stream
// seeded before the tensor) against della_keep_mask*.safetensors.
void check_della_masks(CaseResult* r, const std::string& id, const std::string& tname, const ref::Tensor& t,
                       const std::vector<ModelParams>& mp, const std::vector<std::string>& roles, const MergeParams& p,
                       const std::map<std::string, golden::StTensor>& masks, ThreadPool& pool) {
  kern::Job job;
  job.base = t.base.data();
  std::vector<const float*> ptr;
  for (const auto& m : t.models) ptr.push_back(m.data());
  job.models = ptr.data();
  job.n_models = uint32_t(ptr.size());
  job.n = t.base.size();
  job.mp = mp.data();
  job.p = &p;
  job.pool = &pool;
  kern::Mt19937 mt(p.seed);
  for (size_t i = 0; i < mp.size(); ++i) {
    if (!(mp[i].density > 0 && mp[i].density < 1)) continue;
    kern::StreamMask sm;
    kern::stream_della(job, uint32_t(i), mp[i].density, mp[i].epsilon, mt, nullptr, nullptr, &sm);
    const std::string& role = roles[i];
    const auto it = masks.find(role + "/" + tname);
    if (it == masks.end()) {
      std::fprintf(stderr, "    %s: no keep mask for %s/%s\n", id.c_str(), role.c_str(), tname.c_str());
      ++r->stat_failures;
      continue;
    }
    uint64_t differ = 0;
    for (uint64_t j = 0; j < job.n; ++j) differ += uint8_t((sm.bits[j >> 6] >> (j & 63)) & 1) != it->second.u8[j];
    if (differ) {
      std::fprintf(stderr, "    %s %s/%s: keep mask differs at %llu positions\n", id.c_str(), role.c_str(), tname.c_str(),
                   (unsigned long long)differ);
      ++r->stat_failures;
    }
  }
}

// Runs one case in one compute mode. native: compute in the storage dtype.
CaseResult run_case(const std::string& id, bool native, TieOrder rule, ThreadPool& pool) {
  CaseResult res;
  const std::string dir = kDir + "/" + id;
  const Json c = golden::parse_json_file(dir + "/case.json");
  const std::string method = c["method"].str;
  const DType storage = parse_dtype(c["storage_dtype"].str);
  const Json& pe = c["parameters_effective"];

  MergeParams p;
  p.tie_order = rule;
  const bool exact_ties = rule == TieOrder::Mergekit;
  const bool tie_case = c.has("kind") && c["kind"].str == "tie_order";
  bool found = false;
  for (Method m : {Method::Linear, Method::TaskArithmetic, Method::Ties, Method::Breadcrumbs, Method::BreadcrumbsTies,
                    Method::Slerp, Method::ModelStock, Method::Passthrough, Method::Della, Method::DellaLinear})
    if (method == method_name(m)) { p.method = m; found = true; }
  if (!found) throw std::runtime_error("unknown golden method " + method);
  const bool interp = p.method == Method::Slerp || p.method == Method::ModelStock;
  const bool della = p.method == Method::Della || p.method == Method::DellaLinear;
  if (della) {
    p.rescale = !pe.has("rescale") || pe["rescale"].b;
    p.seed = c["randomness"]["seed"].u64();
  }
  const bool crumbs = p.method == Method::Breadcrumbs || p.method == Method::BreadcrumbsTies;
  if (pe.has("t")) p.t = pe["t"].num;
  p.filter_wise = pe.has("filter_wise") && pe["filter_wise"].b;
  p.consensus = (!c["consensus"].is_null() && c["consensus"].str == "count") ? Consensus::Count : Consensus::Sum;
  p.normalize = pe.has("normalize") && pe["normalize"].b;
  p.lambda = pe.has("lambda") ? pe["lambda"].num : 1.0;
  // slerp always computes in float32 (both expected files are identical for it)
  p.compute = native && p.method != Method::Slerp ? storage : DType::F32;

  std::vector<ModelParams> mp;
  std::vector<std::string> roles;
  std::vector<std::map<std::string, golden::StTensor>> models;
  for (const Json& m : c["models"].arr) {
    ModelParams x;
    x.weight = m.has("weight") ? m["weight"].num : 1.0;
    x.density = m.has("density") ? m["density"].num : 1.0;
    if (m.has("gamma")) x.gamma = m["gamma"].num;
    if (m.has("scale") && !m["scale"].is_null()) {
      x.has_scale = true;
      x.scale = m["scale"].num;
    }
    if (m.has("epsilon")) x.epsilon = m["epsilon"].num;
    mp.push_back(x);
    roles.push_back(m["role"].str);
    models.push_back(golden::load_safetensors(dir + "/" + m["file"].str));
  }
  std::map<std::string, golden::StTensor> base;
  if (!c["base"].is_null()) base = golden::load_safetensors(dir + "/" + c["base"].str);
  // The largest tie_order cases store one file: the F32-compute result is identical.
  const bool f32_is_native = c.has("float32_vs_native_identical") && c["float32_vs_native_identical"].b &&
                             !golden::file_exists(dir + "/expected.safetensors");
  const auto expected =
      golden::load_safetensors(dir + (native || f32_is_native ? "/expected_native.safetensors" : "/expected.safetensors"));
  std::map<std::string, golden::StTensor> amb, trim_masks;
  if (golden::file_exists(dir + "/ambiguous_mask.safetensors")) amb = golden::load_safetensors(dir + "/ambiguous_mask.safetensors");
  if (golden::file_exists(dir + "/trim_mask.safetensors")) trim_masks = golden::load_safetensors(dir + "/trim_mask.safetensors");
  std::map<std::string, golden::StTensor> keep_masks;
  const std::string keep_file = dir + (native ? "/della_keep_mask_native.safetensors" : "/della_keep_mask.safetensors");
  if (della && golden::file_exists(keep_file)) keep_masks = golden::load_safetensors(keep_file);

  for (const auto& [tname, tj] : c["tensors"].obj) {
    std::vector<uint64_t> shape;
    for (const Json& d : tj["shape"].arr) shape.push_back(d.u64());
    ref::Tensor t;
    t.name = tname;
    for (auto& m : models) t.models.push_back(cut_to(m.at(tname), shape));
    const uint64_t n = t.models[0].size();
    if (!base.empty()) t.base = base.at(tname).f;
    else t.base.assign(n, 0.f);
    std::vector<const float*> ptr;
    for (auto& m : t.models) ptr.push_back(m.data());

    std::vector<float> out(n);
    TensorStats st;
    p.row_len = shape.back();
    merge_tensor(out.data(), &st, base.empty() ? nullptr : t.base.data(), ptr.data(), uint32_t(ptr.size()), n, mp.data(), p,
                 pool);
    std::vector<uint8_t> skip(n, 0);
    if (amb.count(tname) && !exact_ties) skip = amb.at(tname).u8;

    const std::vector<float>& want = expected.at(tname).f;
    res.positions += n;
    uint64_t shown = 0;
    for (uint64_t j = 0; j < n; ++j) {
      if (skip[j]) continue;
      ++res.compared;
      const float got = round_to(storage, out[j]);  // F32 compute: the caller's single final rounding
      const double ulps = ulp_distance(got, want[j], storage);
      res.max_ulps = std::max(res.max_ulps, ulps);
      const bool within = interp && (storage == DType::F32 ? (ulps <= 4 || std::fabs(double(got) - want[j]) <= 1e-7)
                                                          : ulps <= 1);
      if (f32_bits(got) != f32_bits(want[j]) && !within) {
        ++res.mismatched;
        if (shown++ < 5)
          std::fprintf(stderr, "    %s %s [%llu]: got %a, expected %a\n", id.c_str(), tname.c_str(), (unsigned long long)j,
                       got, want[j]);
      }
    }
    if (native && p.compute != DType::F32) {  // native results are already representable in the storage dtype
      for (uint64_t j = 0; j < n; ++j)
        if (f32_bits(round_to(storage, out[j])) != f32_bits(out[j])) { ++res.mismatched; break; }
    }

    const char* key = native ? "stats_native_compute" : "stats";
    if (della) {
      if (tj.has(key)) check_della_stats(&res, id + "/" + tname, tj[key], st, roles, p.compute);
      check_della_masks(&res, id, tname, t, mp, roles, p, keep_masks, pool);
    } else if (tie_case) {
      check_tie_order_trims(&res, id, tname, tj, st, roles, t, p, trim_masks, pool);
    } else if (crumbs && tj.has(key)) {
      check_breadcrumbs_stats(&res, id + "/" + tname, tj[key], st, roles, exact_ties);
    } else if (tj.has(key)) {
      // kernel == reference on the full statistics, then the reference's
      // counts over unambiguous positions vs the golden "_unambiguous" counts
      std::vector<float> rout;
      TensorStats rst, unamb;
      ref::merge(&rout, &rst, t, mp, p);
      std::vector<uint8_t> amb_mask(n, 0);  // the "_unambiguous" counts are over ambiguous_mask == 0
      if (amb.count(tname)) amb_mask = amb.at(tname).u8;
      ref::merge(&rout, &unamb, t, mp, p, &amb_mask);
      if (!same_full_stats(st, rst)) {
        std::fprintf(stderr, "    %s %s: kernel stats differ from the scalar reference\n", id.c_str(), tname.c_str());
        ++res.stat_failures;
      }
      check_stats(&res, id + "/" + tname, tj[key], st, unamb, roles, exact_ties);
    }
  }
  res.ran = true;
  return res;
}

void run_method(const std::string& method) {
  const Json index = golden::parse_json_file(kDir + "/index.json");
  ThreadPool pool(2);
  int n_cases = 0;
  for (const Json& e : index["cases"].arr) {
    if (e["method"].str != method) continue;
    if (e.has("kind") && e["kind"].str != "tensor") continue;  // cli cases: engine_plan / test_golden_cli.cc
    const std::string id = e["id"].str;
    const bool has_native = e["storage_dtype"].str != "F32";
    const std::string kind = e.has("kind") ? e["kind"].str : "tensor";
    if (kind == "cli") continue;  // whole models through the engine (test_engine_io.cc, the Node tests)
    const bool pinned = kind == "tie_order" || method.rfind("della", 0) == 0;  // exact only in mergekit's order
    for (int native = 0; native <= (has_native ? 1 : 0); ++native)
    for (TieOrder rule : {TieOrder::Mergekit, TieOrder::Index}) {
      if (rule == TieOrder::Index && pinned) continue;
      CaseResult r;
      try {
        r = run_case(id, native != 0, rule, pool);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "    %s: exception %s\n", id.c_str(), ex.what());
        CHECK(false);
        continue;
      }
      std::printf("  golden %-45s %-6s %-8s %s: %llu/%llu positions compared (%llu ambiguous skipped), %llu mismatched, "
                  "%llu stat failures, max %.2g ULP\n",
                  id.c_str(), native ? "native" : "f32", rule == TieOrder::Mergekit ? "mergekit" : "index",
                  (r.mismatched || r.stat_failures) ? "FAIL" : "ok",
                  (unsigned long long)r.compared, (unsigned long long)r.positions,
                  (unsigned long long)(r.positions - r.compared), (unsigned long long)r.mismatched,
                  (unsigned long long)r.stat_failures, r.max_ulps);
      CHECK_EQ(r.mismatched, uint64_t(0));
      CHECK_EQ(r.stat_failures, uint64_t(0));
      ++n_cases;
    }
  }
  CHECK(n_cases > 0);
}

}  // namespace

TEST(golden_linear) { run_method("linear"); }
TEST(golden_task_arithmetic) { run_method("task_arithmetic"); }
TEST(golden_ties) { run_method("ties"); }

TEST(golden_breadcrumbs) { run_method("breadcrumbs"); }
TEST(golden_breadcrumbs_ties) { run_method("breadcrumbs_ties"); }
TEST(golden_slerp) { run_method("slerp"); }
TEST(golden_model_stock) { run_method("model_stock"); }
TEST(golden_passthrough) { run_method("passthrough"); }
TEST(golden_della) { run_method("della"); }
TEST(golden_della_linear) { run_method("della_linear"); }

TEST(golden_every_method_covered) {
  const Json index = golden::parse_json_file(kDir + "/index.json");
  for (const Json& e : index["cases"].arr) {
    if (e.has("kind") && e["kind"].str == "cli") continue;  // test_golden_cli.cc
    const std::string m = e["method"].str;
    const bool cli = e.has("kind") && e["kind"].str == "cli";  // whole-model cases: the engine tests run them
    CHECK(cli || m == "linear" || m == "task_arithmetic" || m == "ties" || m == "breadcrumbs" || m == "breadcrumbs_ties" ||
          m == "slerp" || m == "model_stock" || m == "passthrough" || m == "della" || m == "della_linear" ||
          // second batch: test_golden_methods.cc
          m == "sce" || m == "nuslerp" || m == "multislerp" || m == "karcher" || m == "arcee_fusion" || m == "nearswap");
  }
}
