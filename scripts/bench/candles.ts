/**
 * The candles' part of `npm run bench` (issue 18), run in workerd by
 * d1.bench.ts:
 *
 * - a month of minute values cannot go through ticks, so every metric's values
 *   over 30.5 days are generated (a seeded PRNG walk, regenerated at will) and
 *   written as the roll-up would have left them, in the stored layout: hourly
 *   candles (two passes per hour, momentsOf), daily ones merged from them
 *   (mergeCandles), the open hour and the window moments of the sums rows, the
 *   cursors of tracker_state; on the database CANDLES;
 * - the naive arm: the same hours stored one row per metric and hour
 *   (naive_hours: n, the mean's offset from the metric's first value, m2) and
 *   ranked in SQL with the exact combination formula, two passes;
 * - the reference: each metric's window std computed in two passes over its
 *   own minute values (shift, mean, squared deviations), metric by metric, so
 *   only one metric's month is in memory at a time.
 */
import { combine, mergeCandles, momentsOf, NO_MOMENTS, type Candle, type Moments, type TimedCandle } from "../../src/lib/moments";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/lib/time";
import { candles, rankWindow } from "../../src/storage/candle-queries";
import { DAILY_SPAN, HOURLY_SPAN, slotVariances } from "../../src/storage/candles";
import { BLOCK_SLOTS, PART_SLOTS, candleTuple, hourTuple, latestTuple, sumsTuple, variancesTuple, windowsTuple } from "../../src/storage/layout";
import { jsonArrayChunks } from "../../src/storage/payload";
import type { RankWindow } from "../../src/domain/intervals";
import type { Reader } from "../../src/storage/queries";
import { metered } from "../../test/unit/metered";
import { compareRanks, rankByVariance, type StdRow } from "./candle-figures";

const TYPES = ["price", "volume"] as const;
type MetricType = (typeof TYPES)[number];
const PREFIX: Record<MetricType, string> = { price: "p", volume: "v" };

/** Closed hours stored: 30 whole days and the 12 of the current day before C. */
export const CLOSED_HOURS = 30 * 24 + 12;
/** Minutes of the open hour already ticked. */
const OPEN_MINUTES = 30;
const MINUTES = CLOSED_HOURS * 60 + OPEN_MINUTES;
/** Older daily candles, so that a year of them can be read (synthetic: only their read cost matters). */
const OLDER_DAYS = 335;

/** mulberry32: a seeded generator in [0, 1), the same sequence every time. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seedOf = (type: MetricType, i: number) => Math.imul(i + 1, 0x85ebca6b) ^ (type === "price" ? 0x1b873593 : 0x27d4eb2f);

/**
 * Metric i's minute values, minute 0 first (NaN: no value that minute). Price
 * kinds by i % 10: 0 a stablecoin (1 ± 1.7e-6, independent minutes), 1 a
 * volume near 1e12 changing by units, 2 constant (std 0: ties), 3 a walk
 * missing 30 % of its minutes and 5 % of its hours, others a multiplicative
 * walk from 1e-4 to 1e5. Volumes: independent around 1e6, or a walk.
 */
export function minuteValues(type: MetricType, i: number, out: Float64Array): Float64Array {
  const u = generator(seedOf(type, i));
  const kind = type === "volume" ? (i % 2 === 0 ? "noise" : "walk") : (["stable", "units", "constant", "gappy"][i % 10] ?? "walk");
  let x = type === "volume" ? 1e6 * (1 + (i % 89) / 89) : Math.pow(10, (i % 10) - 5) * (1 + (i % 97) / 97);
  let hourMissing = false;
  for (let m = 0; m < out.length; m++) {
    const r = u();
    switch (kind) {
      case "stable":
        out[m] = 1 + (r - 0.5) * 3.46e-6;
        break;
      case "units":
        out[m] = 1e12 + Math.round(r * 100);
        break;
      case "constant":
        out[m] = 1 + (i % 7) * 0.1;
        break;
      case "noise":
        out[m] = 1e6 * (1 + r);
        break;
      case "gappy":
        if (m % 60 === 0) hourMissing = u() < 0.05;
        x *= 1 + 2e-3 * (r - 0.5);
        out[m] = hourMissing || u() < 0.3 ? NaN : x;
        break;
      default:
        x *= 1 + 2e-3 * (r - 0.5);
        out[m] = x;
    }
  }
  return out;
}

