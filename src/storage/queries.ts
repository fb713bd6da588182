/** Every read the API makes. Each takes a Window: points with since < ts <= until. */
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

/** Metrics of a type with at least one point in the window, by symbol. */
export async function listMetrics(db: Reader, metricType: string, window: Window): Promise<string[]> {
  const { results } = await db
    .prepare(
      `SELECT symbol FROM metrics m
       WHERE metric_type = ?1
         AND EXISTS (SELECT 1 FROM points p WHERE p.metric_id = m.id AND p.ts > ?2 AND p.ts <= ?3)
       ORDER BY symbol`,
    )
    .bind(metricType, window.since, window.until)
    .all<{ symbol: string }>();
  return results.map((row) => row.symbol);
}

/** The newest point of a metric in the window; null when it has none (unknown metric). */
export async function latestPoint(
  db: Reader,
  metricType: string,
  symbol: string,
  window: Window,
): Promise<PointRow | null> {
  return db
    .prepare(
      `SELECT p.ts, p.value FROM metrics m JOIN points p ON p.metric_id = m.id
       WHERE m.metric_type = ?1 AND m.symbol = ?2 AND p.ts > ?3 AND p.ts <= ?4
       ORDER BY p.ts DESC LIMIT 1`,
    )
    .bind(metricType, symbol, window.since, window.until)
    .first<PointRow>();
}

/** Every point of a metric in the window, oldest first. */
export async function history(db: Reader, metricType: string, symbol: string, window: Window): Promise<PointRow[]> {
  const { results } = await db
    .prepare(
      `SELECT p.ts, p.value FROM metrics m JOIN points p ON p.metric_id = m.id
       WHERE m.metric_type = ?1 AND m.symbol = ?2 AND p.ts > ?3 AND p.ts <= ?4
       ORDER BY p.ts`,
    )
    .bind(metricType, symbol, window.since, window.until)
    .all<PointRow>();
  return results;
}

/**
 * Population standard deviation of every metric of a type over the window,
 * ranked with RANK() (1 = most volatile, ties share a rank), in one statement.
 *
 * The folded sums in `metrics` cover lo < ts <= hi (tracker_state). The window
 * (since, until] rarely equals that range, so four per-metric ranges of raw
 * points correct them: subtract folded points before the window and after it,
 * add window points at or below lo and above hi. Between folds these hold a few
 * points per metric, read through the primary key.
 *
 * variance = (s2 - s1^2/n) / n with values shifted by K near the mean; a result
 * within rounding of zero (relative to s2) is zero, so constant series tie.
 */
const RANK_SQL = `
  WITH st AS (SELECT lo, hi FROM tracker_state WHERE id = 1),
  ranges (sign, since, until) AS (
    SELECT -1, lo, min(hi, ?2) FROM st
    UNION ALL SELECT -1, max(lo, ?3), hi FROM st
    UNION ALL SELECT 1, ?2, min(?3, lo) FROM st
    UNION ALL SELECT 1, max(?2, hi), ?3 FROM st
  ),
  corrections AS (
    SELECT m.id, sum(r.sign) AS dn, sum(r.sign * (p.value - m.shift)) AS ds1,
           sum(r.sign * (p.value - m.shift) * (p.value - m.shift)) AS ds2
    FROM ranges r
    JOIN metrics m ON m.metric_type = ?1
    JOIN points p ON p.metric_id = m.id AND p.ts > r.since AND p.ts <= r.until
    WHERE r.until > r.since
    GROUP BY m.id
  ),
  sums AS (
    SELECT m.symbol, m.n + coalesce(c.dn, 0) AS n, m.s1 + coalesce(c.ds1, 0.0) AS s1,
           m.s2 + coalesce(c.ds2, 0.0) AS s2
    FROM metrics m LEFT JOIN corrections c ON c.id = m.id
    WHERE m.metric_type = ?1
  ),
  variances AS (
    SELECT symbol,
           CASE WHEN s2 - s1 * s1 / n <= s2 * 1e-12 THEN 0.0 ELSE (s2 - s1 * s1 / n) / n END AS variance
    FROM sums WHERE n > 0
  ),
  ranked AS (
    SELECT symbol, sqrt(variance) AS stddev,
           RANK() OVER (ORDER BY variance DESC) AS rank, count(*) OVER () AS total
    FROM variances
  )`;

export async function rankAll(db: Reader, metricType: string, window: Window): Promise<RankRow[]> {
  const { results } = await db
    .prepare(`${RANK_SQL} SELECT symbol, stddev, rank, total FROM ranked ORDER BY rank, symbol`)
    .bind(metricType, window.since, window.until)
    .all<RankRow>();
  return results;
}

export async function rankOf(db: Reader, metricType: string, symbol: string, window: Window): Promise<RankRow | null> {
  return db
    .prepare(`${RANK_SQL} SELECT symbol, stddev, rank, total FROM ranked WHERE symbol = ?4`)
    .bind(metricType, window.since, window.until, symbol)
    .first<RankRow>();
}

export interface LatestRow extends PointRow {
  symbol: string;
}

/**
 * The newest point of every metric of a type that has one in the window, by
 * symbol: one primary-key seek per metric (max(ts) of its points in range).
 */
export async function latestPoints(db: Reader, metricType: string, window: Window): Promise<LatestRow[]> {
  const { results } = await db
    .prepare(
      `SELECT m.symbol, p.ts, p.value
       FROM metrics m
       JOIN points p ON p.metric_id = m.id
        AND p.ts = (SELECT max(ts) FROM points q WHERE q.metric_id = m.id AND q.ts > ?2 AND q.ts <= ?3)
       WHERE m.metric_type = ?1
       ORDER BY m.symbol`,
    )
    .bind(metricType, window.since, window.until)
    .all<LatestRow>();
  return results;
}
