// See tie_order.h.
#include "kernels/tie_order.h"

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>

#include "errors.h"
#include "grow_buffer.h"
#include "merge_kernels.h"
#include "kernels/common.h"
#include "kernels/introsort.h"
#include "kernels/kernels.h"
#include "kernels/tile_ops.h"
#include "thread_pool.h"
#include "topk.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MS_NO_CLONES)
#include <immintrin.h>
#endif

namespace ms::kern {

// Sub-ranges from 256Ki codes on are partitioned by all threads: the counting
// pass is vectorized and cheap next to the swaps it splits (1M BF16-like codes,
// one cut, 2 threads: 10-20% more CPU time than one thread's serial partitions).
uint64_t g_tie_parallel_min = uint64_t(1) << 18;
uint64_t g_tie_parallel_block = uint64_t(1) << 16;
bool g_tie_scalar_scans = false;
std::atomic<uint64_t> g_tie_heap_fallbacks{0}, g_tie_parallel_partitions{0};

namespace {

constexpr uint32_t kTieFlag = 0x80000000u;  // mag keys are < 2^31 (sign bit cleared)
constexpr uint32_t kMaxGroups = 64;

// Distinct thresholds being resolved; group g's ties carry the ordinals
// [lo[g], lo[g + 1]).
struct Groups {
  uint32_t G = 0;
  uint32_t T[kMaxGroups] = {};
  uint64_t lo[kMaxGroups + 1] = {};
};

// Code -> key. One threshold (the common case) or several (sweeps, breadcrumbs).
struct OneGroup {
  uint32_t T;
  MS_ALWAYS_INLINE uint32_t key(uint32_t c) const { return c < kTieFlag ? c : T; }
};
struct ManyGroups {
  const Groups* g;
  MS_ALWAYS_INLINE uint32_t key(uint32_t c) const {
    if (c < kTieFlag) return c;
    const uint64_t o = c & ~kTieFlag;
    uint32_t i = 0;
    while (i + 1 < g->G && o >= g->lo[i + 1]) ++i;
    return g->T[i];
  }
};

// torch's comparators on keys (NaN is one key above +inf, see topk.h):
// descending `a > b`, ascending `a < b`.
template <class D, bool kAsc>
struct Before {
  D d;
  MS_ALWAYS_INLINE bool operator()(uint32_t a, uint32_t b) const {
    return kAsc ? d.key(a) < d.key(b) : d.key(a) > d.key(b);
  }
};

// Hoare stoppers for pivot key P: the left scanner stops at !before(x, P),
// the right one at !before(P, x).
template <class D, bool kAsc>
struct Stops {
  D d;
  uint32_t P;
  MS_ALWAYS_INLINE bool left(uint32_t c) const { return kAsc ? d.key(c) >= P : d.key(c) <= P; }
  MS_ALWAYS_INLINE bool right(uint32_t c) const { return kAsc ? d.key(c) <= P : d.key(c) >= P; }
};

// ---- stopper scans: positions (offsets from `a`, ascending) or counts of the
// left / right stoppers in A[a, a + len). A stopper test is a range test on the
// code: "key <= P" is code <= P, "key >= P" is P <= code < flag, plus the tie
// codes of the groups whose threshold passes. Groups are numbered by ascending
// threshold (make_groups), so those tie codes form one range of ordinals: with
// one threshold or many, a test is two compares. That runs 16 codes at a time
// with AVX-512 (compress in a register, then a plain store: compress-to-memory
// is slow on some CPUs); otherwise a branch-free loop.

struct RangeTest {
  uint32_t P;
  bool ge;                  // key >= P (else key <= P)
  uint32_t tie_lo, tie_hi;  // tie codes in [tie_lo, tie_hi] pass (empty: tie_lo > tie_hi)
  MS_ALWAYS_INLINE bool operator()(uint32_t c) const {
    if (c >= kTieFlag) return c >= tie_lo && c <= tie_hi;
    return ge ? c >= P : c <= P;
  }
};

// Tie codes whose group threshold T satisfies T >= P (ge) or T <= P.
inline void tie_code_range(const OneGroup& d, uint32_t P, bool ge, uint32_t* lo, uint32_t* hi) {
  const bool pass = ge ? d.T >= P : d.T <= P;
  *lo = pass ? kTieFlag : 0xffffffffu;
  *hi = pass ? 0xffffffffu : 0u;
}
inline void tie_code_range(const ManyGroups& d, uint32_t P, bool ge, uint32_t* lo, uint32_t* hi) {
  const Groups& g = *d.g;
  // groups [a, b) pass: a suffix for T >= P, a prefix for T <= P (thresholds ascend)
  uint32_t a = 0, b = g.G;
  if (ge) while (a < g.G && g.T[a] < P) ++a;
  else {
    b = 0;
    while (b < g.G && g.T[b] <= P) ++b;
  }
  if (a >= b || g.lo[a] == g.lo[b]) {
    *lo = 0xffffffffu;
    *hi = 0u;
    return;
  }
  *lo = kTieFlag | uint32_t(g.lo[a]);
  *hi = kTieFlag | uint32_t(g.lo[b] - 1);
}

template <class D, bool kAsc>
RangeTest range_test(const Stops<D, kAsc>& st, bool left) {
  const bool ge = kAsc ? left : !left;  // descending: left stops at key <= P
  RangeTest t{st.P, ge, 0, 0};
  tie_code_range(st.d, st.P, ge, &t.tie_lo, &t.tie_hi);
  return t;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MS_NO_CLONES)
#define MS_TIE_AVX512 1
struct RangeVec {
  __m512i P, F, lo, hi;
};
__attribute__((target("avx512f"))) MS_ALWAYS_INLINE RangeVec range_vec(const RangeTest& t) {
  return {_mm512_set1_epi32(int(t.P)), _mm512_set1_epi32(int(kTieFlag)), _mm512_set1_epi32(int(t.tie_lo)),
          _mm512_set1_epi32(int(t.tie_hi))};
}
__attribute__((target("avx512f"))) MS_ALWAYS_INLINE __mmask16 range_mask(__m512i c, const RangeVec& v, bool ge) {
  const __mmask16 tie = _mm512_cmpge_epu32_mask(c, v.F);
  const __mmask16 in = ge ? _mm512_cmpge_epu32_mask(c, v.P) & ~tie : _mm512_cmple_epu32_mask(c, v.P);
  // tie_lo >= flag whenever the range is not empty, so only tie codes can match it
  return __mmask16(in | (_mm512_cmpge_epu32_mask(c, v.lo) & _mm512_cmple_epu32_mask(c, v.hi)));
}
// out needs room for len + 16 entries.
__attribute__((target("avx512f"))) uint32_t positions_avx512(uint32_t* out, const uint32_t* A, uint32_t len, RangeTest t) {
  const RangeVec v = range_vec(t);
  const __m512i step = _mm512_set1_epi32(16);
  __m512i idx = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  uint32_t n = 0, p = 0;
  for (; p + 16 <= len; p += 16) {
    const __mmask16 m = range_mask(_mm512_loadu_si512(A + p), v, t.ge);
    _mm512_storeu_si512(out + n, _mm512_maskz_compress_epi32(m, idx));
    n += uint32_t(__builtin_popcount(m));
    idx = _mm512_add_epi32(idx, step);
  }
  for (; p < len; ++p) {
    out[n] = p;
    n += t(A[p]);
  }
  return n;
}
// Left and right stoppers counted in one pass over the codes.
__attribute__((target("avx512f"))) void count_both_avx512(const uint32_t* A, uint64_t len, RangeTest tl, RangeTest tr,
                                                          uint64_t* cl, uint64_t* cr) {
  const RangeVec vl = range_vec(tl), vr = range_vec(tr);
  uint64_t nl = 0, nr = 0, p = 0;
  for (; p + 16 <= len; p += 16) {
    const __m512i c = _mm512_loadu_si512(A + p);
    nl += uint64_t(__builtin_popcount(range_mask(c, vl, tl.ge)));
    nr += uint64_t(__builtin_popcount(range_mask(c, vr, tr.ge)));
  }
  for (; p < len; ++p) {
    nl += tl(A[p]);
    nr += tr(A[p]);
  }
  *cl = nl;
  *cr = nr;
}
bool have_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes && !g_tie_scalar_scans;
}
#endif

uint32_t positions_scalar(uint32_t* out, const uint32_t* A, uint32_t len, const RangeTest& t) {
  uint32_t n = 0;
  for (uint32_t p = 0; p < len; ++p) {
    out[n] = p;
    n += t(A[p]);
  }
  return n;
}

// Positions (offsets, ascending) of the left / right stoppers in A[0, len).
template <class D, bool kAsc>
uint32_t stopper_positions(uint32_t* out, const uint32_t* A, uint32_t len, const Stops<D, kAsc>& st, bool left) {
  const RangeTest t = range_test(st, left);
#ifdef MS_TIE_AVX512
  if (have_avx512()) return positions_avx512(out, A, len, t);
#endif
  return positions_scalar(out, A, len, t);
}

// Left and right stoppers in A[0, len): *cl, *cr.
template <class D, bool kAsc>
void count_stoppers(const uint32_t* A, uint64_t len, const Stops<D, kAsc>& st, uint64_t* cl, uint64_t* cr) {
  const RangeTest tl = range_test(st, true), tr = range_test(st, false);
#ifdef MS_TIE_AVX512
  if (have_avx512()) return count_both_avx512(A, len, tl, tr, cl, cr);
#endif
  uint64_t nl = 0, nr = 0;
  for (uint64_t p = 0; p < len; ++p) {
    nl += tl(A[p]);
    nr += tr(A[p]);
  }
  *cl = nl;
  *cr = nr;
}

// Pairs stoppers the way the Hoare loop does: left stoppers from `lp` up (never
// at or beyond `lend`), right stoppers from `rp` down (never at or below
// `rend`), swapping the t-th of each for `m` pairs. Stoppers are found a block
// at a time; a block's tests all happen before its swaps, and neither side's
// block reaches the other side's unswapped stoppers, so every test sees the
// original content. Returns the last pair swapped via *last_l / *last_r.
template <class D, bool kAsc>
void swap_pairs(uint32_t* A, int64_t lp, int64_t lend, int64_t rp, int64_t rend, int64_t m, const Stops<D, kAsc>& st,
                int64_t* last_l, int64_t* last_r) {
  constexpr int64_t B = 256;
  uint32_t offL[B + 16], offR[B + 16];
  int64_t nl = 0, il = 0, nr = 0;  // buffered stoppers: left [il, nl), right [0, nr) consumed from nr down
  int64_t baseL = lp, baseR = rp + 1;      // the current left / right block start
  int64_t next_l = lp, next_r = rp + 1;    // unscanned: [next_l, lend) and (rend, next_r)
  while (m > 0) {
    if (il == nl) {
      const int64_t len = std::min<int64_t>(B, lend - next_l);
      baseL = next_l;
      nl = stopper_positions(offL, A + baseL, uint32_t(len), st, true);
      il = 0;
      next_l += len;
    }
    if (nr == 0) {
      const int64_t len = std::min<int64_t>(B, next_r - rend - 1);
      baseR = next_r - len;
      nr = stopper_positions(offR, A + baseR, uint32_t(len), st, false);
      next_r = baseR;
    }
    const int64_t k = std::min({m, nl - il, nr});
    for (int64_t q = 0; q < k; ++q) std::swap(A[baseL + offL[il + q]], A[baseR + offR[nr - 1 - q]]);
    if (k > 0) {
      *last_l = baseL + offL[il + k - 1];
      *last_r = baseR + offR[nr - k];
    }
    il += k;
    nr -= k;
    m -= k;
  }
}

// unguarded_partition(A + f + 1, A + l, A + f) for a pivot already at A[f]:
// block-wise swaps while the unscanned middle is large (the t-th left stopper
// swaps with the t-th right one, as in the Hoare loop), then the scalar loop
// from the exact loop state for the last stretch.
template <class D, bool kAsc>
int64_t block_partition(uint32_t* A, int64_t f, int64_t l, const Stops<D, kAsc>& st, const Before<D, kAsc>& before) {
  constexpr int64_t B = 128;
  uint32_t offL[B + 16], offR[B + 16];
  int64_t nl = 0, il = 0, nr = 0;
  int64_t i = f + 1, j = l;  // unscanned: [i, j)
  int64_t baseL = i, baseR = j;
  int64_t lastL = -1, lastR = -1;  // last swapped pair
  while (j - i >= 2 * B) {
    if (il == nl) {
      baseL = i;
      nl = stopper_positions(offL, A + i, uint32_t(B), st, true);
      il = 0;
      i += B;
    }
    if (nr == 0) {
      baseR = j - B;
      nr = stopper_positions(offR, A + baseR, uint32_t(B), st, false);
      j -= B;
    }
    const int64_t m = std::min(nl - il, nr);
    for (int64_t q = 0; q < m; ++q) std::swap(A[baseL + offL[il + q]], A[baseR + offR[nr - 1 - q]]);
    if (m) {
      lastL = baseL + offL[il + m - 1];
      lastR = baseR + offR[nr - m];
    }
    il += m;
    nr -= m;
  }
  // The Hoare loop after the swaps so far: first = last left stopper + 1, last = last right stopper.
  uint32_t* first = A + (lastL >= 0 ? lastL + 1 : f + 1);
  uint32_t* last = A + (lastR >= 0 ? lastR : l);
  uint32_t* pivot = A + f;
  for (;;) {
    while (before(*first, *pivot)) ++first;
    --last;
    while (before(*pivot, *last)) --last;
    if (!(first < last)) return first - A;
    std::swap(*first, *last);
    ++first;
  }
}

// The same partition in parallel (same result): count the stoppers per
// block, derive the number of swaps s = max over x of min(#left stoppers in
// [f+1, x), #right stoppers in [x, l)) and the cut, then swap the pairs
// (L_t, R_t), t < s, in independent pieces.
constexpr int64_t kSub = 1024;  // sub-block of the searches inside a counted block

template <class D, bool kAsc>
int64_t parallel_partition(uint32_t* A, int64_t f, int64_t l, const Stops<D, kAsc>& st, ThreadPool& pool) {
  const int64_t BS = std::max<int64_t>(1, int64_t(g_tie_parallel_block));
  ++g_tie_parallel_partitions;
  const int64_t s0 = f + 1;  // stoppers are counted over [f + 1, l): the pivot never pairs
  const int64_t nb = (l - s0 + BS - 1) / BS;
  std::vector<int64_t> cl(nb), cr(nb);
  pool.parallel_for(uint64_t(nb), [&](uint64_t b) {
    const int64_t b0 = s0 + int64_t(b) * BS, b1 = std::min(l, b0 + BS);
    uint64_t nl, nr;
    count_stoppers(A + b0, uint64_t(b1 - b0), st, &nl, &nr);
    cl[b] = int64_t(nl);
    cr[b] = int64_t(nr);
  });
  std::vector<int64_t> pl(nb + 1, 0), sr(nb + 1, 0);  // left stoppers before block b; right stoppers from block b on
  for (int64_t b = 0; b < nb; ++b) pl[b + 1] = pl[b] + cl[b];
  for (int64_t b = nb; b-- > 0;) sr[b] = sr[b + 1] + cr[b];
  // D(x) = CL(x) - CR(x) is nondecreasing: the max of min(CL, CR) is where it
  // crosses 0. Find the block, then the sub-block, where it does; scan that.
  int64_t bb = 0;
  while (bb + 1 < nb && pl[bb + 1] < sr[bb + 1]) ++bb;
  int64_t s = 0;
  {
    int64_t CL = pl[bb], CR = sr[bb];
    int64_t x = s0 + bb * BS;
    const int64_t b1 = std::min(l, x + BS);
    s = std::min(CL, CR);
    for (int64_t len; x < b1 && (len = std::min<int64_t>(kSub, b1 - x)) > 0;) {
      uint64_t nl, nr;
      count_stoppers(A + x, uint64_t(len), st, &nl, &nr);
      const int64_t cl1 = int64_t(nl), cr1 = int64_t(nr);
      if (CL + cl1 >= CR - cr1 || x + len == b1) break;  // the crossing lies in [x, x + len)
      CL += cl1;
      CR -= cr1;
      s = std::max(s, std::min(CL, CR));
      x += len;
    }
    for (; x < b1; ++x) {
      CL += st.left(A[x]);
      CR -= st.right(A[x]);
      s = std::max(s, std::min(CL, CR));
      if (CL >= CR) break;  // min(CL, CR) only falls from here on
    }
  }
  // Position of the t-th left stopper (l if none) / t-th right stopper from the right:
  // the block from the prefix counts, the sub-block by vector counts, then the positions.
  uint32_t off[kSub + 16];
  auto left_at = [&](int64_t t, uint32_t* buf) -> int64_t {
    if (t >= pl[nb]) return l;
    const int64_t b = int64_t(std::upper_bound(pl.begin(), pl.end(), t) - pl.begin()) - 1;
    int64_t r = t - pl[b];
    for (int64_t x = s0 + b * BS;; x += kSub) {
      const uint32_t len = uint32_t(std::min<int64_t>(kSub, l - x));
      const uint32_t c = stopper_positions(buf, A + x, len, st, true);
      if (r < int64_t(c)) return x + buf[r];
      r -= c;
    }
  };
  auto right_at = [&](int64_t t, uint32_t* buf) -> int64_t {
    // block b holds the right stoppers ranked [sr[b + 1], sr[b]) from the right
    int64_t b = nb - 1;
    while (sr[b] <= t) --b;
    int64_t r = t - sr[b + 1];
    const int64_t b0 = s0 + b * BS;
    for (int64_t x1 = std::min(l, b0 + BS);; x1 -= kSub) {
      const int64_t x = std::max(b0, x1 - kSub);
      const uint32_t c = stopper_positions(buf, A + x, uint32_t(x1 - x), st, false);
      if (r < int64_t(c)) return x + buf[c - 1 - r];
      r -= c;
    }
  };
  int64_t cut;
  if (s == 0) cut = left_at(0, off);
  else cut = std::min(left_at(s, off), right_at(s - 1, off));
  if (s > 0) {
    // Each piece's first pair is located before any swap (locating scans a
    // block from its start, which may hold other pieces' stoppers). A piece
    // scans only its own stretch: left [L_t0, next piece's L), right
    // (next piece's R, R_t0]; the last piece stops at R_{s-1} / L_{s-1}'s side.
    const int64_t pieces = std::min<int64_t>(s, int64_t(pool.size()) * 4);
    std::vector<int64_t> lp0(pieces + 1), rp0(pieces + 1);
    pool.parallel_for(uint64_t(pieces), [&](uint64_t w) {
      const int64_t t0 = s * int64_t(w) / pieces;
      uint32_t buf[kSub + 16];
      lp0[w] = left_at(t0, buf);
      rp0[w] = right_at(t0, buf);
    });
    const int64_t last_r = right_at(s - 1, off);
    lp0[pieces] = last_r;                 // no left stopper in use reaches R_{s-1}
    rp0[pieces] = lp0[pieces - 1];        // ... nor a right one the last piece's first L
    pool.parallel_for(uint64_t(pieces), [&](uint64_t w) {
      const int64_t t0 = s * int64_t(w) / pieces, t1 = s * int64_t(w + 1) / pieces;
      if (t0 == t1) return;
      int64_t ll = -1, lr = -1;
      swap_pairs(A, lp0[w], lp0[w + 1], rp0[w], rp0[w + 1], t1 - t0, st, &ll, &lr);
    });
  }
  return cut;
}

struct Range {
  int64_t f, l, depth;
  uint32_t klo, khi;  // every key in the range lies in [klo, khi]
};
struct Block {       // a sub-range the chain does not enter again
  int64_t f, l;
  uint32_t klo, khi;
};

// The chain: follows std::sort on A[0, n) into every sub-range holding a cut
// position strictly inside; returns the sub-ranges where it stops (settled
// as a set, or fully sorted when it was a leaf or a heap-sort fallback).
// Sub-ranges never exchange elements, so the order they are processed in does
// not matter: large ones are partitioned one at a time by all threads
// (parallel_partition), then the smaller ones still holding cuts (several
// with many cuts: sweeps, breadcrumbs) are followed to the end concurrently,
// one thread each.
template <class D, bool kAsc>
std::vector<Block> follow_chain(uint32_t* A, int64_t n, const std::vector<int64_t>& pos, D d, ThreadPool& pool,
                                const std::atomic<bool>* cancel) {
  const Before<D, kAsc> before{d};
  auto holds_cut = [&](int64_t f, int64_t l) {
    auto it = std::upper_bound(pos.begin(), pos.end(), f);
    return it != pos.end() && *it < l;
  };
  const bool parallel = pool.size() > 1;
  auto large = [&](const Range& r) {
    return parallel && r.l - r.f >= int64_t(g_tie_parallel_min) && r.l - r.f > introsort::kThreshold && r.depth > 0;
  };
  // One std::sort step on r: a leaf or a heap-sort fallback settles it, else
  // it is partitioned and its halves go to `next` (holding a cut) or `blocks`.
  auto step = [&](const Range& r, bool parallel_split, std::vector<Range>* next, std::vector<Block>* blocks) {
    check_cancel(cancel);
    uint32_t* first = A + r.f;
    uint32_t* last = A + r.l;
    if (r.l - r.f <= introsort::kThreshold) {  // final_insertion_sort's work on this leaf
      introsort::insertion_sort(first, last, before);
      blocks->push_back({r.f, r.l, r.klo, r.khi});
      return;
    }
    if (r.depth == 0) {
      ++g_tie_heap_fallbacks;
      introsort::heap_sort(first, last, before);
      blocks->push_back({r.f, r.l, r.klo, r.khi});
      return;
    }
    introsort::move_median_to_first(first, first + 1, first + (last - first) / 2, last - 1, before);
    const Stops<D, kAsc> st{d, d.key(*first)};
    const int64_t cut = parallel_split ? parallel_partition(A, r.f, r.l, st, pool) : block_partition(A, r.f, r.l, st, before);
    const uint32_t P = st.P;
    // Before-side keys: >= P (descending) or <= P (ascending).
    Range left{r.f, cut, r.depth - 1, r.klo, r.khi}, right{cut, r.l, r.depth - 1, r.klo, r.khi};
    if (kAsc) {
      left.khi = std::min(left.khi, P);
      right.klo = std::max(right.klo, P);
    } else {
      left.klo = std::max(left.klo, P);
      right.khi = std::min(right.khi, P);
    }
    for (const Range& c : {left, right}) {
      if (holds_cut(c.f, c.l)) next->push_back(c);
      else blocks->push_back({c.f, c.l, c.klo, c.khi});
    }
  };
  std::vector<Block> blocks;
  std::vector<Range> big, small;
  if (n > 0) {
    const Range all{0, n, introsort::lg(n) * 2, 0u, 0xffffffffu};
    if (!holds_cut(0, n)) blocks.push_back({0, n, 0u, 0xffffffffu});
    else (large(all) ? big : small).push_back(all);
  }
  while (!big.empty()) {
    const Range r = big.back();
    big.pop_back();
    std::vector<Range> next;
    step(r, true, &next, &blocks);
    for (const Range& c : next) (large(c) ? big : small).push_back(c);
  }
  // Each remaining range to the end on one thread (serial partitions).
  std::vector<std::vector<Block>> found(small.size());
  pool.parallel_for(small.size(), [&](uint64_t i) {
    std::vector<Range> stack = {small[i]};
    while (!stack.empty()) {
      const Range r = stack.back();
      stack.pop_back();
      step(r, false, &stack, &found[i]);
    }
  });
  for (const std::vector<Block>& f : found) blocks.insert(blocks.end(), f.begin(), f.end());
  return blocks;
}

struct ResolveCut {
  uint64_t k;
  uint32_t group;
  std::vector<uint64_t>* bits;
  uint64_t n_equal;
};

// Sets the bits of the ties of each cut that lie in its top set (cuts in
// parallel: each writes only its own bits).
template <class D, bool kAsc>
void collect(const uint32_t* A, int64_t n, const std::vector<Block>& blocks, const Groups& g,
             std::vector<ResolveCut>& cuts, ThreadPool& pool) {
  pool.parallel_for(cuts.size(), [&](uint64_t ci) {
    ResolveCut& c = cuts[ci];
    c.bits->assign((c.n_equal + 63) / 64, 0);
    const int64_t s0 = kAsc ? n - int64_t(c.k) : 0, s1 = kAsc ? n : int64_t(c.k);
    const uint32_t T = g.T[c.group];
    const uint64_t o0 = g.lo[c.group], o1 = g.lo[c.group + 1];
    uint64_t* bits = c.bits->data();
    for (const Block& b : blocks) {
      if (T < b.klo || T > b.khi) continue;
      const int64_t p0 = std::max(b.f, s0), p1 = std::min(b.l, s1);
      for (int64_t p = p0; p < p1; ++p) {
        const uint32_t code = A[p];
        if (code < kTieFlag) continue;
        const uint64_t o = code & ~kTieFlag;
        if (o >= o0 && o < o1) bits[(o - o0) >> 6] |= uint64_t(1) << ((o - o0) & 63);
      }
    }
  });
}

std::vector<int64_t> cut_positions(const std::vector<ResolveCut>& cuts, int64_t n, bool ascending) {
  std::vector<int64_t> pos;
  for (const ResolveCut& c : cuts) pos.push_back(ascending ? n - int64_t(c.k) : int64_t(c.k));
  std::sort(pos.begin(), pos.end());
  return pos;
}

template <class D, bool kAsc>
void run_chain(uint32_t* A, int64_t n, const Groups& g, D d, std::vector<ResolveCut>& cuts, ThreadPool& pool,
               const std::atomic<bool>* cancel) {
  const std::vector<Block> blocks = follow_chain<D, kAsc>(A, n, cut_positions(cuts, n, kAsc), d, pool, cancel);
  collect<D, kAsc>(A, n, blocks, g, cuts, pool);
}

void resolve(uint32_t* A, int64_t n, bool ascending, const Groups& g, std::vector<ResolveCut>& cuts, ThreadPool& pool,
             const std::atomic<bool>* cancel) {
  if (g.G == 1) {
    const OneGroup d{g.T[0]};
    if (ascending) run_chain<OneGroup, true>(A, n, g, d, cuts, pool, cancel);
    else run_chain<OneGroup, false>(A, n, g, d, cuts, pool, cancel);
  } else {
    const ManyGroups d{&g};
    if (ascending) run_chain<ManyGroups, true>(A, n, g, d, cuts, pool, cancel);
    else run_chain<ManyGroups, false>(A, n, g, d, cuts, pool, cancel);
  }
}

// Groups of the cuts' thresholds, numbered by ascending threshold (so the tie
// codes passing a stopper test form one range, see RangeTest), and each cut's group.
Groups make_groups(const std::vector<uint32_t>& thresholds, const std::vector<uint64_t>& n_equal,
                   std::vector<uint32_t>* group_of) {
  std::vector<std::pair<uint32_t, uint64_t>> distinct;  // (T, ties equal to T)
  for (size_t c = 0; c < thresholds.size(); ++c) {
    bool seen = false;
    for (const auto& d : distinct) seen |= d.first == thresholds[c];
    if (seen) continue;
    if (distinct.size() == kMaxGroups)
      throw MergeError(ErrorCode::RECIPE_INVALID, "mergekit tie order: more than " + std::to_string(kMaxGroups) +
                                                      " distinct thresholds in one tensor; use fewer densities");
    distinct.emplace_back(thresholds[c], n_equal[c]);
  }
  std::sort(distinct.begin(), distinct.end());
  Groups g;
  for (const auto& [T, ne] : distinct) {
    g.T[g.G] = T;
    g.lo[g.G + 1] = g.lo[g.G] + ne;
    ++g.G;
  }
  group_of->clear();
  for (uint32_t T : thresholds) {
    uint32_t i = 0;
    while (g.T[i] != T) ++i;
    group_of->push_back(i);
  }
  if (g.lo[g.G] >= kTieFlag)
    throw MergeError(ErrorCode::RECIPE_INVALID,
                     "mergekit tie order: more than 2^31 entries share a threshold in one tensor; use tie_order: index");
  return g;
}

// Code of one key: the key, or the flag and the next ordinal of its group.
MS_ALWAYS_INLINE uint32_t code_of(uint32_t key, const Groups& g, uint64_t* next) {
  for (uint32_t i = 0; i < g.G; ++i)
    if (key == g.T[i]) return kTieFlag | uint32_t(next[i]++);
  return key;
}

// n elements from `scratch` when given, else owned here (not value-initialized).
struct CodeArray {
  std::unique_ptr<uint32_t[]> own;
  uint32_t* p;
  CodeArray(GrowBuffer* scratch, uint64_t n)
      : own(scratch ? nullptr : new uint32_t[n ? n : 1]), p(scratch ? scratch->ensure_n<uint32_t>(n) : own.get()) {}
};

}  // namespace

