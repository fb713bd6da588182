/**
 * Moments that combine exactly: a set of values as (n, mean, m2), with
 * m2 = sum((x - mean)^2). Two sets combine with Chan et al.'s parallel formula
 * and a part can be taken out again, without the cancellation of sum(x^2)
 * - n·mean² (prices near 100,000 that move by 1e-6 keep their std).
 * The std is the population one, as the rank's: sqrt(m2 / n).
 */
export interface Moments {
  n: number;
  mean: number;
  m2: number;
}

export const NO_MOMENTS: Moments = { n: 0, mean: 0, m2: 0 };

/** Two passes: the mean, then the squared deviations from it. */
export function momentsOf(values: readonly number[]): Moments {
  const n = values.length;
  if (n === 0) return NO_MOMENTS;
  let sum = 0;
  for (const x of values) sum += x;
  let mean = sum / n;
  // One correction step (the mean of the deviations) makes the mean exact to rounding.
  let d1 = 0;
  for (const x of values) d1 += x - mean;
  mean += d1 / n;
  let m2 = 0;
  for (const x of values) m2 += (x - mean) * (x - mean);
  return { n, mean, m2 };
}

/** The moments of the union of two disjoint sets (Chan et al.). */
export function combine(a: Moments, b: Moments): Moments {
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const delta = b.mean - a.mean;
  return { n, mean: a.mean + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

/** The moments of `total` without its subset `part` (combine's inverse); empty when nothing is left. */
export function remove(total: Moments, part: Moments): Moments {
  if (part.n === 0) return total;
  const n = total.n - part.n;
  if (n <= 0) return NO_MOMENTS;
  const mean = total.mean + ((total.mean - part.mean) * part.n) / n;
  const delta = part.mean - mean;
  const m2 = total.m2 - part.m2 - (delta * delta * n * part.n) / total.n;
  return { n, mean, m2: Math.max(m2, 0) };
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
  const m = momentsOf(points.map((p) => p[1]));
  return { open: first[1], high, low, close: last[1], ...m, openTs: first[0], closeTs: last[0] };
}

/** A timed candle with one more value (a tick's), wherever in time it falls. */
export function addValue(c: TimedCandle | null, ts: number, value: number): TimedCandle {
  if (!c) return { open: value, high: value, low: value, close: value, n: 1, mean: value, m2: 0, openTs: ts, closeTs: ts };
  const m = combine(c, { n: 1, mean: value, m2: 0 });
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
