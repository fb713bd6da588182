/**
 * Today's design before issue 10 (one D1 row per point, per-metric sums folded
 * every 10 minutes), kept verbatim as the benchmark's comparison arm: it runs on
 * its own database (BASELINE, migrations 0001-0004) fed the same data. The
 * types and helpers both designs share come from src/storage.
 */
import type { PointRow, RankRow, Reader } from "../../src/storage/queries";
import { cost, DuplicateTickError, type StoredTick, type TrackerState as OursState, type WriteCost } from "../../src/storage/ticks";
import type { Window } from "../../src/storage/window";
import { MINUTE_MS } from "../../src/lib/time";
import { WINDOW_MS } from "../../src/storage/window";

const HOUR_MS = 60 * MINUTE_MS;

export const FOLD_INTERVAL_MS = 10 * MINUTE_MS;
/** Each metric is rebuilt exactly (two-pass, re-shifted to its mean) once a day. */
export const REBUILD_PERIOD_FOLDS = WINDOW_MS / FOLD_INTERVAL_MS;
/** Extra rebuilds of metrics whose shift drifted far from their mean, per fold. */
const MAX_DRIFT_REBUILDS = 64;

/** Today's design's state: the fields it shares with ours (no ledger, purge or conversion marks). */
export type TrackerState = Pick<OursState, "lo" | "hi" | "version" | "epoch" | "last_tick" | "last_tick_stored_at">;

export async function readState(db: D1Database | D1DatabaseSession): Promise<TrackerState> {
  const state = await db
    .prepare("SELECT lo, hi, version, epoch, last_tick, last_tick_stored_at FROM tracker_state WHERE id = 1")
    .first<TrackerState>();
  if (!state) throw new Error("tracker_state is empty: were the migrations applied?");
  return state;
}

export async function tickExists(db: D1Database, ts: number): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM ticks WHERE ts = ?1").bind(ts).first()) !== null;
}

/**
 * Store a tick in one transaction of five statements, whatever its size: the
 * points travel as one JSON parameter (D1 allows 100 bound parameters per
 * statement, a tick has thousands of points). A tick already stored makes the
 * ticks insert fail, which rolls the whole batch back: DuplicateTickError.
 */
export async function insertTick(db: D1Database, tick: StoredTick): Promise<WriteCost> {
  const payload = JSON.stringify(tick.points.map((point) => [point.metric_type, point.symbol, point.value]));
  try {
    const results = await db.batch([
      db
        .prepare("INSERT INTO ticks (ts, stored_at, markets, points) VALUES (?1, ?2, ?3, ?4)")
        .bind(tick.ts, tick.storedAt, tick.markets, tick.points.length),
      // A new metric is shifted by its first value. `WHERE true` lets SQLite
      // parse ON CONFLICT after a SELECT.
      db
        .prepare(
          `INSERT INTO metrics (metric_type, symbol, shift)
           SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1) WHERE true
           ON CONFLICT (metric_type, symbol) DO NOTHING`,
        )
        .bind(payload),
      db
        .prepare(
          `INSERT INTO points (metric_id, ts, value)
           SELECT m.id, ?1, j.value ->> 2
           FROM json_each(?2) j
           JOIN metrics m ON m.metric_type = j.value ->> 0 AND m.symbol = j.value ->> 1`,
        )
        .bind(tick.ts, payload),
      // A late tick, older than the last fold, goes straight into the sums;
      // for a tick on time the subquery is empty and nothing is touched.
      db
        .prepare(
          `UPDATE metrics SET n = n + 1, s1 = s1 + (late.value - shift), s2 = s2 + (late.value - shift) * (late.value - shift)
           FROM (SELECT j.value ->> 0 AS metric_type, j.value ->> 1 AS symbol, j.value ->> 2 AS value
                 FROM json_each(?2) j
                 WHERE ?1 > (SELECT lo FROM tracker_state) AND ?1 <= (SELECT hi FROM tracker_state)) late
           WHERE metrics.metric_type = late.metric_type AND metrics.symbol = late.symbol`,
        )
        .bind(tick.ts, payload),
      db
        .prepare(
          `UPDATE tracker_state SET version = version + 1,
             last_tick = max(coalesce(last_tick, ?1), ?1),
             last_tick_stored_at = CASE WHEN last_tick IS NULL OR ?1 >= last_tick THEN ?2 ELSE last_tick_stored_at END`,
        )
        .bind(tick.ts, tick.storedAt),
    ]);
    return cost(results);
  } catch (err) {
    if (/UNIQUE constraint failed: ticks\.ts/.test(String(err))) throw new DuplicateTickError(tick.ts);
    throw err;
  }
}