void resolve_mergekit_ties(const SelCtx& ctx, uint32_t model, const std::vector<TrimModel*>& cuts) {
  if (cuts.empty()) return;
  const Job& job = *ctx.job;
  const uint64_t n = ctx.n, nc = ctx.nc;
  if (n >= (uint64_t(1) << 62)) throw MergeError(ErrorCode::INTERNAL, "tensor too large");
  std::vector<uint32_t> th, group_of;
  std::vector<uint64_t> ne;
  for (TrimModel* t : cuts) {
    th.push_back(t->T);
    ne.push_back(t->n_equal);
    t->eq_before.assign(nc, 0);
    for (uint64_t c = 1; c < nc; ++c) t->eq_before[c] = t->eq_before[c - 1] + t->eq_chunk[c - 1];
  }
  const Groups g = make_groups(th, ne, &group_of);
  // Per group: the cut whose eq_before gives each chunk's first ordinal.
  std::vector<const TrimModel*> rep(g.G, nullptr);
  for (size_t c = 0; c < cuts.size(); ++c)
    if (!rep[group_of[c]]) rep[group_of[c]] = cuts[c];

  CodeArray codes(job.p->scratch ? &job.p->scratch->tie_codes : nullptr, n);  // every element is written below
  uint32_t* const A = codes.p;
  const unsigned nw = job.pool->size();
  std::vector<uint32_t> keys(uint64_t(nw) * kTile);
  job.pool->parallel_for_worker(nc, [&](uint64_t c, unsigned w) {
    check_cancel(job.cancel);
    uint64_t next[kMaxGroups];
    for (uint32_t i = 0; i < g.G; ++i) next[i] = g.lo[i] + rep[i]->eq_before[c];
    uint32_t* kb = keys.data() + uint64_t(w) * kTile;
    const uint64_t j1 = std::min(n, (c + 1) * kChunk);
    for (uint64_t t0 = c * kChunk; t0 < j1; t0 += kTile) {
      const uint64_t m = std::min(kTile, j1 - t0);
      t_delta_keys(kb, job.models[model] + t0, job.base + t0, m, ctx.r);
      uint32_t* out = A + t0;
      if (g.G == 1) {
        const uint32_t T = g.T[0];
        uint64_t o = next[0];
        for (uint64_t j = 0; j < m; ++j) {
          const bool tie = kb[j] == T;
          out[j] = tie ? kTieFlag | uint32_t(o) : kb[j];
          o += tie;
        }
        next[0] = o;
      } else {
        for (uint64_t j = 0; j < m; ++j) out[j] = code_of(kb[j], g, next);
      }
    }
  });
  std::vector<ResolveCut> rc;
  for (size_t c = 0; c < cuts.size(); ++c) rc.push_back({cuts[c]->k, group_of[c], &cuts[c]->tie_bits, cuts[c]->n_equal});
  resolve(A, int64_t(n), ctx.ascending, g, rc, *job.pool, job.cancel);
}

