/**
 * The synthetic history of `npm run seed` (scripts/seed.mjs) as plain values,
 * no I/O: the metrics, their minute values (random walks around plausible
 * prices and volumes) and, with --days, the candles of the days before the
 * seeded minutes, computed with the tracker's own arithmetic (src/lib/moments.ts,
 * ported below) so that they are what its roll-up would have written.
 * test/e2e/seed.test.ts regenerates the minute values from here.
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The tracker's default retention of hourly candles (HOURLY_CANDLE_DAYS, docs/candles.md); daily ones are kept for ever. */
export const HOURLY_CANDLE_DAYS = 31;
/** The closed hours of the 7 d and 30 d windows of `sums.windows`. */
export const WINDOW_HOURS = [168, 720];

export const floorHour = (ts) => Math.floor(ts / HOUR) * HOUR;
export const floorDay = (ts) => Math.floor(ts / DAY) * DAY;

// [symbol, starting value, volatility per minute (relative)]
const NAMED = {
  price: [
    ["btcusd", 55000, 0.0009], ["btceur", 50050, 0.0008], ["ethusd", 3000, 0.0012], ["ethbtc", 0.05, 0.0006],
    ["adausd", 1.1122, 0.0018], ["1inchusd", 0.5, 0.002], ["solusd", 150, 0.0016], ["xrpusd", 0.6, 0.0015],
    ["dogeusd", 0.12, 0.0025], ["ltcusd", 90, 0.0011], ["dotusd", 7, 0.0014], ["linkusd", 15, 0.0013],
    ["avaxusd", 35, 0.0017], ["maticusd", 0.9, 0.0019], ["xlmusd", 0.11, 0.001], ["atomusd", 10, 0.0012],
  ],
  volume: [
    ["btc", 40, 0.004], ["eth", 100, 0.005], ["usd", 33359416.87, 0.003], ["eur", 750500, 0.004],
    ["ada", 28411055.5, 0.006], ["1inch", 1000, 0.008], ["sol", 52000, 0.005], ["xrp", 9100000, 0.004],
    ["doge", 88000000, 0.007], ["ltc", 21000, 0.004], ["dot", 310000, 0.005], ["link", 140000, 0.005],
  ],
};
export const NAMED_METRICS = NAMED.price.length + NAMED.volume.length;

/** A small deterministic PRNG (mulberry32), so every seed draws the same walks. */
export function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One minute back in time: a random step, pulled gently back toward `start`. */
const stepBack = (value, start, volatility, next) =>
  value * (1 + volatility * (next() + next() + next() - 1.5) * 2 + 0.02 * volatility * (start / value - 1));
/** A stored value: ten significant digits, as an exchange's price or volume has. */
const rounded = (value) => Number(value.toPrecision(10));

/**
 * The seeded minutes: `total` metrics (the named ones first, then synthetic
 * pairs `a17usd`, price, and assets `a17`, volume, alternating), and for each
 * a walk of `minutes` values, oldest first, drawn back in time from its start
 * (so live ticks, which read real values, continue it). `states` holds each
 * walk's unrounded value at its first minute, where its past continues.
 */
export function minuteDay(total, minutes) {
  const next = random(20261129);
  const metrics = { price: [...NAMED.price], volume: [...NAMED.volume] };
  for (let i = 0; metrics.price.length + metrics.volume.length < total; i++) {
    const type = i % 2 === 0 ? "price" : "volume";
    const start = Number((10 ** (next() * 8 - 3)).toPrecision(6));
    metrics[type].push([type === "price" ? `a${i}usd` : `a${i}`, start, 0.0005 + next() * 0.003]);
  }
  let over = metrics.price.length + metrics.volume.length - total;
  while (over-- > 0) (metrics.volume.length > metrics.price.length ? metrics.volume : metrics.price).pop();

  const series = { price: [], volume: [] };
  const states = { price: [], volume: [] };
  for (const type of ["price", "volume"]) {
    for (const [, start, volatility] of metrics[type]) {
      const walk = new Array(minutes);
      let value = start;
      for (let i = minutes - 1; i >= 0; i--) {
        value = stepBack(value, start, volatility, next);
        walk[i] = rounded(value);
      }
      series[type].push(walk);
      states[type].push(value);
    }
  }
  return { metrics, series, states };
}

/** FNV-1a of a string: each metric's past draws from a generator of its own. */
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * The past of a metric's walk: each call returns the value of one minute
 * earlier, starting with the minute before the first seeded one (`state` is
 * the walk's value there, minuteDay's `states`). Its own generator keeps the
 * seeded minutes the same with or without a past.
 */
export function pastWalk(type, [symbol, start, volatility], state) {
  const next = random(hash(`${type}:${symbol}`));
  let value = state;
  return () => rounded((value = stepBack(value, start, volatility, next)));
}

