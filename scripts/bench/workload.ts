/**
 * The benchmark's workload: the tracker's own storage functions ("ours", on
 * DB) and today's design before issue 10 ("baseline", scripts/bench/baseline.ts
 * on its own database BASELINE), fed the same data, plus the naive rank on the
 * baseline's points. Everything measured with D1's own meta.
 */
import type { Point } from "../../src/domain/point";
import { aggregate } from "../../src/ingest/aggregate";
import { breakdownsBySource } from "../../src/ingest/breakdown";
import { breakdownStatements } from "../../src/storage/breakdowns";
import type { MarketSummary } from "../../src/sources/types";
import { readDayState, segmentOf, STALE } from "../../src/storage/day";
import { BLOCK_SLOTS, PART_SLOTS } from "../../src/storage/ledger";
import { history, latestPoint, latestPoints, listMetrics, rankAll, type Reader } from "../../src/storage/queries";
import { recordSourceStatuses, latestSourceStatuses } from "../../src/storage/sources";
import { claimTick, cost, insertTick, maintainStorage, readState, type StepOptions, type WriteCost } from "../../src/storage/ticks";
import { DEFAULT_RETENTION, HOURLY_SPAN, type Retention } from "../../src/storage/candles";
import { HOUR_MS, MINUTE_MS } from "../../src/lib/time";
import { windowEndingAt, type Window } from "../../src/storage/window";
import { metered } from "../../test/unit/metered";
import * as baseline from "./baseline";

/**
 * Deterministic pseudo-random in [0, 1) from two integers. The square keeps
 * one metric's series from being a time-shift of another's (which a linear
 * generator does, making stds tie exactly); it stays within SQLite's 64-bit
 * integers.
 */
const unitSql = (a: string, b: string) =>
  `(((((${a} * 1000003 + ${b}) * 48271) % 2147483647) * ((((${a} * 1000003 + ${b}) * 48271) % 2147483647))) % 2147483647) / 2147483647.0`;
/** The same idea for the live ticks, in JavaScript. */
const unit = (a: number, b: number) => {
  const x = Math.sin(a * 12.9898 + b * 78.233) * 43758.5453;
  return x - Math.floor(x);
};

/**
 * The value of price metric i at minute k (minutes since the epoch). Kinds, by
 * i % 10: 0 a stablecoin (mean 1, std ~1e-6); 1 a volume near 1e12 changing by
 * units; 2 constant (std 0, ties); 3 missing 30 % of minutes; others ordinary
 * prices from 1e-4 to 1e5. Volume metric i: around 1e6.
 */
function valueSql(type: "price" | "volume", i: string, k: string): string {
  const u = unitSql(i, k);
  if (type === "volume") return `1e6 * (1 + ${unitSql(`(${i} + 7)`, k)})`;
  return `CASE ${i} % 10
    WHEN 0 THEN 1.0 + (${u} - 0.5) * 3.46e-6
    WHEN 1 THEN 1e12 + round(${u} * 100)
    WHEN 2 THEN 1.0 + (${i} % 7) * 0.1
    ELSE pow(10, (${i} % 10) - 5) * (1 + 0.05 * (${u} - 0.5)) END`;
}
const presentSql = (type: "price" | "volume", i: string, k: string) =>
  type === "volume" ? "1" : `(${i} % 10 != 3 OR ${unitSql(k, i)} >= 0.3)`;

function value(i: number, k: number): number {
  const u = unit(i, k);
  switch (i % 10) {
    case 0:
      return 1.0 + (u - 0.5) * 3.46e-6;
    case 1:
      return 1e12 + Math.round(u * 100);
    case 2:
      return 1.0 + (i % 7) * 0.1;
    default:
      return Math.pow(10, (i % 10) - 5) * (1 + 0.05 * (u - 0.5));
  }
}

const present = (i: number, k: number) => i % 10 !== 3 || unit(k, i) >= 0.3;
const TYPES = ["price", "volume"] as const;
const prefix = { price: "p", volume: "v" };

