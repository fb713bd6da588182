/**
 * Every read the API makes. Each takes a Window: values with since < ts <= until.
 *
 * Values live in frames (one row per metric type, block of BLOCK_SLOTS
 * metrics and minute); per-metric sums, latest value and symbol live in `sums`
 * (one row per PART_SLOTS metrics), kept by ledger.ts for (lo, hi] of
 * tracker_state. Stored minutes are whole minutes, so a window is the same as
 * (floor-minute(since), floor-minute(until)].
 */
import { BLOCK_SLOTS, PART_SLOTS } from "./ledger";
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

export interface LatestRow extends PointRow {
  symbol: string;
}

const minute = (ms: number) => Math.floor(ms / 60_000) * 60_000;

/**
 * Each slot of a type with its latest value. The sums row knows the latest
 * stored value; a reader whose window ends before it (a clock behind the
 * tick's) gets the latest value at or before its end from the frames instead.
 */
const LATEST_SQL = `
  WITH slots AS (
    SELECT s.part * ${PART_SLOTS} + j.key AS slot, j.value ->> 0 AS symbol, j.value ->> 5 AS ts, j.value ->> 6 AS value
    FROM sums s, json_each(s.data) j
    WHERE s.metric_type = ?1 AND j.type = 'array'
  ),
  latest AS (
    SELECT symbol, ts, value FROM slots WHERE ts <= ?3
    UNION ALL
    SELECT symbol, f.ts, f.v ->> (slot % ${BLOCK_SLOTS})
    FROM slots JOIN frames f ON f.metric_type = ?1 AND f.block = slot / ${BLOCK_SLOTS}
      AND f.ts = (SELECT max(g.ts) FROM frames g
                  WHERE g.metric_type = ?1 AND g.block = slot / ${BLOCK_SLOTS} AND g.ts > ?2 AND g.ts <= ?3
                    AND (g.v ->> (slot % ${BLOCK_SLOTS})) IS NOT NULL)
    WHERE slots.ts > ?3
  )
  SELECT symbol, ts, value FROM latest WHERE ts > ?2 ORDER BY symbol`;

/** Metrics of a type with at least one value in the window, by symbol. */
export async function listMetrics(db: Reader, metricType: string, window: Window): Promise<string[]> {
  return (await latestPoints(db, metricType, window)).map((row) => row.symbol);
}

/** The newest value of every metric of a type that has one in the window, by symbol. */
export async function latestPoints(db: Reader, metricType: string, window: Window): Promise<LatestRow[]> {
  const { results } = await db
    .prepare(LATEST_SQL)
    .bind(metricType, minute(window.since), minute(window.until))
    .all<LatestRow>();
  return results;
}

/** The newest value of a metric in the window; null when it has none (unknown metric). */
export async function latestPoint(
  db: Reader,
  metricType: string,
  symbol: string,
  window: Window,
): Promise<PointRow | null> {
  const since = minute(window.since);
  const until = minute(window.until);
  const row = await db
    .prepare(
      `SELECT m.slot, s.data -> (m.slot % ${PART_SLOTS}) ->> 5 AS ts, s.data -> (m.slot % ${PART_SLOTS}) ->> 6 AS value
       FROM metrics m JOIN sums s ON s.metric_type = m.metric_type AND s.part = m.slot / ${PART_SLOTS}
       WHERE m.metric_type = ?1 AND m.symbol = ?2`,
    )
    .bind(metricType, symbol)
    .first<{ slot: number; ts: number | null; value: number | null }>();
  if (!row || row.ts === null || row.value === null) return null;
  if (row.ts <= until) return row.ts > since ? { ts: row.ts, value: row.value } : null;
  return db
    .prepare(
      // CAST: D1 may bind a JavaScript number as REAL, and a REAL is no array index.
      `SELECT ts, v ->> CAST(?3 AS INTEGER) AS value FROM frames
       WHERE metric_type = ?1 AND block = ?2 AND ts > ?4 AND ts <= ?5 AND (v ->> CAST(?3 AS INTEGER)) IS NOT NULL
       ORDER BY ts DESC LIMIT 1`,
    )
    .bind(metricType, Math.floor(row.slot / BLOCK_SLOTS), row.slot % BLOCK_SLOTS, since, until)
    .first<PointRow>();
}

/** Every value of a metric in the window, oldest first: one frame row per minute. */
export async function history(db: Reader, metricType: string, symbol: string, window: Window): Promise<PointRow[]> {
  const { results } = await db
    .prepare(
      `SELECT f.ts, f.v ->> (m.slot % ${BLOCK_SLOTS}) AS value
       FROM metrics m JOIN frames f ON f.metric_type = m.metric_type AND f.block = m.slot / ${BLOCK_SLOTS}
         AND f.ts > ?3 AND f.ts <= ?4
       WHERE m.metric_type = ?1 AND m.symbol = ?2 AND (f.v ->> (m.slot % ${BLOCK_SLOTS})) IS NOT NULL
       ORDER BY f.ts`,
    )
    .bind(metricType, symbol, minute(window.since), minute(window.until))
    .all<PointRow>();
  return results;
}

