// libstdc++'s std::sort (GCC 12/13 bits/stl_algo.h, stl_heap.h), step for
// step, over a plain array. torch's CPU sort runs std::sort over
// (value, index) pairs compared by value only, so equal keys end up in a
// data-dependent but fully determined order: this port reproduces it on any
// compiler and standard library (docs/tie-order.md).
//
// Comp(a, b) is a strict weak order ("a goes before b"). Every function
// mirrors the libstdc++ function of the same name, including the order in
// which elements are moved.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

namespace ms::kern::introsort {

constexpr int64_t kThreshold = 16;  // _S_threshold

// floor(log2(n)) for n >= 1 (std::__lg).
inline int64_t lg(int64_t n) { return 63 - __builtin_clzll(uint64_t(n)); }

template <class T, class Comp>
void push_heap(T* first, int64_t hole, int64_t top, T value, Comp comp) {
  int64_t parent = (hole - 1) / 2;
  while (hole > top && comp(first[parent], value)) {
    first[hole] = first[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  first[hole] = value;
}

template <class T, class Comp>
void adjust_heap(T* first, int64_t hole, int64_t len, T value, Comp comp) {
  const int64_t top = hole;
  int64_t second = hole;
  while (second < (len - 1) / 2) {
    second = 2 * (second + 1);
    if (comp(first[second], first[second - 1])) second--;
    first[hole] = first[second];
    hole = second;
  }
  if ((len & 1) == 0 && second == (len - 2) / 2) {
    second = 2 * (second + 1);
    first[hole] = first[second - 1];
    hole = second - 1;
  }
  push_heap(first, hole, top, value, comp);
}

template <class T, class Comp>
void make_heap(T* first, T* last, Comp comp) {
  const int64_t len = last - first;
  if (len < 2) return;
  int64_t parent = (len - 2) / 2;
  for (;;) {
    adjust_heap(first, parent, len, first[parent], comp);
    if (parent == 0) return;
    parent--;
  }
}

template <class T, class Comp>
void pop_heap(T* first, T* last, T* result, Comp comp) {
  T value = *result;
  *result = *first;
  adjust_heap(first, int64_t(0), int64_t(last - first), value, comp);
}

template <class T, class Comp>
void sort_heap(T* first, T* last, Comp comp) {
  while (last - first > 1) {
    --last;
    pop_heap(first, last, last, comp);
  }
}

// __partial_sort(first, last, last): what introsort runs when its depth
// budget is spent (heap_select over an empty tail, then sort_heap).
template <class T, class Comp>
void heap_sort(T* first, T* last, Comp comp) {
  make_heap(first, last, comp);
  sort_heap(first, last, comp);
}

template <class T, class Comp>
void move_median_to_first(T* result, T* a, T* b, T* c, Comp comp) {
  if (comp(*a, *b)) {
    if (comp(*b, *c)) std::swap(*result, *b);
    else if (comp(*a, *c)) std::swap(*result, *c);
    else std::swap(*result, *a);
  } else if (comp(*a, *c)) std::swap(*result, *a);
  else if (comp(*b, *c)) std::swap(*result, *c);
  else std::swap(*result, *b);
}

template <class T, class Comp>
T* unguarded_partition(T* first, T* last, T* pivot, Comp comp) {
  for (;;) {
    while (comp(*first, *pivot)) ++first;
    --last;
    while (comp(*pivot, *last)) --last;
    if (!(first < last)) return first;
    std::swap(*first, *last);
    ++first;
  }
}

// Median-of-three pivot moved to *first, then the Hoare partition of
// [first + 1, last) around it; returns the cut. Elements before the cut are
// not after the pivot, elements from the cut on are not before it.
template <class T, class Comp>
T* unguarded_partition_pivot(T* first, T* last, Comp comp) {
  T* mid = first + (last - first) / 2;
  move_median_to_first(first, first + 1, mid, last - 1, comp);
  return unguarded_partition(first + 1, last, first, comp);
}

template <class T, class Comp>
void unguarded_linear_insert(T* last, Comp comp) {
  T val = *last;
  T* next = last - 1;
  while (comp(val, *next)) {
    *last = *next;
    last = next;
    --next;
  }
  *last = val;
}

template <class T, class Comp>
void insertion_sort(T* first, T* last, Comp comp) {
  if (first == last) return;
  for (T* i = first + 1; i != last; ++i) {
    if (comp(*i, *first)) {
      T val = *i;
      for (T* p = i; p != first; --p) *p = *(p - 1);  // move_backward
      *first = val;
    } else {
      unguarded_linear_insert(i, comp);
    }
  }
}

template <class T, class Comp>
void final_insertion_sort(T* first, T* last, Comp comp) {
  if (last - first > kThreshold) {
    insertion_sort(first, first + kThreshold, comp);
    for (T* i = first + kThreshold; i != last; ++i) unguarded_linear_insert(i, comp);
  } else {
    insertion_sort(first, last, comp);
  }
}

template <class T, class Comp>
void introsort_loop(T* first, T* last, int64_t depth_limit, Comp comp) {
  while (last - first > kThreshold) {
    if (depth_limit == 0) {
      heap_sort(first, last, comp);
      return;
    }
    --depth_limit;
    T* cut = unguarded_partition_pivot(first, last, comp);
    introsort_loop(cut, last, depth_limit, comp);
    last = cut;
  }
}

// std::sort(first, last, comp).
template <class T, class Comp>
void sort(T* first, T* last, Comp comp) {
  if (first == last) return;
  introsort_loop(first, last, lg(last - first) * 2, comp);
  final_insertion_sort(first, last, comp);
}

// ---- The same results with fewer mispredicted branches.
//
// unguarded_partition pairs the t-th element its left scanner stops at
// (!comp(x, pivot)) with the t-th one its right scanner stops at
// (!comp(pivot, x)) while they have not crossed. So the stoppers can be found
// a block at a time without branches (the blocks of the two sides never
// overlap, and a block is scanned before any of its elements moves), swapped
// pairwise, and the plain loop resumes from the exact state the Hoare loop
// would have (first = last swapped left stopper + 1, last = last swapped right
// one) for the final stretch.

// Stopper positions (ascending offsets) in p[0, len); out has room for len + 16.
template <class T, class Comp>
struct ScalarStoppers {
  Comp comp;
  uint32_t left(uint32_t* out, const T* p, uint32_t len, const T& pivot) const {
    uint32_t n = 0;
    for (uint32_t q = 0; q < len; ++q) {
      out[n] = q;
      n += !comp(p[q], pivot);
    }
    return n;
  }
  uint32_t right(uint32_t* out, const T* p, uint32_t len, const T& pivot) const {
    uint32_t n = 0;
    for (uint32_t q = 0; q < len; ++q) {
      out[n] = q;
      n += !comp(pivot, p[q]);
    }
    return n;
  }
};

// unguarded_partition(first, last, pivot), pivot outside [first, last).
template <class T, class Comp, class Stoppers>
T* block_unguarded_partition(T* first, T* last, T* pivot, Comp comp, const Stoppers& stops) {
  constexpr int64_t B = 16;
  uint32_t offL[B + 16], offR[B + 16];
  const T pv = *pivot;
  int64_t nl = 0, il = 0, nr = 0;
  T* i = first;  // unscanned: [i, j)
  T* j = last;
  T* baseL = i;
  T* baseR = j;
  T* lastL = nullptr;  // last swapped pair
  T* lastR = nullptr;
  while (j - i >= 2 * B) {
    if (il == nl) {
      baseL = i;
      nl = stops.left(offL, i, uint32_t(B), pv);
      il = 0;
      i += B;
    }
    if (nr == 0) {
      baseR = j - B;
      nr = stops.right(offR, baseR, uint32_t(B), pv);
      j -= B;
    }
    const int64_t m = std::min(nl - il, nr);
    for (int64_t q = 0; q < m; ++q) std::swap(baseL[offL[il + q]], baseR[offR[nr - 1 - q]]);
    if (m) {
      lastL = baseL + offL[il + m - 1];
      lastR = baseR + offR[nr - m];
    }
    il += m;
    nr -= m;
  }
  return unguarded_partition(lastL ? lastL + 1 : first, lastR ? lastR : last, pivot, comp);
}

template <class T, class Comp, class Stoppers>
void block_introsort_loop(T* first, T* last, int64_t depth_limit, Comp comp, const Stoppers& stops) {
  while (last - first > kThreshold) {
    if (depth_limit == 0) {
      heap_sort(first, last, comp);
      return;
    }
    --depth_limit;
    move_median_to_first(first, first + 1, first + (last - first) / 2, last - 1, comp);
    T* cut = block_unguarded_partition(first + 1, last, first, comp, stops);
    block_introsort_loop(cut, last, depth_limit, comp, stops);
    last = cut;
  }
}

// std::sort(first, last, comp), element for element, with block partitions.
template <class T, class Comp, class Stoppers>
void block_sort(T* first, T* last, Comp comp, const Stoppers& stops) {
  if (first == last) return;
  block_introsort_loop(first, last, lg(last - first) * 2, comp, stops);
  final_insertion_sort(first, last, comp);
}
template <class T, class Comp>
void block_sort(T* first, T* last, Comp comp) {
  block_sort(first, last, comp, ScalarStoppers<T, Comp>{comp});
}

}  // namespace ms::kern::introsort
