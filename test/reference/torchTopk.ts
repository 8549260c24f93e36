// Which k positions torch.topk(values, k, largest=True) returns on CPU: it fills a vector of
// (value, index) pairs in index order and runs std::partial_sort (when 64k <= n) or
// std::nth_element (otherwise) with the comparator "x before y" = (isnan(x) && !isnan(y)) || x > y,
// then keeps the first k. With equal values the kept set follows libstdc++'s heap-select /
// introselect moves (GCC 12/13 bits/stl_algo.h, stl_heap.h), written out here.
type Elem = [value: number, index: number];

function before(x: Elem, y: Elem): boolean {
  const xn = Number.isNaN(x[0]);
  const yn = Number.isNaN(y[0]);
  return (xn && !yn) || x[0] > y[0];
}

function adjustHeap(q: Elem[], first: number, holeStart: number, len: number, value: Elem): void {
  let hole = holeStart;
  const top = hole;
  let child = hole;
  while (child < Math.trunc((len - 1) / 2)) {
    child = 2 * (child + 1);
    if (before(q[first + child]!, q[first + child - 1]!)) child--;
    q[first + hole] = q[first + child]!;
    hole = child;
  }
  if ((len & 1) === 0 && child === Math.trunc((len - 2) / 2)) {
    child = 2 * (child + 1);
    q[first + hole] = q[first + child - 1]!;
    hole = child - 1;
  }
  let parent = Math.trunc((hole - 1) / 2);
  while (hole > top && before(q[first + parent]!, value)) {
    q[first + hole] = q[first + parent]!;
    hole = parent;
    parent = Math.trunc((hole - 1) / 2);
  }
  q[first + hole] = value;
}

function heapSelect(q: Elem[], first: number, middle: number, last: number): void {
  const len = middle - first;
  if (len >= 2) {
    for (let parent = Math.trunc((len - 2) / 2); ; parent--) {
      adjustHeap(q, first, parent, len, q[first + parent]!);
      if (parent === 0) break;
    }
  }
  for (let i = middle; i < last; i++) {
    if (before(q[i]!, q[first]!)) {
      const v = q[i]!;
      q[i] = q[first]!;
      adjustHeap(q, first, 0, len, v);
    }
  }
}

function insertionSort(q: Elem[], first: number, last: number): void {
  for (let i = first + 1; i < last; i++) {
    const v = q[i]!;
    if (before(v, q[first]!)) {
      for (let j = i; j > first; j--) q[j] = q[j - 1]!;
      q[first] = v;
    } else {
      let j = i;
      while (before(v, q[j - 1]!)) {
        q[j] = q[j - 1]!;
        j--;
      }
      q[j] = v;
    }
  }
}

function swap(q: Elem[], a: number, b: number): void {
  const t = q[a]!;
  q[a] = q[b]!;
  q[b] = t;
}

function introselect(q: Elem[], firstStart: number, nth: number, lastStart: number, depthStart: number): void {
  let first = firstStart;
  let last = lastStart;
  let depth = depthStart;
  while (last - first > 3) {
    if (depth === 0) {
      heapSelect(q, first, nth + 1, last);
      swap(q, first, nth);
      return;
    }
    depth--;
    // move_median_to_first(first, first + 1, mid, last - 1)
    const a = first + 1;
    const b = first + Math.trunc((last - first) / 2);
    const c = last - 1;
    if (before(q[a]!, q[b]!)) {
      if (before(q[b]!, q[c]!)) swap(q, first, b);
      else if (before(q[a]!, q[c]!)) swap(q, first, c);
      else swap(q, first, a);
    } else if (before(q[a]!, q[c]!)) swap(q, first, a);
    else if (before(q[b]!, q[c]!)) swap(q, first, c);
    else swap(q, first, b);
    // unguarded_partition(first + 1, last, pivot = first)
    let lo = first + 1;
    let hi = last;
    for (;;) {
      while (before(q[lo]!, q[first]!)) lo++;
      hi--;
      while (before(q[first]!, q[hi]!)) hi--;
      if (!(lo < hi)) break;
      swap(q, lo, hi);
      lo++;
    }
    if (lo <= nth) first = lo;
    else last = lo;
  }
  insertionSort(q, first, last);
}

/** Indices torch.topk(values, k) keeps (k in [1, n]). */
export function torchTopkIndices(values: ArrayLike<number>, k: number): number[] {
  const n = values.length;
  const q: Elem[] = Array.from({ length: n }, (_, i) => [values[i]!, i]);
  if (k * 64 <= n) heapSelect(q, 0, k, n);
  else introselect(q, 0, k - 1, n, 2 * (31 - Math.clz32(n))); // 2 * floor(log2 n), n < 2^32
  return q.slice(0, k).map((e) => e[1]);
}