void mergekit_tie_bits(const uint32_t* keys, uint64_t n, bool ascending, std::vector<KeyCut>& cuts, ThreadPool& pool,
                       GrowBuffer* scratch) {
  std::vector<uint32_t> th, group_of;
  std::vector<uint64_t> ne;
  for (const KeyCut& c : cuts) {
    if (c.k == 0 || c.k > n) throw MergeError(ErrorCode::INTERNAL, "mergekit_tie_bits: cut outside the array");
    uint64_t e = 0;
    for (uint64_t j = 0; j < n; ++j) e += keys[j] == c.T;
    th.push_back(c.T);
    ne.push_back(e);
  }
  const Groups g = make_groups(th, ne, &group_of);
  CodeArray codes(scratch, n);
  uint32_t* const A = codes.p;
  std::vector<uint64_t> next(g.lo, g.lo + g.G);
  for (uint64_t j = 0; j < n; ++j) A[j] = code_of(keys[j], g, next.data());
  std::vector<ResolveCut> rc;
  for (size_t c = 0; c < cuts.size(); ++c) rc.push_back({cuts[c].k, group_of[c], &cuts[c].bits, ne[c]});
  resolve(A, int64_t(n), ascending, g, rc, pool, nullptr);
}

}  // namespace ms::kern
