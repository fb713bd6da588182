/**
 * The benchmark's workload: the tracker's own storage functions, and the naive
 * design's queries, run against a local D1 in workerd, with D1's meta.
 */
import type { Point } from "../../src/ingest/aggregate";
import { history, rankAll, type Reader } from "../../src/storage/queries";
import { metered } from "../../test/unit/metered";
import { fold, insertTick, purge, type WriteCost } from "../../src/storage/ticks";
import { MINUTE_MS, windowEndingAt, type Window } from "../../src/storage/window";

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
 * The value of metric i at minute k (minutes since the epoch). Kinds, by i % 10:
 * 0 a stablecoin (mean 1, std ~1e-6); 1 a volume near 1e12 changing by units;
 * 2 constant (std 0, ties); 3 missing 30 % of minutes; others ordinary prices
 * from 1e-4 to 1e5.
 */
function valueSql(i: string, k: string): string {
  const u = unitSql(i, k);
  return `CASE ${i} % 10
    WHEN 0 THEN 1.0 + (${u} - 0.5) * 3.46e-6
    WHEN 1 THEN 1e12 + round(${u} * 100)
    WHEN 2 THEN 1.0 + (${i} % 7) * 0.1
    ELSE pow(10, (${i} % 10) - 5) * (1 + 0.05 * (${u} - 0.5)) END`;
}

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

/**
 * The design the README calls "hourly buckets": per metric and hour, shifted
 * sums (n, s1, s2), plus the raw points of the two partial hours at the edges of
 * the window. Built here, for the benchmark only, from the stored points.
 */
export async function buildHourlyBuckets(db: D1Database): Promise<void> {
  await db.batch([
    db.prepare(
      `CREATE TABLE IF NOT EXISTS bench_hourly (
         metric_id INTEGER NOT NULL, hour INTEGER NOT NULL, n INTEGER NOT NULL, s1 REAL NOT NULL, s2 REAL NOT NULL,
         PRIMARY KEY (metric_id, hour)) WITHOUT ROWID`,
    ),
    db.prepare("DELETE FROM bench_hourly"),
    db.prepare(
      `INSERT INTO bench_hourly
       SELECT p.metric_id, p.ts / 3600000, count(*), sum(p.value - m.shift), sum((p.value - m.shift) * (p.value - m.shift))
       FROM metrics m JOIN points p ON p.metric_id = m.id GROUP BY p.metric_id, p.ts / 3600000`,
    ),
  ]);
}

// ?4 = first whole hour in the window, ?5 = first hour after the last whole one.
const HOURLY_RANK = `
  WITH parts AS (
    SELECT m.id, hb.n, hb.s1, hb.s2
    FROM metrics m JOIN bench_hourly hb ON hb.metric_id = m.id AND hb.hour >= ?4 AND hb.hour < ?5
    WHERE m.metric_type = ?1
    UNION ALL
    SELECT m.id, 1, p.value - m.shift, (p.value - m.shift) * (p.value - m.shift)
    FROM metrics m JOIN points p ON p.metric_id = m.id AND p.ts > ?2 AND p.ts < ?4 * 3600000
    WHERE m.metric_type = ?1
    UNION ALL
    SELECT m.id, 1, p.value - m.shift, (p.value - m.shift) * (p.value - m.shift)
    FROM metrics m JOIN points p ON p.metric_id = m.id AND p.ts >= ?5 * 3600000 AND p.ts <= ?3
    WHERE m.metric_type = ?1
  ),
  sums AS (SELECT id, sum(n) AS n, sum(s1) AS s1, sum(s2) AS s2 FROM parts GROUP BY id),
  variances AS (
    SELECT id, CASE WHEN s2 - s1 * s1 / n <= s2 * 1e-12 THEN 0.0 ELSE (s2 - s1 * s1 / n) / n END AS variance
    FROM sums WHERE n > 0
  )
  SELECT m.symbol, sqrt(variance) AS stddev, RANK() OVER (ORDER BY variance DESC) AS rank, count(*) OVER () AS total
  FROM variances v JOIN metrics m ON m.id = v.id
  ORDER BY rank, m.symbol`;