/** The naive design: scan every point of the type in the window, two passes. */
const NAIVE_RANK = `
  WITH w AS (
    SELECT p.metric_id, p.value FROM metrics m JOIN points p ON p.metric_id = m.id
    WHERE m.metric_type = ?1 AND p.ts > ?2 AND p.ts <= ?3
  ),
  means AS (SELECT metric_id, avg(value) AS mu, count(*) AS n, min(value) = max(value) AS flat FROM w GROUP BY metric_id),
  variances AS (
    SELECT w.metric_id,
           CASE WHEN means.flat THEN 0.0 ELSE sum((w.value - means.mu) * (w.value - means.mu)) / means.n END AS variance
    FROM w JOIN means USING (metric_id) GROUP BY w.metric_id
  )
  SELECT m.symbol, sqrt(variance) AS stddev, RANK() OVER (ORDER BY variance DESC) AS rank, count(*) OVER () AS total
  FROM variances v JOIN metrics m ON m.id = v.metric_id
  ORDER BY rank, m.symbol`;

async function naiveRank(db: Reader, metricType: string, window: Window) {
  const { results } = await db
    .prepare(NAIVE_RANK)
    .bind(metricType, window.since, window.until)
    .all<{ symbol: string; stddev: number; rank: number; total: number }>();
  return results;
}

export function tickPoints(metrics: number, minute: number): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < metrics; i++) {
    if (present(i, minute)) points.push({ metric_type: "price", symbol: `p${i}`, value: value(i, minute) });
    points.push({ metric_type: "volume", symbol: `v${i}`, value: 1e6 * (1 + unit(i + 7, minute)) });
  }
  return points;
}

/** What a tick's run writes besides the tick: each source's status (7 sources). */
const STATUSES = ["kraken", "coinbase", "bitstamp", "okx", "kucoin", "bitfinex", "binance"].map((source) => ({
  source,
  status: "ok" as const,
  markets: 600,
  dropped: {},
  latency_ms: 200,
  error: null,
}));

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  // Inside workerd the clock advances across I/O only: each D1 call is I/O,
  // so this measures the queries, not the JavaScript around them.
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

export interface Measured {
  cost: WriteCost;
  ms: number;
}

const seedTicks = (db: D1Database, last: number, minutes: number) =>
  db
    .prepare(
      `WITH RECURSIVE k (k) AS (SELECT ?1 - ?2 + 1 UNION ALL SELECT k + 1 FROM k WHERE k < ?1)
       INSERT INTO ticks (ts, stored_at, markets, points) SELECT k * 60000, k * 60000, 0, 0 FROM k`,
    )
    .bind(last, minutes)
    .run();

/** Baseline: metrics p0.., v0.. with `minutes` points each, the newest at minute `last`; one row per point. */
export async function seedBaseline(db: D1Database, metrics: number, minutes: number, last: number): Promise<number> {
  for (const [t, type] of TYPES.entries()) {
    await db
      .prepare(
        `WITH RECURSIVE i (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i < ?1 - 1)
         INSERT INTO metrics (id, metric_type, symbol, shift)
         SELECT ?3 + i + 1, '${type}', '${prefix[type]}' || i, ${valueSql(type, "i", "?2")} FROM i`,
      )
      // As the tick does, a metric is shifted by its first value.
      .bind(metrics, last - minutes + 1, t * metrics)
      .run();
    const chunk = 50;
    for (let from = 0; from < metrics; from += chunk) {
      await db
        .prepare(
          `WITH RECURSIVE i (i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM i WHERE i < ?2 - 1),
           k (k) AS (SELECT ?3 - ?4 + 1 UNION ALL SELECT k + 1 FROM k WHERE k < ?3)
           INSERT INTO points (metric_id, ts, value)
           SELECT ?5 + i + 1, k * 60000, ${valueSql(type, "i", "k")} FROM i, k
           WHERE ${presentSql(type, "i", "k")}
           ORDER BY i, k`,
        )
        .bind(from, Math.min(from + chunk, metrics), last, minutes, t * metrics)
        .run();
    }
  }
  await seedTicks(db, last, minutes);
  await db.prepare("UPDATE tracker_state SET last_tick = ?1, version = 1").bind(last * MINUTE_MS).run();
  const count = await db.prepare("SELECT count(*) AS n FROM points").first<{ n: number }>();
  return count?.n ?? 0;
}