/** The candle of minutes [from, to) of `values` (two passes around the open, as the roll-up's candleOf); null without a value. */
function candleAt(values: Float64Array, from: number, to: number): Candle | null {
  const present: number[] = [];
  let high = -Infinity;
  let low = Infinity;
  for (let m = from; m < to; m++) {
    const x = values[m]!;
    if (Number.isNaN(x)) continue;
    present.push(x);
    if (x > high) high = x;
    if (x < low) low = x;
  }
  if (present.length === 0) return null;
  return { open: present[0]!, high, low, close: present.at(-1)!, ...momentsOf(present, present[0]) };
}

/** The reference: the population variance of minutes [from, to) in two passes (around the first value, then around the mean). */
function twoPassVariance(values: Float64Array, from: number, to: number): number | null {
  let k = NaN;
  let n = 0;
  let sum = 0;
  for (let m = from; m < to; m++) {
    const x = values[m]!;
    if (Number.isNaN(x)) continue;
    if (n === 0) k = x;
    n++;
    sum += x - k;
  }
  if (n === 0) return null;
  const offset = sum / n;
  let m2 = 0;
  for (let m = from; m < to; m++) {
    const x = values[m]!;
    if (!Number.isNaN(x)) m2 += (x - k - offset) * (x - k - offset);
  }
  return m2 / n;
}

/** The naive arm's table: the hourly data one row per metric and hour. Bench only: never in the tracker's schema. */
const NAIVE_TABLE = `CREATE TABLE IF NOT EXISTS naive_hours (
  metric_id INTEGER NOT NULL, hour INTEGER NOT NULL, n INTEGER NOT NULL, d REAL NOT NULL, m2 REAL NOT NULL,
  PRIMARY KEY (metric_id, hour)) STRICT, WITHOUT ROWID`;

/**
 * The naive ranking over the window [from, to] of hours: per metric the total
 * count and mean offset, then m2 = sum(m2_h) + sum(n_h (d_h - d)^2) (the exact
 * combination of many parts: within-hour plus between-hour deviations), every
 * offset against the metric's first value, so no digit is lost to a large level.
 */
const NAIVE_RANK = `
  WITH w AS (
    SELECT h.metric_id, h.n, h.d, h.m2 FROM metrics m JOIN naive_hours h ON h.metric_id = m.id
    WHERE m.metric_type = ?1 AND h.hour >= ?2 AND h.hour <= ?3
  ),
  total AS (SELECT metric_id, sum(n) AS n, sum(n * d) / sum(n) AS d FROM w GROUP BY metric_id),
  variances AS (
    SELECT w.metric_id, (sum(w.m2) + sum(w.n * (w.d - t.d) * (w.d - t.d))) / t.n AS variance
    FROM w JOIN total t USING (metric_id) GROUP BY w.metric_id
  )
  SELECT m.symbol, sqrt(variance) AS stddev, RANK() OVER (ORDER BY variance DESC) AS rank
  FROM variances v JOIN metrics m ON m.id = v.metric_id
  ORDER BY rank, m.symbol`;

const WINDOW_HOURS: Record<RankWindow, number> = { "7d": 168, "30d": 720 };

export interface CandleMonth {
  /** C: hours before it are rolled up; the open hour starts there. */
  candlesUntil: number;
  now: number;
  /** The reference ranking per type and window. */
  reference: Record<MetricType, Record<RankWindow, StdRow[]>>;
  seed: { ms: number; hourly_rows: number; daily_rows: number; naive_rows: number; older_daily_rows: number; statements: number };
  size: Awaited<ReturnType<typeof candleStorage>> & { file_growth: Record<number, number> };
}

/** Statements run, and the database's growth (D1's meta.size_after, bytes) caused by the candles' inserts. */
interface Progress {
  statements: number;
  size: number;
  candleBytes: Record<number, number>;
}

/** Runs statements in batches; each candles insert (span given) adds its growth of the database file to progress.candleBytes. */
async function run(db: D1Database, statements: (readonly [span: number | null, statement: D1PreparedStatement])[], progress: Progress) {
  for (let i = 0; i < statements.length; i += 50) {
    const some = statements.slice(i, i + 50);
    const results = await db.batch(some.map(([, statement]) => statement));
    results.forEach((result, j) => {
      const span = some[j]![0];
      if (span !== null) progress.candleBytes[span] = (progress.candleBytes[span] ?? 0) + result.meta.size_after - progress.size;
      progress.size = result.meta.size_after;
    });
  }
  progress.statements += statements.length;
}