async function hourlyRank(db: Reader, metricType: string, window: Window) {
  const hour = 3_600_000;
  const { results } = await db
    .prepare(HOURLY_RANK)
    .bind(metricType, window.since, window.until, Math.floor(window.since / hour) + 1, Math.floor((window.until + 1) / hour))
    .all<{ symbol: string; stddev: number; rank: number; total: number }>();
  return results;
}

function tickPoints(metrics: number, minute: number): Point[] {
  const points: Point[] = [];
  for (let i = 0; i < metrics; i++) {
    if (present(i, minute)) points.push({ metric_type: "price", symbol: `p${i}`, value: value(i, minute) });
    points.push({ metric_type: "volume", symbol: `v${i}`, value: 1e6 * (1 + unit(i + 7, minute)) });
  }
  return points;
}

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

/** Metrics p0..p(n-1) of type price, `minutes` points each, the newest at minute `last`. */
export async function seed(db: D1Database, metrics: number, minutes: number, last: number): Promise<number> {
  await db
    .prepare(
      `WITH RECURSIVE i (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i < ?1 - 1)
       INSERT INTO metrics (id, metric_type, symbol, shift)
       SELECT i + 1, 'price', 'p' || i, ${valueSql("i", "?2")} FROM i`,
    )
    // As the tick does, a metric is shifted by its first value.
    .bind(metrics, last - minutes + 1)
    .run();
  const chunk = 50;
  for (let from = 0; from < metrics; from += chunk) {
    await db
      .prepare(
        `WITH RECURSIVE i (i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM i WHERE i < ?2 - 1),
         k (k) AS (SELECT ?3 - ?4 + 1 UNION ALL SELECT k + 1 FROM k WHERE k < ?3)
         INSERT INTO points (metric_id, ts, value)
         SELECT i + 1, k * 60000, ${valueSql("i", "k")} FROM i, k
         WHERE i % 10 != 3 OR ${unitSql("k", "i")} >= 0.3
         ORDER BY i, k`,
      )
      .bind(from, Math.min(from + chunk, metrics), last, minutes)
      .run();
  }
  // The seeded minutes are stored ticks, as far as the purge is concerned.
  await db
    .prepare(
      `WITH RECURSIVE k (k) AS (SELECT ?1 - ?2 + 1 UNION ALL SELECT k + 1 FROM k WHERE k < ?1)
       INSERT INTO ticks (ts, stored_at, markets, points) SELECT k * 60000, k * 60000, 0, 0 FROM k`,
    )
    .bind(last, minutes)
    .run();
  await db.prepare("UPDATE tracker_state SET last_tick = ?1, version = 1").bind(last * MINUTE_MS).run();
  const count = await db.prepare("SELECT count(*) AS n FROM points").first<{ n: number }>();
  return count?.n ?? 0;
}

export async function measureFold(db: D1Database, until: number): Promise<Measured> {
  const { result, ms } = await timed(() => fold(db, until));
  return { cost: result, ms };
}

export async function measurePurge(db: D1Database, cutoff: number): Promise<Measured & { deleted: number }> {
  const { result, ms } = await timed(() => purge(db, cutoff));
  return { cost: result, ms, deleted: result.deleted };
}

export async function measureTick(db: D1Database, metrics: number, minute: number): Promise<Measured & { points: number }> {
  const points = tickPoints(metrics, minute);
  const ts = minute * MINUTE_MS;
  const { result, ms } = await timed(() => insertTick(db, { ts, storedAt: ts, markets: points.length, points }));
  return { cost: result, ms, points: points.length };
}

export async function measureRank(db: D1Database, design: "ours" | "naive" | "hourly", now: number) {
  const { reader, cost } = metered(db);
  const run = { ours: rankAll, naive: naiveRank, hourly: hourlyRank }[design];
  const { result, ms } = await timed(() => run(reader, "price", windowEndingAt(now)));
  return { cost: cost(), ms, rows: result };
}

export async function measureHistory(db: D1Database, symbol: string, now: number) {
  const { reader, cost } = metered(db);
  const { result, ms } = await timed(() => history(reader, "price", symbol, windowEndingAt(now)));
  return { cost: cost(), ms, points: result.length };
}