/**
 * Ours, the same data: frames written in SQL, block by block; the sums built
 * by the scheduled maintenance itself (lo extends back over the stored minutes
 * in bounded chunks, as after a migration). Returns the maintenance runs' cost.
 */
export async function seedOurs(db: D1Database, metrics: number, minutes: number, last: number, options: StepOptions = {}) {
  for (const type of TYPES) {
    await db
      .prepare(
        `WITH RECURSIVE i (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i < ?1 - 1)
         INSERT INTO metrics (metric_type, symbol, slot) SELECT '${type}', '${prefix[type]}' || i, i FROM i`,
      )
      .bind(metrics)
      .run();
    await db
      .prepare(
        `WITH RECURSIVE i (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i < ?1 - 1)
         INSERT INTO sums (metric_type, part, data, latest)
         SELECT '${type}', i / ${PART_SLOTS},
                json_group_array(json_array('${prefix[type]}' || i, 0, 0.0, 0.0, ${valueSql(type, "i", "?2")}, NULL) ORDER BY i),
                json_group_array(json_array('${prefix[type]}' || i, NULL, NULL) ORDER BY i)
         FROM i GROUP BY i / ${PART_SLOTS}`,
      )
      .bind(metrics, last - minutes + 1)
      .run();
    for (let block = 0; block * BLOCK_SLOTS < metrics; block++) {
      await db
        .prepare(
          `WITH RECURSIVE s (s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM s WHERE s < ${BLOCK_SLOTS - 1}),
           k (k) AS (SELECT ?2 - ?3 + 1 UNION ALL SELECT k + 1 FROM k WHERE k < ?2),
           cells AS (
             SELECT k.k, s.s, CASE WHEN ${presentSql(type, `(?1 * ${BLOCK_SLOTS} + s.s)`, "k.k")} THEN ${valueSql(type, `(?1 * ${BLOCK_SLOTS} + s.s)`, "k.k")} END AS v
             FROM k, s WHERE ?1 * ${BLOCK_SLOTS} + s.s < ?4
           )
           INSERT INTO frames (metric_type, block, ts, v)
           SELECT '${type}', ?1, k * 60000, json_group_array(v ORDER BY s) FROM cells GROUP BY k`,
        )
        .bind(block, last, minutes, metrics)
        .run();
    }
  }
  await seedTicks(db, last, minutes);
  const ts = last * MINUTE_MS;
  await db.prepare("UPDATE tracker_state SET last_tick = ?1, lo = ?1, hi = ?1, version = 1").bind(ts).run();
  return untilQuiet(db, () => maintainStorage(db, ts, null, options));
}

/** The state a maintenance run moves when it has work (the candles' round robin of window rebuilds aside). */
const QUIET_STATE = "SELECT lo, hi, purged_until, convert_until, day, candles_until, days_until, hour_ts FROM tracker_state WHERE id = 1";

/**
 * Scheduled runs without a tick until they have nothing left to do. Not "until
 * one writes nothing": every run rewrites the sums rows for the candles'
 * round robin of exact window rebuilds, so that never comes; a run that moves
 * none of the state's cursors has done nothing else (and is not counted).
 */
async function untilQuiet(db: D1Database, run: () => Promise<WriteCost>, max = 1000): Promise<Measured[]> {
  const runs: Measured[] = [];
  for (let i = 0; i < max; i++) {
    const before = JSON.stringify(await db.prepare(QUIET_STATE).first());
    const { result, ms } = await timed(run);
    if (result.rowsWritten === 0 || JSON.stringify(await db.prepare(QUIET_STATE).first()) === before) break;
    runs.push({ cost: result, ms });
  }
  return runs;
}