/**
 * Move the folded range to (upTo - 24 h, upTo]: add the points that entered,
 * subtract those that left, then rebuild a slice of metrics exactly (each one
 * once a day, and any whose shift drifted far from its mean) so rounding never
 * accumulates.
 */
export async function fold(db: D1Database, upTo: number): Promise<WriteCost> {
  const newLo = upTo - WINDOW_MS;
  const results = await db.batch([
    db
      .prepare(
        `UPDATE metrics SET
           n = metrics.n + d.dn,
           s1 = CASE WHEN metrics.n + d.dn = 0 THEN 0.0 ELSE metrics.s1 + d.ds1 END,
           s2 = CASE WHEN metrics.n + d.dn = 0 THEN 0.0 ELSE metrics.s2 + d.ds2 END
         FROM (
           SELECT m.id, sum(r.sign) AS dn, sum(r.sign * (p.value - m.shift)) AS ds1,
                  sum(r.sign * (p.value - m.shift) * (p.value - m.shift)) AS ds2
           FROM (
             SELECT 1 AS sign, max(hi, lo, ?1) AS since, max(hi, ?2) AS until FROM tracker_state
             UNION ALL
             SELECT -1, lo, min(max(lo, ?1), hi) FROM tracker_state
           ) r
           JOIN metrics m
           JOIN points p ON p.metric_id = m.id AND p.ts > r.since AND p.ts <= r.until
           WHERE r.until > r.since
           GROUP BY m.id
         ) d
         WHERE metrics.id = d.id`,
      )
      .bind(newLo, upTo),
    db.prepare("UPDATE tracker_state SET lo = max(lo, ?1), hi = max(hi, ?2)").bind(newLo, upTo),
    db
      .prepare(
        `UPDATE metrics SET shift = x.mean, n = x.n, s1 = x.s1, s2 = x.s2
         FROM (
           SELECT c.id, c.mean, count(*) AS n, sum(p.value - c.mean) AS s1,
                  sum((p.value - c.mean) * (p.value - c.mean)) AS s2
           FROM (
             SELECT p.metric_id AS id, avg(p.value) AS mean
             FROM (
               SELECT id FROM metrics WHERE id % ?1 = ?2
               UNION
               SELECT id FROM (
                 SELECT id FROM metrics WHERE n > 0 AND s2 - s1 * s1 / n < s2 * 1e-4 LIMIT ?3
               )
             ) due
             -- CROSS JOIN keeps the few due metrics as the outer loop: a
             -- primary-key range per metric, never a scan of points.
             CROSS JOIN points p
             WHERE p.metric_id = due.id
               AND p.ts > (SELECT lo FROM tracker_state) AND p.ts <= (SELECT hi FROM tracker_state)
             GROUP BY p.metric_id
           ) c
           CROSS JOIN points p
           WHERE p.metric_id = c.id
             AND p.ts > (SELECT lo FROM tracker_state) AND p.ts <= (SELECT hi FROM tracker_state)
           GROUP BY c.id
         ) x
         WHERE metrics.id = x.id`,
      )
      .bind(REBUILD_PERIOD_FOLDS, Math.floor(upTo / FOLD_INTERVAL_MS) % REBUILD_PERIOD_FOLDS, MAX_DRIFT_REBUILDS),
  ]);
  return cost(results);
}

/** Metric ids inlined per purge statement (about 7 KB of SQL; D1 allows 100 KB). */
const PURGE_IDS_PER_STATEMENT = 1000;

