// ties_sv: margin bucketing and the planner that turns per-tensor margin
// histograms into one global, deterministic reservation plan.
#include <algorithm>
#include <cmath>

#include "errors.h"
#include "merge_kernels.h"
#include "topk.h"

namespace ms {

namespace {
constexpr uint32_t kCoarseBins = 1u << (31 - kSlackFineBits);  // margin keys are < 2^31
constexpr uint32_t kFineBins = 1u << kSlackFineBits;

// Count of a sparse histogram at `bin`, and below it.
uint64_t count_at(const SlackSummary& s, uint32_t bin) {
  auto it = std::lower_bound(s.bins.begin(), s.bins.end(), bin);
  return (it != s.bins.end() && *it == bin) ? s.counts[size_t(it - s.bins.begin())] : 0;
}
uint64_t count_below(const SlackSummary& s, uint32_t bin) {
  uint64_t t = 0;
  for (size_t x = 0; x < s.bins.size() && s.bins[x] < bin; ++x) t += s.counts[x];
  return t;
}
void check_summary(const SlackSummary& s, uint32_t n_bins, const std::string& name) {
  if (s.bins.size() != s.counts.size()) throw MergeError(ErrorCode::INTERNAL, "ties_sv summary malformed: " + name);
  for (size_t x = 0; x < s.bins.size(); ++x)
    if (s.bins[x] >= n_bins || (x > 0 && s.bins[x] <= s.bins[x - 1]))
      throw MergeError(ErrorCode::INTERNAL, "ties_sv summary bins out of order: " + name);
}
}  // namespace

SlackPlanner::SlackPlanner(const MergeParams& p) : slack_(p.slack) {}

void SlackPlanner::add(const std::string& name, SlackSummary s) {
  if (state_ != 0) throw MergeError(ErrorCode::INTERNAL, "ties_sv planner: add() after finish()");
  if (s.refinement) throw MergeError(ErrorCode::INTERNAL, "ties_sv planner: refinement passed to add(): " + name);
  check_summary(s, kCoarseBins, name);
  uint64_t tot = 0;
  for (uint64_t c : s.counts) tot += c;
  if (tot != s.n_candidates) throw MergeError(ErrorCode::INTERNAL, "ties_sv summary counts mismatch: " + name);
  Entry e;
  e.coarse = std::move(s);
  if (!tensors_.emplace(name, std::move(e)).second)
    throw MergeError(ErrorCode::INTERNAL, "ties_sv planner: tensor added twice: " + name);
}

void SlackPlanner::add_refinement(const std::string& name, SlackSummary s) {
  if (state_ != 1) throw MergeError(ErrorCode::INTERNAL, "ties_sv planner: no refinement requested");
  auto it = tensors_.find(name);
  if (it == tensors_.end() || !s.refinement || it->second.has_fine)
    throw MergeError(ErrorCode::INTERNAL, "ties_sv planner: unexpected refinement for " + name);
  check_summary(s, kFineBins, name);
  uint64_t tot = 0;
  for (uint64_t c : s.counts) tot += c;
  if (tot != count_at(it->second.coarse, refine_req_.coarse_bin) || s.favored_nnz != it->second.coarse.favored_nnz)
    throw MergeError(ErrorCode::INTERNAL, "ties_sv: tensor data changed between passes: " + name);
  it->second.fine = std::move(s);
  it->second.has_fine = true;
}

bool SlackPlanner::finish() {
  if (state_ == 2) return true;
  if (state_ == 0) {
    total_nnz_ = total_cand_ = 0;
    for (auto& [name, e] : tensors_) {
      total_nnz_ += e.coarse.favored_nnz;
      total_cand_ += e.coarse.n_candidates;
    }
    // R = min(#candidates, floor(slack * favored nnz)), the product in float64
    const double want = std::floor(slack_ * double(total_nnz_));
    budget_ = want >= double(total_cand_) ? total_cand_ : uint64_t(want);
    if (budget_ == 0) {
      for (auto& [name, e] : tensors_) e.plan = SlackPlanForTensor{};
      state_ = 2;
      return true;
    }
    std::vector<uint64_t> h(kCoarseBins, 0);
    for (auto& [name, e] : tensors_)
      for (size_t x = 0; x < e.coarse.bins.size(); ++x) h[e.coarse.bins[x]] += e.coarse.counts[x];
    const BinPick pk = pick_from_bottom(h.data(), kCoarseBins, budget_);
    const uint32_t C = pk.bin;
    refine_req_.coarse_bin = C;
    need_in_bin_ = budget_ - pk.before;
    to_refine_.clear();
    if (need_in_bin_ == pk.in_bin) {  // the whole boundary bucket is reserved: no refinement needed
      cutoff_ = (C + 1) << kSlackFineBits;
      for (auto& [name, e] : tensors_)
        e.plan = SlackPlanForTensor{cutoff_, 0, 0, count_below(e.coarse, C) + count_at(e.coarse, C)};
      state_ = 2;
      return true;
    }
    // Split bucket: exact (F16/BF16) tensors hold only the key C << 13 in it;
    // F32 tensors must be re-read for their fine histogram of the bucket.
    for (auto& [name, e] : tensors_) {
      const uint64_t at = count_at(e.coarse, C);
      if (at == 0) continue;
      if (e.coarse.coarse_exact) {
        e.fine = SlackSummary{};
        e.fine.refinement = true;
        e.fine.favored_nnz = e.coarse.favored_nnz;
        e.fine.bins = {0};
        e.fine.counts = {at};
        e.has_fine = true;
      } else {
        to_refine_.push_back(name);
      }
    }
    state_ = 1;
    if (!to_refine_.empty()) return false;
  }
  // state 1: every tensor with candidates in bucket C has its fine histogram
  const uint32_t C = refine_req_.coarse_bin;
  std::vector<uint64_t> h(kFineBins, 0);
  for (auto& [name, e] : tensors_) {
    if (count_at(e.coarse, C) == 0) continue;
    if (!e.has_fine) throw MergeError(ErrorCode::INTERNAL, "ties_sv planner: missing refinement for " + name);
    for (size_t x = 0; x < e.fine.bins.size(); ++x) h[e.fine.bins[x]] += e.fine.counts[x];
  }
  const BinPick pk = pick_from_bottom(h.data(), kFineBins, need_in_bin_);
  cutoff_ = (C << kSlackFineBits) | pk.bin;
  uint64_t rem = need_in_bin_ - pk.before;  // cutoff ties: byte-wise name order here, flat index in pass 2
  for (auto& [name, e] : tensors_) {
    uint64_t below = count_below(e.coarse, C), at = 0;
    if (e.has_fine) {
      below += count_below(e.fine, pk.bin);
      at = count_at(e.fine, pk.bin);
    }
    const uint64_t take = std::min(at, rem);
    rem -= take;
    e.plan = SlackPlanForTensor{cutoff_, take, at, below + take};
  }
  state_ = 2;
  return true;
}

SlackPlanForTensor SlackPlanner::plan_for(const std::string& name) const {
  if (state_ != 2) throw MergeError(ErrorCode::INTERNAL, "ties_sv planner: plan_for() before finish()");
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw MergeError(ErrorCode::INTERNAL, "ties_sv planner: unknown tensor " + name);
  return it->second.plan;
}

}  // namespace ms