/**
 * The 24 h figures' own work (src/storage/day.ts), measured by the scheduled
 * runs at minute `now` until they have nothing left to do:
 * - "build": the suffix rows of the newest complete segment, as every run
 *   after a segment's end does, once per 12 h;
 * - "rebuild": every figure from the frames, as after an outage that skipped a
 *   segment (or the first deploy).
 */
export async function measureFigures(db: D1Database, kind: "build" | "rebuild", now: number) {
  const day = await readDayState(db);
  const segment = segmentOf(now) - 1;
  const next = kind === "build" ? { ...day, built: day.built.filter((k) => k !== segment), build: null } : STALE;
  await db.prepare("UPDATE tracker_state SET day = ?1").bind(JSON.stringify(next)).run();
  const runs = await untilQuiet(db, () => maintainStorage(db, now), 200);
  const after = await readDayState(db);
  if (!after.ok || !after.built.includes(segment)) throw new Error(`the figures' ${kind} did not finish: ${JSON.stringify(after)}`);
  return runs;
}

/**
 * A tick's per-market breakdown (issue 11): the 7 sources' documents for two
 * markets per price metric, as the tick builds them.
 */
export function tickBreakdowns(metrics: number, minute: number) {
  const markets: MarketSummary[] = [];
  const sourceOf = new Map<MarketSummary, string>();
  for (let i = 0; i < metrics; i++) {
    const pair = Math.floor(i / 2);
    const source = STATUSES[i % STATUSES.length]!.source;
    const last = 100 + pair + unit(i, minute);
    const market: MarketSummary = { exchange: source, pair: `p${pair}usd`, base: `p${pair}`, quote: "usd", last, volume: 1000 + i, volumeQuote: (1000 + i) * last };
    markets.push(market);
    sourceOf.set(market, source);
  }
  const { outcomes, medians } = aggregate(markets);
  return { markets: markets.length, breakdowns: breakdownsBySource(outcomes, medians, (market) => sourceOf.get(market), 0.1) };
}

export async function measureTick(db: D1Database, metrics: number, minute: number, retention: Retention | null = null, options: StepOptions = {}) {
  const points = tickPoints(metrics, minute);
  const ts = minute * MINUTE_MS;
  const lease = await claimTick(db, ts, ts, ts + 50_000).then(() => 1);
  const { result, ms } = await timed(() => insertTick(db, { ts, storedAt: ts, markets: points.length, points }, retention, options));
  const statuses = await recordSourceStatuses(db, ts, STATUSES);
  // The breakdown's statements ride in the tick's batch; measured on their own, they write the same rows.
  const { markets, breakdowns } = tickBreakdowns(metrics, minute);
  const breakdown = { ...cost(await db.batch(breakdownStatements(db, ts, breakdowns))), markets, bytes: breakdowns.reduce((sum, b) => sum + b.data.length, 0) };
  return { cost: result, ms, points: points.length, lease, statuses, breakdown };
}

export async function measureBaselineTick(db: D1Database, metrics: number, minute: number) {
  const points = tickPoints(metrics, minute);
  const ts = minute * MINUTE_MS;
  const { result, ms } = await timed(() => baseline.insertTick(db, { ts, storedAt: ts, markets: points.length, points }));
  const statuses = await recordSourceStatuses(db, ts, STATUSES);
  return { cost: result, ms, points: points.length, statuses };
}

export async function measureBaselineMaintenance(db: D1Database, minute: number) {
  const fold = await timed(() => baseline.fold(db, minute * MINUTE_MS));
  const purge = await timed(() => baseline.purge(db, minute * MINUTE_MS - 24 * 60 * MINUTE_MS));
  return { fold: { cost: fold.result, ms: fold.ms }, purge: { cost: purge.result, ms: purge.ms, deleted: purge.result.deleted } };
}

type Design = "ours" | "baseline" | "naive";