/**
 * Where the seeded candles end and the tracker's roll-up takes over, for
 * seeded minutes [first, end] and `days` days of daily candles:
 * - candlesUntil (tracker_state.candles_until): the hour after the first
 *   seeded minute's, whose candle the seed writes from the past and the seeded
 *   minutes together (60 values); only when that hour is over before the next
 *   tick (end + 1 min) does it belong to the tracker, which then rolls it up
 *   from the seeded minutes alone (as if it had started at `first`);
 * - daysUntil (days_until): the day of candlesUntil, the first not whole
 *   before it;
 * - from: the first minute of the past, `days` whole days before daysUntil;
 * - hourlyFrom: the first hourly candle, at most HOURLY_CANDLE_DAYS back.
 */
export function historyBounds(first, end, days) {
  const after = Math.ceil(first / HOUR) * HOUR;
  const candlesUntil = after <= floorHour(end + MINUTE) ? after : floorHour(first);
  const daysUntil = floorDay(candlesUntil);
  const from = daysUntil - days * DAY;
  return { candlesUntil, daysUntil, from, hourlyFrom: Math.max(from, candlesUntil - HOURLY_CANDLE_DAYS * DAY) };
}

// The arithmetic of src/lib/moments.ts, line for line: the candles must be
// exactly what the Worker computes.

const NO_MOMENTS = { n: 0, k: 0, d: 0, m2: 0 };

/** Two passes around k (the first value): the mean's offset d (with one correction step), then the squared deviations. */
export function momentsOf(values, k = values[0] ?? 0) {
  const n = values.length;
  if (n === 0) return NO_MOMENTS;
  let sum = 0;
  for (const x of values) sum += x - k;
  let d = sum / n;
  let d1 = 0;
  for (const x of values) d1 += x - k - d;
  d += d1 / n;
  let m2 = 0;
  for (const x of values) m2 += (x - k - d) * (x - k - d);
  return { n, k, d, m2 };
}

/** The moments of the union of two disjoint sets (Chan et al.), around a's shift. */
export function combine(a, b) {
  if (b.n === 0) return a;
  if (a.n === 0) return b;
  const n = a.n + b.n;
  const delta = b.k - a.k + (b.d - a.d);
  return { n, k: a.k, d: a.d + (delta * b.n) / n, m2: a.m2 + b.m2 + (delta * delta * a.n * b.n) / n };
}

/** The candle of consecutive minute values, oldest first. */
export function candleOf(values) {
  let high = -Infinity;
  let low = Infinity;
  for (const x of values) {
    if (x > high) high = x;
    if (x < low) low = x;
  }
  return { open: values[0], high, low, close: values.at(-1), ...momentsOf(values, values[0]) };
}

/** Consecutive candles, oldest first, as one (a day of hours). */
export function mergeCandles(candles) {
  let m = NO_MOMENTS;
  let high = -Infinity;
  let low = Infinity;
  for (const c of candles) {
    m = combine(m, c);
    if (c.high > high) high = c.high;
    if (c.low < low) low = c.low;
  }
  return { open: candles[0].open, high, low, close: candles.at(-1).close, ...m };
}

/**
 * One metric's candles before `bounds.candlesUntil`, as a tracker storing a
 * value every minute would have rolled them up: `hourly` from hourlyFrom and
 * `daily` from `from` to daysUntil, each [ts, candle] oldest first, and
 * `windows`, the moments of the closed hours of each WINDOW_HOURS window
 * combined oldest first. `previous` is its pastWalk; `walk` its seeded
 * minutes from `first` (the hour of `first` takes its values up to candlesUntil).
 */
export function metricHistory(previous, walk, first, bounds) {
  const { candlesUntil, daysUntil, from, hourlyFrom } = bounds;
  // Minutes the tracker holds as frames but did not see (candlesUntil < first): the walk passes them.
  for (let t = first - MINUTE; t >= candlesUntil; t -= MINUTE) previous();
  const hours = []; // [ts, candle], newest first
  const daily = [];
  // The day of candlesUntil: its row covers its hours before candlesUntil (the roll-up merges the next ones into it).
  const today = [];
  let day = [];
  const values = new Array(60);
  for (let h = candlesUntil - HOUR; h >= from; h -= HOUR) {
    for (let i = 59; i >= 0; i--) {
      const t = h + i * MINUTE;
      values[i] = t >= first ? walk[(t - first) / MINUTE] : previous();
    }
    const candle = candleOf(values);
    if (h >= hourlyFrom) hours.push([h, candle]);
    if (h >= daysUntil) today.push(candle);
    if (h < daysUntil) {
      day.push(candle);
      if (h % DAY === 0) {
        daily.push([h, mergeCandles(day.reverse())]);
        day = [];
      }
    }
  }
  hours.reverse();
  daily.reverse();
  if (today.length > 0) daily.push([daysUntil, mergeCandles(today.reverse())]);
  // The windows (30 d at most) lie inside the hourly candles' HOURLY_CANDLE_DAYS.
  const windows = WINDOW_HOURS.map((span) =>
    hours.filter(([h]) => h >= candlesUntil - span * HOUR).reduce((m, [, c]) => combine(m, c), NO_MOMENTS),
  );
  return { hourly: hours, daily, windows };
}
