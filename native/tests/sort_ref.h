// Test oracles for mergekit's tie order: which threshold ties a top-k cut of
// torch's sort keeps, computed the slow, obvious way -- sort every
// (key, index) pair completely with a value-only comparator and read the
// first k (descending) or last k (ascending) positions.
//
// Two full sorts are available: the libstdc++ std::sort the test binary is
// built with (the algorithm torch's CPU sort runs; only with libstdc++) and
// the plain port in core/kernels/introsort.h (checked against the former
// in test_tie_order.cc). Plus McIlroy's quicksort adversary, which drives
// introsort into its heap-sort fallback.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/introsort.h"

namespace sortref {

struct Pair {
  uint32_t key;
  uint32_t idx;
};

// torch's comparators on magnitude keys (NaN = one key above +inf, as mag_key).
inline bool desc(const Pair& a, const Pair& b) { return a.key > b.key; }
inline bool asc(const Pair& a, const Pair& b) { return a.key < b.key; }

// Pairs in sorted order. use_std: libstdc++'s std::sort (else the port).
inline std::vector<Pair> full_sort(const std::vector<uint32_t>& keys, bool ascending, bool use_std) {
  std::vector<Pair> v(keys.size());
  for (size_t j = 0; j < keys.size(); ++j) v[j] = {keys[j], uint32_t(j)};
  if (use_std) {
    if (ascending) std::sort(v.begin(), v.end(), asc);
    else std::sort(v.begin(), v.end(), desc);
  } else {
    if (ascending) ms::kern::introsort::sort(v.data(), v.data() + v.size(), asc);
    else ms::kern::introsort::sort(v.data(), v.data() + v.size(), desc);
  }
  return v;
}

// The threshold of the top-k set (k-th in descending order / k-th from the
// end in ascending order) and the bits of the ties with that key that lie in
// the top set, over the ties in flat index order.
struct TopSet {
  uint32_t T = 0;
  std::vector<uint64_t> bits;
  uint64_t n_equal = 0, kept = 0;
};
inline TopSet top_set(const std::vector<uint32_t>& keys, const std::vector<Pair>& sorted, uint64_t k, bool ascending) {
  TopSet r;
  const uint64_t n = keys.size();
  r.T = ascending ? sorted[n - k].key : sorted[k - 1].key;
  std::vector<uint64_t> ord(n, 0);
  for (uint64_t j = 0; j < n; ++j)
    if (keys[j] == r.T) ord[j] = r.n_equal++;
  r.bits.assign((r.n_equal + 63) / 64, 0);
  const uint64_t p0 = ascending ? n - k : 0, p1 = ascending ? n : k;
  for (uint64_t p = p0; p < p1; ++p)
    if (sorted[p].key == r.T) {
      const uint64_t o = ord[sorted[p].idx];
      r.bits[o >> 6] |= uint64_t(1) << (o & 63);
      ++r.kept;
    }
  return r;
}

// McIlroy, "A Killer Adversary for Quicksort" (1999), run against the port
// with the ascending comparator: returns values 0..n-1 for which introsort
// recurses deeply (its depth budget then runs out and heap sort takes over).
// For the descending comparator use n - 1 - value.
inline std::vector<uint32_t> antiqsort(uint32_t n) {
  std::vector<uint32_t> val(n, n - 1), ptr(n);  // n - 1 = "gas": not yet decided
  uint32_t nsolid = 0, candidate = 0;
  const uint32_t gas = n - 1;
  for (uint32_t i = 0; i < n; ++i) ptr[i] = i;
  auto cmp = [&](uint32_t x, uint32_t y) {
    if (val[x] == gas && val[y] == gas) {
      if (x == candidate) val[x] = nsolid++;
      else val[y] = nsolid++;
    }
    if (val[x] == gas) candidate = x;
    else if (val[y] == gas) candidate = y;
    return val[x] < val[y];
  };
  ms::kern::introsort::sort(ptr.data(), ptr.data() + n, cmp);
  return val;
}

}  // namespace sortref
