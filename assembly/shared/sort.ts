// AssemblyScript, imported by assembly/shared/scan-finalise.ts and assembly/endpoint-days.ts:
// one stable sort for every item type (u32, f64, 16-byte records as v128).

// Sorts of n items at `at`: runs of SMALL sorted by insertion, then merged (bottom-up,
// through n items of scratch at `tmp`, copied back when the last pass ended there). Stable; the
// record order is total and the values' ties are equal values, so any correct sort gives
// the same result. (A heapsort was ~2x the compares and swapped 16-byte records.) One sort
// for every item type: AssemblyScript compiles a generic once a type, `before` inlined.
const SMALL: u32 = 16;

// A static method, not a decorated function: eslint parses a method's decorator (as scan-finalise.ts EntryKey).
class Order {
  /**
   * The sorts' order of two items: u32 and f64 by value; a v128 is a 16-byte record
   * (assembly/shared/scan-finalise.ts foldKey's), ordered by its u64 at 0, then its u64 at 8.
   */
  @inline
  static before<T>(a: T, b: T): bool {
    if (isVector<T>()) {
      const ha = <u64>i64x2.extract_lane(a, 0);
      const hb = <u64>i64x2.extract_lane(b, 0);
      return ha < hb || (ha == hb && <u64>i64x2.extract_lane(a, 1) < <u64>i64x2.extract_lane(b, 1));
    }
    return a < b;
  }
}

export function sortItems<T>(at: u32, n: u32, tmp: u32): void {
  const size: u32 = sizeof<T>();
  for (let lo: u32 = 0; lo < n; lo += SMALL) {
    const hi = min(n, lo + SMALL);
    for (let i = lo + 1; i < hi; i++) {
      const x = load<T>(at + i * size);
      let j = i;
      for (; j > lo; j--) {
        const p = load<T>(at + (j - 1) * size);
        if (!Order.before<T>(x, p)) break;
        store<T>(at + j * size, p);
      }
      store<T>(at + j * size, x);
    }
  }
  let src = at;
  let dst = tmp;
  for (let width = SMALL; width < n; width <<= 1) {
    for (let lo: u32 = 0; lo < n; lo += width << 1) {
      const mid = min(n, lo + width);
      const hi = min(n, lo + (width << 1));
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        const a = load<T>(src + i * size);
        const b = load<T>(src + j * size);
        // ties from the left run first
        if (Order.before<T>(b, a)) {
          store<T>(dst + k * size, b);
          j++;
        } else {
          store<T>(dst + k * size, a);
          i++;
        }
        k++;
      }
      if (i < mid) memory.copy(dst + k * size, src + i * size, (mid - i) * size);
      else if (j < hi) memory.copy(dst + k * size, src + j * size, (hi - j) * size);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src != at) memory.copy(at, src, n * size);
}