/**
 * Delete points (and tick records) at or before `cutoff`, never past the
 * folded range's lower bound, so the sums always describe stored points.
 *
 * The delete walks the primary key one metric at a time, reading the rows it
 * deletes plus about two per metric. The metric ids are inlined as literals:
 * with `IN (SELECT id FROM metrics)` SQLite collects the keys first and reads
 * every deleted row twice. Metrics left with no point are deleted too.
 */
export async function purge(db: D1Database, cutoff: number): Promise<WriteCost & { deleted: number }> {
  // lo only grows, so a bound computed from an older read deletes less, never
  // too much. It is bound as a value: any subquery in a DELETE's WHERE makes
  // SQLite collect the keys first and read every deleted row twice.
  const bound = Math.min(cutoff, (await readState(db)).lo);
  // Every point belongs to a stored tick: no tick that old, nothing to delete.
  const oldest = await db.prepare("SELECT ts FROM ticks WHERE ts <= ?1 LIMIT 1").bind(bound).first();
  if (oldest === null) return { statements: 2, rowsRead: 2, rowsWritten: 0, deleted: 0 };

  const metrics = await db.prepare("SELECT id FROM metrics").all<{ id: number }>();
  const ids = metrics.results.map((row) => row.id).filter((id) => Number.isSafeInteger(id));
  const deletes: D1PreparedStatement[] = [];
  for (let start = 0; start < ids.length; start += PURGE_IDS_PER_STATEMENT) {
    const chunk = ids.slice(start, start + PURGE_IDS_PER_STATEMENT).join(",");
    deletes.push(
      db
        .prepare(`DELETE FROM points WHERE metric_id IN (${chunk}) AND ts <= ?1`)
        .bind(bound),
    );
  }
  // Forgetting metrics that have no point left reads every metric: once an
  // hour (the first purge after the bound crosses an hour) is enough.
  const forget = Math.floor(bound / HOUR_MS) !== Math.floor((bound - FOLD_INTERVAL_MS) / HOUR_MS);
  const results = await db.batch([
    ...deletes,
    db.prepare("DELETE FROM ticks WHERE ts <= ?1").bind(bound),
    ...(forget
      ? [
          db.prepare(
            `DELETE FROM metrics
             WHERE n = 0 AND NOT EXISTS (SELECT 1 FROM points p WHERE p.metric_id = metrics.id)`,
          ),
        ]
      : []),
  ]);
  const batch = cost(results);
  return {
    statements: batch.statements + 3,
    rowsRead: batch.rowsRead + 2 + metrics.meta.rows_read,
    rowsWritten: batch.rowsWritten,
    deleted: results.slice(0, deletes.length).reduce((sum, result) => sum + (result.meta.changes ?? 0), 0),
  };
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

/**
 * The 24 h figures (issue 11) as today's design would serve them: per metric
 * of a type (or one metric), its latest point, oldest point, min and max over
 * its points in the window, aggregated over the points (no summary kept).
 */
export async function latestFigures(db: Reader, metricType: string, window: Window, symbol?: string) {
  const { results } = await db
    .prepare(
      `WITH agg AS (
         SELECT m.id, m.symbol, min(p.ts) AS first_ts, max(p.ts) AS ts, min(p.value) AS min, max(p.value) AS max
         FROM metrics m JOIN points p ON p.metric_id = m.id AND p.ts > ?2 AND p.ts <= ?3
         WHERE m.metric_type = ?1 AND (?4 IS NULL OR m.symbol = ?4)
         GROUP BY m.id
       )
       SELECT symbol, ts, (SELECT value FROM points q WHERE q.metric_id = agg.id AND q.ts = agg.ts) AS value,
              first_ts, (SELECT value FROM points q WHERE q.metric_id = agg.id AND q.ts = agg.first_ts) AS first, min, max
       FROM agg`,
    )
    .bind(metricType, window.since, window.until, symbol ?? null)
    .all<LatestRow & { first_ts: number; first: number; min: number; max: number }>();
  return results.sort((a, b) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
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
