/**
 * Every read the API makes. Each takes a Window: values with since < ts <= until.
 *
 * Values live in frames (one row per metric type, block of BLOCK_SLOTS
 * metrics and minute); per-metric sums, latest value and symbol live in `sums`
 * (one row per PART_SLOTS metrics), kept by ledger.ts for (lo, hi] of
 * tracker_state. Stored minutes are whole minutes, so a window is the same as
 * (floor-minute(since), floor-minute(until)].
 */
import { floorMinute, MINUTE_MS } from "../lib/time";
import { BLOCK_SLOTS, blockOf, inBlock, inPart, latestField, PART_SLOTS, partOf, readLatestTuple, sumsField, type LatestEntry } from "./layout";
import type { Window } from "./window";

/** A database or a D1 session (read replicas): anything that prepares statements. */
export type Reader = Pick<D1Database, "prepare">;

export interface PointRow {
  ts: number;
  value: number;
}

export interface RankRow {
  symbol: string;
  stddev: number;
  rank: number;
  total: number;
}

/**
 * A metric's 24 h figures as kept by src/storage/day.ts for the stored window
 * (lo, hi]: the ts and value of its oldest point, min and max; all null while
 * they are being rebuilt.
 */
export interface DayFigures {
  first_ts: number | null;
  first: number | null;
  min: number | null;
  max: number | null;
}

export interface LatestPoint extends PointRow, DayFigures {}

export interface LatestRow extends LatestPoint {
  symbol: string;
}

/**
 * Each slot of a type with its latest value and 24 h figures: the slot's
 * entry of the sums row as JSON text (parsed in JavaScript: one extraction per
 * slot in SQL, not seven). The sums row knows the latest stored value; a
 * reader whose window ends before it (a clock behind the tick's) gets the
 * latest value at or before its end from the frames instead.
 */
const LATEST_SQL = `
  WITH slots AS (
    SELECT s.part * ${PART_SLOTS} + j.key AS slot, j.value AS entry, ${latestField("ts", "j.value")} AS ts
    FROM sums s, json_each(s.latest) j
    WHERE s.metric_type = ?1 AND j.type = 'array'
    -- A co-routine (see history): each field extracted once per slot.
    LIMIT -1
  ),
  latest AS (
    SELECT slot, entry, ts,
           CASE WHEN ts > ?3 THEN (
             SELECT max(g.ts) FROM frames g
             WHERE g.metric_type = ?1 AND g.block = ${blockOf("slot")} AND g.ts > ?2 AND g.ts <= ?3
               AND (g.v ->> (${inBlock("slot")})) IS NOT NULL) END AS earlier
    FROM slots WHERE ts > ?2
    LIMIT -1
  )
  SELECT entry, earlier,
         CASE WHEN earlier IS NOT NULL THEN (
           SELECT g.v ->> (${inBlock("slot")}) FROM frames g
           WHERE g.metric_type = ?1 AND g.block = ${blockOf("slot")} AND g.ts = earlier) END AS earlier_value
  FROM latest WHERE (earlier IS NOT NULL OR ts <= ?3) AND coalesce(earlier, ts) > ?2`;

