/**
 * Moments that combine exactly: a set of values as (n, mean, m2), with
 * m2 = sum((x - mean)^2) and the mean kept as k + d (a value of the set and
 * the offset from it). Two sets combine with Chan et al.'s parallel formula
 * and a part can be taken out again, without the cancellation of sum(x^2)
 * - n·mean² (prices near 100,000 that move by 1e-6 keep their std).
 * The std is the population one, as the rank's: sqrt(m2 / n).
 */
export interface Moments {
  n: number;
  /** The shift: a value of the set (a candle's open). The mean is k + d, kept apart so that no digit of d is lost. */
  k: number;
  /** mean - k. */
  d: number;
  /** sum((x - mean)^2). */
  m2: number;
}

export const NO_MOMENTS: Moments = { n: 0, k: 0, d: 0, m2: 0 };

export const meanOf = (m: Moments): number => m.k + m.d;

/** Two passes around k (default: the first value): the mean's offset, then the squared deviations from it. */
export function momentsOf(values: readonly number[], k = values[0] ?? 0): Moments {
  const n = values.length;
  if (n === 0) return NO_MOMENTS;
  let sum = 0;
  for (const x of values) sum += x - k;
  let d = sum / n;
  // One correction step (the mean of the deviations) makes the offset exact to rounding.
  let d1 = 0;
  for (const x of values) d1 += x - k - d;
  d += d1 / n;
  let m2 = 0;
  for (const x of values) m2 += (x - k - d) * (x - k - d);
  return { n, k, d, m2 };
}

/**
 * The moments of the union of two disjoint sets (Chan et al.), around a's
 * shift: the difference of the means is (kb - ka) + (db - da), each part
 * exact or nearly, so a move of 1e-6 on a price of 100,000 keeps its digits.
 */
export function combine(a: Moments, b: Moments): Moments {
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const delta = b.k - a.k + (b.d - a.d);
  return { n, k: a.k, d: a.d + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

/** The moments of `total` without its subset `part` (combine's inverse), around total's shift; empty when nothing is left. */
export function remove(total: Moments, part: Moments): Moments {
  if (part.n === 0) return total;
  const n = total.n - part.n;
  if (n <= 0) return NO_MOMENTS;
  // part's mean minus total's, then the rest's mean: total's moved away from part's.
  const fromTotal = part.k - total.k + (part.d - total.d);
  const d = total.d - (fromTotal * part.n) / n;
  const delta = part.k - total.k + (part.d - d);
  const m2 = total.m2 - part.m2 - (delta * delta * n * part.n) / total.n;
  return { n, k: total.k, d, m2: Math.max(m2, 0) };
}

/** Population standard deviation; null without values. */
export const stdOf = (m: Moments): number | null => (m.n > 0 ? Math.sqrt(Math.max(m.m2, 0) / m.n) : null);

/** A candle: the values of an interval as open (first), high, low, close (last) and their moments. */
export interface Candle extends Moments {
  open: number;
  high: number;
  low: number;
  close: number;
}

/** A candle while it is built, with the times of its first and last values (late values may come first). */
export interface TimedCandle extends Candle {
  openTs: number;
  closeTs: number;
}

/** The candle of (ts, value) pairs in any order; null without any. */
export function candleOf(points: readonly (readonly [ts: number, value: number])[]): TimedCandle | null {
  if (points.length === 0) return null;
  let first = points[0]!;
  let last = points[0]!;
  let high = -Infinity;
  let low = Infinity;
  for (const p of points) {
    if (p[0] < first[0]) first = p;
    if (p[0] > last[0]) last = p;
    if (p[1] > high) high = p[1];
    if (p[1] < low) low = p[1];
  }
  // Around the open: a stored candle's shift is its open (its d is mean - open).
  const m = momentsOf(points.map((p) => p[1]), first[1]);
  return { open: first[1], high, low, close: last[1], ...m, openTs: first[0], closeTs: last[0] };
}

/** A timed candle with one more value (a tick's), wherever in time it falls. */
export function addValue(c: TimedCandle | null, ts: number, value: number): TimedCandle {
  if (!c) return { open: value, high: value, low: value, close: value, n: 1, k: value, d: 0, m2: 0, openTs: ts, closeTs: ts };
  const m = combine(c, { n: 1, k: value, d: 0, m2: 0 });
  return {
    ...m,
    open: ts < c.openTs ? value : c.open,
    openTs: Math.min(ts, c.openTs),
    close: ts > c.closeTs ? value : c.close,
    closeTs: Math.max(ts, c.closeTs),
    high: Math.max(c.high, value),
    low: Math.min(c.low, value),
  };
}

/** Consecutive candles, oldest first, as one (a day of hours, a week...). */
export function mergeCandles(candles: readonly Candle[]): Candle | null {
  if (candles.length === 0) return null;
  let m: Moments = NO_MOMENTS;
  let high = -Infinity;
  let low = Infinity;
  for (const c of candles) {
    m = combine(m, c);
    if (c.high > high) high = c.high;
    if (c.low < low) low = c.low;
  }
  return { open: candles[0]!.open, high, low, close: candles.at(-1)!.close, ...m };
}