/** One read, metered: what the API runs for it. */
export async function measureRead(db: D1Database, design: Design, read: string, now: number, repeat = 1) {
  const { reader, cost } = metered(db);
  const window = windowEndingAt(now);
  const run: Record<string, () => Promise<unknown>> =
    design === "naive"
      ? { rank: () => naiveRank(reader, "price", window) }
      : design === "ours"
        ? {
            rank: () => rankAll(reader, "price", window),
            history: () => history(reader, "price", "p17", window),
            latest: () => latestPoints(reader, "price", window),
            metrics: () => listMetrics(reader, "price", window),
            metric: () => latestPoint(reader, "price", "p17", window),
            root: async () => [await readState(reader as D1Database), await latestSourceStatuses(reader)],
          }
        : {
            rank: () => baseline.rankAll(reader, "price", window),
            history: () => baseline.history(reader, "price", "p17", window),
            latest: () => baseline.latestPoints(reader, "price", window),
            metrics: () => baseline.listMetrics(reader, "price", window),
            metric: () => baseline.latestPoint(reader, "price", "p17", window),
            root: async () => [await baseline.readState(reader as D1Database), await latestSourceStatuses(reader)],
            // What the 24 h figures would cost it: aggregated over the points on every read.
            latest_figures: () => baseline.latestFigures(reader, "price", window),
            metric_figures: () => baseline.latestFigures(reader, "price", window, "p17"),
          };
  const { result } = await timed(run[read]!);
  const measured = cost();
  // workerd's clock moves in whole milliseconds (and only across I/O): a fast
  // read is timed over `repeat` back-to-back calls and divided.
  const repeated = await timed(async () => {
    for (let i = 0; i < repeat; i++) await run[read]!();
  });
  return { cost: measured, ms: repeated.ms / repeat, repeat, rows: read === "rank" ? result : undefined, count: Array.isArray(result) ? result.length : 1 };
}

/**
 * An hour of live ticks with the candles and the same minutes without them
 * (issue 18): `withCandles` is the seeded database as the tracker runs it
 * (default retention), `without` the same seed run with the candle step off
 * (`candles: false`). Minutes `from`..`from + 59` are measured on both; they
 * hold the tick that closes an hour (the roll-up: hourly rows, the day's row,
 * the windows) and its retention delete, which finds one hour of hourly rows
 * HOURLY_CANDLE_DAYS (default) old to delete, as every hour does in the steady state.
 */
export async function measureCandleHour(withCandles: D1Database, without: D1Database, metrics: number, from: number) {
  const closing = Math.ceil((from * MINUTE_MS) / HOUR_MS) * HOUR_MS;
  const expired = closing - HOUR_MS - DEFAULT_RETENTION.hourlyDays * 24 * HOUR_MS;
  // The previous closing deleted every hourly row before `expired`; this one deletes the hour at `expired`.
  await withCandles
    .prepare("INSERT INTO candles (metric_type, span, block, ts, c) SELECT metric_type, span, block, ?1, c FROM candles WHERE span = ?2 AND ts = ?3")
    .bind(expired, HOURLY_SPAN, closing - 2 * HOUR_MS)
    .run();
  const minutes: { minute: number; with: Awaited<ReturnType<typeof measureTick>>; without: Awaited<ReturnType<typeof measureTick>> }[] = [];
  for (let minute = from; minute < from + 60; minute++) {
    // Alternating which arm goes first, so that neither always runs on a warmer cache.
    const on = () => measureTick(withCandles, metrics, minute, DEFAULT_RETENTION);
    const off = () => measureTick(without, metrics, minute, null, { candles: false });
    if (minute % 2 === 0) {
      const a = await on();
      minutes.push({ minute, with: a, without: await off() });
    } else {
      const b = await off();
      minutes.push({ minute, with: await on(), without: b });
    }
  }
  const left = await withCandles.prepare("SELECT count(*) AS n FROM candles WHERE span = ?1 AND ts <= ?2").bind(HOURLY_SPAN, expired).first<{ n: number }>();
  if (left?.n !== 0) throw new Error(`the retention delete left ${left?.n} expired hourly rows`);
  return { closing, expired, minutes };
}