const insertCandles = (db: D1Database, span: number, rows: unknown[][]) =>
  jsonArrayChunks(rows).map((chunk) => [
    span,
    db
      .prepare(
        `INSERT INTO candles (metric_type, span, block, ts, c)
         SELECT value ->> 0, ?1, value ->> 1, value ->> 2, json(value -> 3) FROM json_each(?2) WHERE true`,
      )
      .bind(span, chunk),
  ] as const);

/**
 * Seeds CANDLES with `metrics` price + `metrics` volume metrics and a month of
 * their candles as of C = candlesUntil (the open hour: its first 30 minutes),
 * the naive arm's table, and returns the reference ranking.
 */
export async function seedCandleMonth(db: D1Database, metrics: number, candlesUntil: number): Promise<CandleMonth> {
  const started = performance.now();
  const first = candlesUntil - CLOSED_HOURS * HOUR_MS;
  const count: Progress = { statements: 0, size: (await db.prepare("SELECT 1").run()).meta.size_after, candleBytes: {} };
  const seed = { hourly_rows: 0, daily_rows: 0, naive_rows: 0, older_daily_rows: 0 };
  await db.prepare(NAIVE_TABLE).run();
  const reference = {} as CandleMonth["reference"];
  const values = new Float64Array(MINUTES);
  for (const [t, type] of TYPES.entries()) {
    const idBase = t * metrics;
    await db
      .prepare(
        `WITH RECURSIVE i (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i < ?1 - 1)
         INSERT INTO metrics (id, metric_type, symbol, slot) SELECT ?2 + i + 1, ?3, ?4 || i, i FROM i`,
      )
      .bind(metrics, idBase, type, PREFIX[type])
      .run();
    const variances: Record<RankWindow, { symbol: string; variance: number }[]> = { "7d": [], "30d": [] };
    const sums: { data: unknown; latest: unknown; hour: unknown; windows: unknown; variances: unknown }[] = [];
    for (let block = 0; block * BLOCK_SLOTS < metrics; block++) {
      const hours: (unknown[] | null)[][] = Array.from({ length: CLOSED_HOURS }, () => Array<unknown[] | null>(BLOCK_SLOTS).fill(null));
      const days: (unknown[] | null)[][] = Array.from({ length: Math.floor(CLOSED_HOURS / 24) }, () => Array<unknown[] | null>(BLOCK_SLOTS).fill(null));
      const naive: unknown[][] = [];
      for (let s = 0; s < BLOCK_SLOTS && block * BLOCK_SLOTS + s < metrics; s++) {
        const i = block * BLOCK_SLOTS + s;
        const symbol = `${PREFIX[type]}${i}`;
        minuteValues(type, i, values);
        let shift = NaN;
        const closed: (Candle | null)[] = [];
        for (let h = 0; h <= CLOSED_HOURS; h++) {
          const c = candleAt(values, h * 60, Math.min((h + 1) * 60, MINUTES));
          if (h < CLOSED_HOURS) closed.push(c);
          if (!c) continue;
          if (Number.isNaN(shift)) shift = c.open;
          if (h < CLOSED_HOURS) hours[h]![s] = candleTuple(symbol, c);
          // The naive row: the hour's mean as an offset from the metric's first value (k - shift is exact or nearly).
          naive.push([idBase + i + 1, first + h * HOUR_MS, c.n, c.k - shift + c.d, c.m2]);
        }
        for (let day = 0; day < days.length; day++) {
          const merged = mergeCandles(closed.slice(day * 24, day * 24 + 24).filter((c): c is Candle => c !== null));
          if (merged) days[day]![s] = candleTuple(symbol, merged);
        }
        const window = (hoursBack: number): Moments =>
          closed.slice(CLOSED_HOURS - hoursBack).reduce<Moments>((m, c) => (c ? combine(m, c) : m), NO_MOMENTS);
        const week = window(WINDOW_HOURS["7d"]);
        const month = window(WINDOW_HOURS["30d"]);
        const open = candleAt(values, CLOSED_HOURS * 60, MINUTES);
        let openHour: TimedCandle | null = null;
        if (open) {
          let openTs = NaN;
          let closeTs = NaN;
          for (let m = CLOSED_HOURS * 60; m < MINUTES; m++) {
            if (Number.isNaN(values[m]!)) continue;
            if (Number.isNaN(openTs)) openTs = first + m * MINUTE_MS;
            closeTs = first + m * MINUTE_MS;
          }
          openHour = { ...open, openTs, closeTs };
        }
        sums.push({
          data: sumsTuple({ symbol, n: 0, s1: 0, s2: 0, k: Number.isNaN(shift) ? 0 : shift, e: null }),
          latest: latestTuple({ symbol, ts: null, value: null, figures: null }),
          hour: openHour && hourTuple(openHour),
          windows: week.n > 0 || month.n > 0 ? windowsTuple([week, month]) : null,
          // As the ledger writes them (hour_ts = candles_until below: the open hour counts).
          variances: variancesTuple(slotVariances({ symbol, hour: openHour, windows: [week, month] }, true)),
        });
        for (const w of ["7d", "30d"] as const) {
          const variance = twoPassVariance(values, (CLOSED_HOURS - WINDOW_HOURS[w]) * 60, MINUTES);
          if (variance !== null) variances[w].push({ symbol, variance });
        }
      }
      const hourly = hours.flatMap((cells, h) => (cells.some((c) => c) ? [[type, block, first + h * HOUR_MS, cells]] : []));
      const daily = days.flatMap((cells, d) => (cells.some((c) => c) ? [[type, block, first + d * DAY_MS, cells]] : []));
      seed.hourly_rows += hourly.length;
      seed.daily_rows += daily.length;
      seed.naive_rows += naive.length;
      await run(
        db,
        [
          ...insertCandles(db, HOURLY_SPAN, hourly),
          ...insertCandles(db, DAILY_SPAN, daily),
          ...jsonArrayChunks(naive).map(
            (chunk) =>
              [
                null,
                db
                  .prepare("INSERT INTO naive_hours (metric_id, hour, n, d, m2) SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?1)")
                  .bind(chunk),
              ] as const,
          ),
        ],
        count,
      );
    }
    const parts: D1PreparedStatement[] = [];
    for (let part = 0; part * PART_SLOTS < metrics; part++) {
      const slice = sums.slice(part * PART_SLOTS, (part + 1) * PART_SLOTS);
      parts.push(
        db
          .prepare("INSERT INTO sums (metric_type, part, data, latest, hour, windows, variances) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")
          .bind(
            type,
            part,
            JSON.stringify(slice.map((e) => e.data)),
            JSON.stringify(slice.map((e) => e.latest)),
            JSON.stringify(slice.map((e) => e.hour)),
            JSON.stringify(slice.map((e) => e.windows)),
            JSON.stringify(slice.map((e) => e.variances)),
          ),
      );
    }
    await run(db, parts.map((statement) => [null, statement] as const), count);
    reference[type] = { "7d": rankByVariance(variances["7d"]), "30d": rankByVariance(variances["30d"]) };
  }
  const lastTick = first + (MINUTES - 1) * MINUTE_MS;
  await db
    .prepare(
      `UPDATE tracker_state SET candles_until = ?1, days_until = ?2, hour_ts = ?1, last_tick = ?3, last_tick_stored_at = ?3,
         lo = ?3 - 86400000, hi = ?3, purged_until = ?3 - 86400000, version = 1`,
    )
    .bind(candlesUntil, Math.floor(candlesUntil / DAY_MS) * DAY_MS, lastTick)
    .run();
  // Measured now: the candles of the month, before the older synthetic days are added.
  const size = { ...(await candleStorage(db)), file_growth: { ...count.candleBytes } };
  seed.older_daily_rows = await seedOlderDays(db, metrics, first, count);
  return { candlesUntil, now: lastTick + 5_000, reference, seed: { ...seed, statements: count.statements, ms: performance.now() - started }, size };
}