/** Metrics of a type with at least one value in the window, by symbol. */
export async function listMetrics(db: Reader, metricType: string, window: Window): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT symbol FROM (
         SELECT s.part * ${PART_SLOTS} + j.key AS slot, ${latestField("symbol", "j.value")} AS symbol, ${latestField("ts", "j.value")} AS ts
         FROM sums s, json_each(s.latest) j
         WHERE s.metric_type = ?1 AND j.type = 'array'
         LIMIT -1
       )
       WHERE ts > ?2 AND (ts <= ?3 OR EXISTS (
         SELECT 1 FROM frames g
         WHERE g.metric_type = ?1 AND g.block = ${blockOf("slot")} AND g.ts > ?2 AND g.ts <= ?3
           AND (g.v ->> (${inBlock("slot")})) IS NOT NULL))`,
    )
    .bind(metricType, floorMinute(window.since), floorMinute(window.until))
    .all<{ symbol: string }>();
  // Sorted here: D1 counts the rows an ORDER BY passes as read (one more per metric).
  return results.map((row) => row.symbol).sort();
}

/** The newest value of every metric of a type that has one in the window, by symbol. */
export async function latestPoints(db: Reader, metricType: string, window: Window): Promise<LatestRow[]> {
  const { results } = await db
    .prepare(LATEST_SQL)
    .bind(metricType, floorMinute(window.since), floorMinute(window.until))
    .all<{ entry: string; earlier: number | null; earlier_value: number | null }>();
  const rows = results.map(({ entry, earlier, earlier_value }): LatestRow => {
    const latest = readLatestTuple(JSON.parse(entry) as unknown[]);
    const { symbol, ts, value } = latest as { symbol: string; ts: number; value: number };
    return earlier === null
      ? { symbol, ts, value, ...figuresOf(latest) }
      : { symbol, ts: earlier, value: earlier_value!, ...figuresOf(latest) };
  });
  // Sorted here: D1 counts the rows an ORDER BY passes as read (one more per metric).
  return rows.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
}

/** How far back the newest frames are searched for a metric's latest value before asking its sums row. */
const RECENT_MS = 10 * MINUTE_MS;

const NO_FIGURES: DayFigures = { first_ts: null, first: null, min: null, max: null };

/** The figures in a slot's `latest` entry of its sums row (src/storage/layout.ts). */
function figuresOf(entry: LatestEntry | undefined): DayFigures {
  if (!entry?.figures) return NO_FIGURES;
  const [first_ts, first, min, max] = entry.figures;
  return { first_ts, first, min, max };
}

/**
 * The newest value of a metric in the window, with its 24 h figures; null
 * when it has none (unknown metric). Nearly always the value is in the
 * newest frame of its block: three rows (the metric, one frame of ~1 KB, its
 * sums row for the figures). A metric with no value in the last 10 minutes
 * is looked up in its sums row, then its frames.
 */
export async function latestPoint(
  db: Reader,
  metricType: string,
  symbol: string,
  window: Window,
): Promise<LatestPoint | null> {
  const since = floorMinute(window.since);
  const until = floorMinute(window.until);
  // The metric's block's frames, newest first through the primary key, until
  // one holds a value for its slot: [ts, value] as JSON (the value's text as stored).
  const recent = await db
    .prepare(
      `SELECT m.slot, (SELECT json_array(f.ts, f.v -> (${inBlock("m.slot")})) FROM frames f
         WHERE f.metric_type = m.metric_type AND f.block = ${blockOf("m.slot")}
           AND f.ts > max(?3, ?4 - ${RECENT_MS}) AND f.ts <= ?4 AND f.v ->> (${inBlock("m.slot")}) IS NOT NULL
         ORDER BY f.ts DESC LIMIT 1) AS point,
         (SELECT s.latest -> (${inPart("m.slot")}) FROM sums s
          WHERE s.metric_type = m.metric_type AND s.part = ${partOf("m.slot")}) AS entry
       FROM metrics m WHERE m.metric_type = ?1 AND m.symbol = ?2`,
    )
    .bind(metricType, symbol, since, until)
    .first<{ slot: number; point: string | null; entry: string | null }>();
  if (!recent) return null;
  const entry = recent.entry ? readLatestTuple(JSON.parse(recent.entry) as unknown[]) : undefined;
  const figures = figuresOf(entry);
  if (recent.point !== null) {
    const [ts, value] = JSON.parse(recent.point) as [number, number];
    return { ts, value, ...figures };
  }
  const ts = entry?.ts ?? null;
  const value = entry?.value ?? null;
  if (ts === null || value === null) return null;
  if (ts <= until) return ts > since ? { ts, value, ...figures } : null;
  const earlier = await db
    .prepare(
      // CAST: D1 may bind a JavaScript number as REAL, and a REAL is no array index.
      `SELECT ts, v ->> CAST(?3 AS INTEGER) AS value FROM frames
       WHERE metric_type = ?1 AND block = ?2 AND ts > ?4 AND ts <= ?5 AND (v ->> CAST(?3 AS INTEGER)) IS NOT NULL
       ORDER BY ts DESC LIMIT 1`,
    )
    .bind(metricType, Math.floor(recent.slot / BLOCK_SLOTS), recent.slot % BLOCK_SLOTS, since, until)
    .first<PointRow>();
  return earlier && { ...earlier, ...figures };
}

/** Every value of a metric in the window, oldest first: one frame row per minute. */
export async function history(db: Reader, metricType: string, symbol: string, window: Window): Promise<PointRow[]> {
  const { results } = await db
    .prepare(
      // One JSON extraction per minute: the inner query runs as a co-routine
      // (LIMIT keeps SQLite from copying the expression into the outer WHERE).
      `SELECT ts, value FROM (
         SELECT f.ts, f.v ->> (${inBlock("m.slot")}) AS value
         FROM metrics m JOIN frames f ON f.metric_type = m.metric_type AND f.block = ${blockOf("m.slot")}
           AND f.ts > ?3 AND f.ts <= ?4
         WHERE m.metric_type = ?1 AND m.symbol = ?2
         ORDER BY f.ts LIMIT -1
       ) WHERE value IS NOT NULL`,
    )
    .bind(metricType, symbol, floorMinute(window.since), floorMinute(window.until))
    .all<PointRow>();
  return results;
}

/**
 * Population standard deviation of every metric of a type over the window,
 * in one statement; ranked (1 = most volatile, ties share a rank, as SQL's
 * RANK()) over its answer.
 *
 * The sums cover (lo, hi]. Just after a tick the window is exactly that. In
 * the seconds before the next tick lands the window has lost the minute
 * lo + 1: each slot's e (that minute's value) is subtracted. Anything else (no
 * scheduled run for minutes, a reader whose clock is behind the tick's) is
 * corrected from the frames of the minutes between the two ranges, exactly
 * (each group two-pass around its own mean, then moved to K).
 *
 * variance = (s2 - s1^2/n) / n with values shifted by K near the mean; a result
 * within rounding of zero (relative to s2) is zero, so constant series tie.
 *
 * The statement does not sort: D1 counts every row a sort or a window function
 * passes as a row read (RANK() OVER and ORDER BY would read each metric three
 * more times); ordering ~2,000 numbers in JavaScript costs nothing.
 */
const VARIANCES_SQL = `
  WITH st AS (
    SELECT CASE WHEN ?2 >= lo + ${MINUTE_MS} THEN lo + ${MINUTE_MS} ELSE lo END AS lo, ?2 >= lo + ${MINUTE_MS} AS drop_e, hi
    FROM tracker_state WHERE id = 1
  ),
  ranges (sign, a, b) AS (
    SELECT -1, lo, min(hi, ?2) FROM st
    UNION ALL SELECT 1, ?2, min(?3, lo) FROM st
    UNION ALL SELECT -1, max(lo, ?3), hi FROM st
    UNION ALL SELECT 1, max(?2, hi), ?3 FROM st
  ),
  -- The rare path: only when some range holds a minute is anything below read.
  edges AS (SELECT sign, a, b FROM ranges WHERE b > a),
  nb AS (
    SELECT (max(part * ${PART_SLOTS} + json_array_length(data)) + ${BLOCK_SLOTS - 1}) / ${BLOCK_SLOTS} AS n
    FROM sums WHERE EXISTS (SELECT 1 FROM edges) AND metric_type = ?1
  ),
  blocks (b) AS (SELECT 0 FROM nb WHERE n > 0 UNION ALL SELECT b + 1 FROM blocks WHERE b + 1 < (SELECT n FROM nb)),
  w AS (
    SELECT e.sign, f.block * ${BLOCK_SLOTS} + x.key AS slot, x.value AS x,
           avg(x.value) OVER (PARTITION BY e.sign, f.block * ${BLOCK_SLOTS} + x.key) AS mean
    FROM edges e JOIN blocks bl
    JOIN frames f ON f.metric_type = ?1 AND f.block = bl.b AND f.ts > e.a AND f.ts <= e.b
    JOIN json_each(f.v) x ON x.type IN ('integer', 'real')
  ),
  corrections AS (
    SELECT slot, sign, count(*) AS n, mean, sum(x - mean) AS d1, sum((x - mean) * (x - mean)) AS m2
    FROM w GROUP BY slot, sign
  ),
  slots AS (
    SELECT s.part * ${PART_SLOTS} + j.key AS slot, j.value AS t
    FROM sums s, json_each(s.data) j
    WHERE s.metric_type = ?1 AND j.type = 'array'
  ),
  parts AS (
    SELECT ${sumsField("symbol")} AS symbol, ${sumsField("k")} AS k, ${sumsField("n")} AS n, ${sumsField("s1")} AS s1, ${sumsField("s2")} AS s2,
           CASE WHEN st.drop_e THEN ${sumsField("e")} END AS e,
           a.n AS an, a.mean - ${sumsField("k")} AS ad, a.d1 AS ad1, a.m2 AS am2,
           r.n AS rn, r.mean - ${sumsField("k")} AS rd, r.d1 AS rd1, r.m2 AS rm2
    FROM st, slots
    LEFT JOIN corrections a ON a.slot = slots.slot AND a.sign = 1
    LEFT JOIN corrections r ON r.slot = slots.slot AND r.sign = -1
    -- LIMIT (with the WHERE below) keeps SQLite from flattening this into its
    -- readers, which would re-evaluate every JSON extraction at each use of a
    -- column; as a co-routine each is computed once per slot (and no rows are stored).
    LIMIT -1
  ),
  totals AS (
    SELECT symbol,
           n - (e IS NOT NULL) + coalesce(an, 0) - coalesce(rn, 0) AS n,
           s1 - coalesce(e - k, 0.0) + coalesce(ad1 + an * ad, 0.0) - coalesce(rd1 + rn * rd, 0.0) AS s1,
           s2 - coalesce((e - k) * (e - k), 0.0) + coalesce(am2 + 2 * ad * ad1 + an * ad * ad, 0.0)
              - coalesce(rm2 + 2 * rd * rd1 + rn * rd * rd, 0.0) AS s2
    FROM parts WHERE symbol IS NOT NULL
    LIMIT -1
  ),
  variances AS (
    SELECT symbol,
           CASE WHEN s2 - s1 * s1 / n <= s2 * 1e-12 THEN 0.0 ELSE (s2 - s1 * s1 / n) / n END AS variance
    FROM totals WHERE n > 0
  )
  SELECT symbol, variance, sqrt(variance) AS stddev FROM variances`;

async function ranked(db: Reader, metricType: string, window: Window): Promise<RankRow[]> {
  const { results } = await db
    .prepare(VARIANCES_SQL)
    .bind(metricType, floorMinute(window.since), floorMinute(window.until))
    .all<{ symbol: string; variance: number; stddev: number }>();
  results.sort((a, b) => b.variance - a.variance || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  let rank = 0;
  return results.map((row, i) => {
    if (i === 0 || row.variance !== results[i - 1]!.variance) rank = i + 1;
    return { symbol: row.symbol, stddev: row.stddev, rank, total: results.length };
  });
}

export async function rankAll(db: Reader, metricType: string, window: Window): Promise<RankRow[]> {
  return ranked(db, metricType, window);
}

export async function rankOf(db: Reader, metricType: string, symbol: string, window: Window): Promise<RankRow | null> {
  return (await ranked(db, metricType, window)).find((row) => row.symbol === symbol) ?? null;
}