/**
 * Population standard deviation of every metric of a type over the window,
 * ranked with RANK() (1 = most volatile, ties share a rank), in one statement.
 *
 * The sums cover (lo, hi]. Just after a tick the window is exactly that. In
 * the seconds before the next tick lands the window has lost the minute
 * lo + 1: each slot's e (that minute's value) is subtracted. Anything else (a
 * run that fell behind, a reader whose clock is behind the tick's) is
 * corrected from the frames of the minutes between the two ranges, exactly.
 *
 * variance = (s2 - s1^2/n) / n with values shifted by K near the mean; a result
 * within rounding of zero (relative to s2) is zero, so constant series tie.
 */
const RANK_SQL = `
  WITH st AS (
    SELECT CASE WHEN ?2 >= lo + 60000 THEN lo + 60000 ELSE lo END AS lo, ?2 >= lo + 60000 AS drop_e, hi
    FROM tracker_state WHERE id = 1
  ),
  ranges (sign, a, b) AS (
    SELECT -1, lo, min(hi, ?2) FROM st
    UNION ALL SELECT 1, ?2, min(?3, lo) FROM st
    UNION ALL SELECT -1, max(lo, ?3), hi FROM st
    UNION ALL SELECT 1, max(?2, hi), ?3 FROM st
  ),
  -- Only read when some range holds a minute: the rare path.
  edges AS (SELECT sign, a, b FROM ranges WHERE b > a),
  shifts AS (
    SELECT s.part * ${PART_SLOTS} + j.key AS slot, j.value ->> 4 AS k
    FROM sums s, json_each(s.data) j
    WHERE EXISTS (SELECT 1 FROM edges) AND s.metric_type = ?1 AND j.type = 'array'
  ),
  corrections AS (
    SELECT shifts.slot, sum(e.sign) AS dn, sum(e.sign * (x.value - shifts.k)) AS ds1,
           sum(e.sign * (x.value - shifts.k) * (x.value - shifts.k)) AS ds2
    FROM edges e
    JOIN (SELECT DISTINCT slot / ${BLOCK_SLOTS} AS block FROM shifts) b
    JOIN frames f ON f.metric_type = ?1 AND f.block = b.block AND f.ts > e.a AND f.ts <= e.b
    JOIN json_each(f.v) x ON x.type IN ('integer', 'real')
    JOIN shifts ON shifts.slot = f.block * ${BLOCK_SLOTS} + x.key
    GROUP BY shifts.slot
  ),
  slots AS (
    SELECT s.part * ${PART_SLOTS} + j.key AS slot, j.value AS t
    FROM sums s, json_each(s.data) j
    WHERE s.metric_type = ?1 AND j.type = 'array'
  ),
  totals AS (
    SELECT t ->> 0 AS symbol,
           t ->> 1 - CASE WHEN st.drop_e AND t ->> 7 IS NOT NULL THEN 1 ELSE 0 END + coalesce(c.dn, 0) AS n,
           t ->> 2 - CASE WHEN st.drop_e AND t ->> 7 IS NOT NULL THEN t ->> 7 - t ->> 4 ELSE 0.0 END + coalesce(c.ds1, 0.0) AS s1,
           t ->> 3 - CASE WHEN st.drop_e AND t ->> 7 IS NOT NULL THEN (t ->> 7 - t ->> 4) * (t ->> 7 - t ->> 4) ELSE 0.0 END
             + coalesce(c.ds2, 0.0) AS s2
    FROM st, slots LEFT JOIN corrections c ON c.slot = slots.slot
  ),
  variances AS (
    SELECT symbol,
           CASE WHEN s2 - s1 * s1 / n <= s2 * 1e-12 THEN 0.0 ELSE (s2 - s1 * s1 / n) / n END AS variance
    FROM totals WHERE n > 0
  ),
  ranked AS (
    SELECT symbol, sqrt(variance) AS stddev,
           RANK() OVER (ORDER BY variance DESC) AS rank, count(*) OVER () AS total
    FROM variances
  )`;

export async function rankAll(db: Reader, metricType: string, window: Window): Promise<RankRow[]> {
  const { results } = await db
    .prepare(`${RANK_SQL} SELECT symbol, stddev, rank, total FROM ranked ORDER BY rank, symbol`)
    .bind(metricType, minute(window.since), minute(window.until))
    .all<RankRow>();
  return results;
}

export async function rankOf(db: Reader, metricType: string, symbol: string, window: Window): Promise<RankRow | null> {
  return db
    .prepare(`${RANK_SQL} SELECT symbol, stddev, rank, total FROM ranked WHERE symbol = ?4`)
    .bind(metricType, minute(window.since), minute(window.until), symbol)
    .first<RankRow>();
}