/** Daily candles for the OLDER_DAYS before the month (each from 24 values of its own walk): a year of days to read. */
async function seedOlderDays(db: D1Database, metrics: number, first: number, count: Progress): Promise<number> {
  let rows = 0;
  for (const type of TYPES) {
    for (let block = 0; block * BLOCK_SLOTS < metrics; block++) {
      const out: unknown[][] = [];
      for (let day = 1; day <= OLDER_DAYS; day++) {
        const cells = Array.from({ length: Math.min(BLOCK_SLOTS, metrics - block * BLOCK_SLOTS) }, (_, s) => {
          const u = generator(seedOf(type, block * BLOCK_SLOTS + s) ^ Math.imul(day, 0x9e3779b1));
          const level = type === "volume" ? 1e6 : Math.pow(10, ((block * BLOCK_SLOTS + s) % 10) - 5);
          const xs = Array.from({ length: 24 }, () => level * (1 + 0.05 * (u() - 0.5)));
          return candleTuple(`${PREFIX[type]}${block * BLOCK_SLOTS + s}`, {
            open: xs[0]!,
            high: Math.max(...xs),
            low: Math.min(...xs),
            close: xs[23]!,
            ...momentsOf(xs),
          });
        });
        out.push([type, block, first - day * DAY_MS, cells]);
      }
      rows += out.length;
      await run(db, insertCandles(db, DAILY_SPAN, out), count);
    }
  }
  return rows;
}

