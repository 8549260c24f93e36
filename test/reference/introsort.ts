// libstdc++'s std::sort (introsort: median-of-three pivot moved to the front,
// unguarded Hoare partition, recursion on the right part, heap sort when the
// depth budget 2 * floor(log2 n) runs out, final insertion sort with
// threshold 16), written plainly for the reference engine. torch's CPU
// argsort / sort run it over (value, index) pairs compared by value only, so
// equal keys end up in this algorithm's order: mergekit's tie order.
// (native/core/kernels/introsort.h is the engine's port; this one is written
// separately from the libstdc++ sources, bits/stl_algo.h and stl_heap.h.)

/** What a sort did (tests: the heap-sort fallback really ran). */
export interface IntrosortStats {
  heapSorts: number;
}

/** `before(a, b)`: a strict weak order, "a goes before b". Sorts `a` in place. */
export function introsort<T>(a: T[], before: (x: T, y: T) => boolean, stats?: IntrosortStats): void {
  const n = a.length;
  if (n === 0) return;
  introsortLoop(a, 0, n, 2 * Math.floor(Math.log2(n)), before, stats);
  finalInsertionSort(a, 0, n, before);
}

const THRESHOLD = 16;

function swap<T>(a: T[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

function introsortLoop<T>(a: T[], first: number, last: number, depth: number, before: (x: T, y: T) => boolean, stats?: IntrosortStats): void {
  while (last - first > THRESHOLD) {
    if (depth === 0) {
      if (stats) stats.heapSorts++;
      heapSort(a, first, last, before);
      return;
    }
    depth--;
    const cut = partitionPivot(a, first, last, before);
    introsortLoop(a, cut, last, depth, before, stats);
    last = cut;
  }
}

function moveMedianToFirst<T>(a: T[], result: number, x: number, y: number, z: number, before: (p: T, q: T) => boolean): void {
  if (before(a[x]!, a[y]!)) {
    if (before(a[y]!, a[z]!)) swap(a, result, y);
    else if (before(a[x]!, a[z]!)) swap(a, result, z);
    else swap(a, result, x);
  } else if (before(a[x]!, a[z]!)) swap(a, result, x);
  else if (before(a[y]!, a[z]!)) swap(a, result, z);
  else swap(a, result, y);
}

function partitionPivot<T>(a: T[], first: number, last: number, before: (x: T, y: T) => boolean): number {
  const mid = first + Math.floor((last - first) / 2);
  moveMedianToFirst(a, first, first + 1, mid, last - 1, before);
  // unguarded Hoare partition of [first + 1, last) around a[first]
  let i = first + 1;
  let j = last;
  for (;;) {
    while (before(a[i]!, a[first]!)) i++;
    j--;
    while (before(a[first]!, a[j]!)) j--;
    if (!(i < j)) return i;
    swap(a, i, j);
    i++;
  }
}

function adjustHeap<T>(a: T[], base: number, hole: number, len: number, value: T, before: (x: T, y: T) => boolean): void {
  const top = hole;
  let child = hole;
  while (child < Math.floor((len - 1) / 2)) {
    child = 2 * (child + 1);
    if (before(a[base + child]!, a[base + child - 1]!)) child--;
    a[base + hole] = a[base + child]!;
    hole = child;
  }
  if ((len & 1) === 0 && child === Math.floor((len - 2) / 2)) {
    child = 2 * (child + 1);
    a[base + hole] = a[base + child - 1]!;
    hole = child - 1;
  }
  // push_heap
  let parent = Math.floor((hole - 1) / 2);
  while (hole > top && before(a[base + parent]!, value)) {
    a[base + hole] = a[base + parent]!;
    hole = parent;
    parent = Math.floor((hole - 1) / 2);
  }
  a[base + hole] = value;
}

/** __partial_sort(first, last, last): make_heap, then sort_heap. */
function heapSort<T>(a: T[], first: number, last: number, before: (x: T, y: T) => boolean): void {
  const len = last - first;
  if (len >= 2) {
    for (let parent = Math.floor((len - 2) / 2); ; parent--) {
      adjustHeap(a, first, parent, len, a[first + parent]!, before);
      if (parent === 0) break;
    }
  }
  for (let end = last; end - first > 1; ) {
    end--;
    const value = a[end]!;
    a[end] = a[first]!;
    adjustHeap(a, first, 0, end - first, value, before);
  }
}

/** Insertion sort over [first, last): stable, moves an element only past strictly later ones. */
function insertionSort<T>(a: T[], first: number, last: number, before: (x: T, y: T) => boolean): void {
  for (let i = first + 1; i < last; i++) {
    const v = a[i]!;
    let j = i;
    while (j > first && before(v, a[j - 1]!)) {
      a[j] = a[j - 1]!;
      j--;
    }
    a[j] = v;
  }
}

function finalInsertionSort<T>(a: T[], first: number, last: number, before: (x: T, y: T) => boolean): void {
  // __insertion_sort on the first 16, the unguarded variant after: the same moves as a plain
  // insertion sort (the minimum lies in the first 16, so the unguarded loop never runs off).
  insertionSort(a, first, last, before);
}