/**
 * What the candles table takes: per span its rows and the bytes of their
 * columns (length(c) and the key's), and, where SQLite's dbstat table is
 * available (not in local D1), the pages of the table's B-tree. The seed also
 * records how much the database file grew with each candles insert
 * (meta.size_after): the bytes on disk, page overhead and overflow included.
 */
export async function candleStorage(db: D1Database) {
  const { results } = await db
    .prepare(
      `SELECT span, count(*) AS rows, sum(length(c)) AS c_bytes,
              sum(length(metric_type) + 4 + 2 + 6) AS key_bytes
       FROM candles GROUP BY span ORDER BY span`,
    )
    .all<{ span: number; rows: number; c_bytes: number; key_bytes: number }>();
  let pages: { bytes: number; unused: number; pages: number; payload: number } | { error: string };
  try {
    pages =
      (await db
        .prepare("SELECT sum(pgsize) AS bytes, sum(unused) AS unused, count(*) AS pages, sum(payload) AS payload FROM dbstat WHERE name = 'candles'")
        .first<{ bytes: number; unused: number; pages: number; payload: number }>()) ?? { error: "no row" };
  } catch (err) {
    pages = { error: String(err).slice(0, 200) };
  }
  return { by_span: results, pages };
}

type Timed = { rows_read: number; count: number; ms: number[] };

/** Times `read` `runs` times (each over `repeat` back-to-back calls: workerd's clock moves in whole ms), with D1's rows of one call. */
async function measure<T>(db: D1Database, read: (reader: Reader) => Promise<T>, runs: number, repeat: number, size: (t: T) => number) {
  const { reader, cost } = metered(db);
  const result = await read(reader);
  const timed: Timed = { rows_read: cost().rowsRead, count: size(result), ms: [] };
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    for (let i = 0; i < repeat; i++) await read(db);
    timed.ms.push((performance.now() - started) / repeat);
  }
  return { timed, result };
}

/** One metric's 30 days of hourly and 365 of daily candles; the two windows ranked, ours and naive, each against the reference. */
export async function measureCandleReads(db: D1Database, month: CandleMonth, runs: number, naiveRuns: number) {
  const { now } = month;
  const hourly = await measure(db, (r) => candles(r, "price", "p17", "1h", now - 30 * DAY_MS, now, now), runs, 10, (c) => c?.length ?? 0);
  const daily = await measure(db, (r) => candles(r, "price", "p17", "1d", now - 364 * DAY_MS, now, now), runs, 10, (c) => c?.length ?? 0);
  const rank: Record<string, unknown> = {};
  for (const window of ["7d", "30d"] as const) {
    const from = month.candlesUntil - WINDOW_HOURS[window] * HOUR_MS;
    const naiveRank = (r: Reader, type: string) =>
      r.prepare(NAIVE_RANK).bind(type, from, month.candlesUntil).all<StdRow>().then((x) => x.results);
    const ours = await measure(db, (r) => rankWindow(r, "price", window), runs, 10, (rows) => rows.length);
    const naive = await measure(db, (r) => naiveRank(r, "price"), naiveRuns, 1, (rows) => rows.length);
    const exactness = { ours: { mismatches: 0, worstRelative: 0, examples: [] as string[] }, naive: { mismatches: 0, worstRelative: 0, examples: [] as string[] }, ours_vs_naive: 0 };
    for (const type of TYPES) {
      const oursRows = type === "price" ? ours.result : await rankWindow(db, type, window);
      const naiveRows = type === "price" ? naive.result : await naiveRank(db, type);
      const reference = month.reference[type][window];
      for (const [arm, rows] of [["ours", oursRows], ["naive", naiveRows]] as const) {
        const c = compareRanks(rows, reference);
        exactness[arm].mismatches += c.mismatches;
        exactness[arm].worstRelative = Math.max(exactness[arm].worstRelative, c.worstRelative);
        exactness[arm].examples.push(...c.examples);
      }
      exactness.ours_vs_naive += compareRanks(oursRows, naiveRows).mismatches;
    }
    rank[window] = { ours: ours.timed, naive: naive.timed, exactness, metrics: ours.result.length };
  }
  return { hourly: hourly.timed, daily: daily.timed, rank };
}
