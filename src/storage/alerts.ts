/** Alerts in D1: written by the alert queue consumers, read by the API. */
import type { AlertCandidate, AlertRow } from "../domain/alert";
import { jsonArrayChunks } from "./payload";
import type { Reader } from "./queries";

export interface AlertFilter {
  metricType?: string;
  symbol?: string;
  /** Alerts of ticks at or after this time, epoch ms. */
  since?: number;
  limit: number;
}

const COLUMNS = `id, metric_type, symbol, tick_ts, value, average, threshold, points, created_at,
  delivery_state, attempts, last_error, delivered_at`;

/**
 * Insert the alerts that are not stored yet (one per metric and tick: a
 * redelivered message inserts nothing), in one statement per ~1 MB of
 * candidates, and return the ids of every alert of the candidates still waiting
 * for delivery: the new ones, and any left pending by an earlier attempt whose
 * hand-off to the delivery queue failed.
 */
export async function storeAlerts(
  db: D1Database,
  candidates: readonly AlertCandidate[],
  createdAt: number,
  state: "pending" | "not_configured",
): Promise<number[]> {
  if (candidates.length === 0) return [];
  // As bound JSON, in as many chunks as D1's 2 MB per value needs (one for a few thousand alerts).
  const payloads = jsonArrayChunks(candidates.map((c) => [c.metric_type, c.symbol, c.ts, c.value, c.average, c.threshold, c.points]));
  const results = await db.batch<{ id: number }>(
    payloads.flatMap((payload) => [
      // `WHERE true` lets SQLite parse ON CONFLICT after a SELECT.
      db
        .prepare(
          `INSERT INTO alerts (metric_type, symbol, tick_ts, value, average, threshold, points, created_at, delivery_state)
           SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, ?2, ?3
           FROM json_each(?1) WHERE true
           ON CONFLICT (metric_type, symbol, tick_ts) DO NOTHING`,
        )
        .bind(payload, createdAt, state),
      db
        .prepare(
          `SELECT a.id FROM json_each(?1) j
           JOIN alerts a ON a.metric_type = j.value ->> 0 AND a.symbol = j.value ->> 1 AND a.tick_ts = j.value ->> 2
           WHERE a.delivery_state = 'pending'
           ORDER BY a.id`,
        )
        .bind(payload),
    ]),
  );
  // Every second result is a chunk's pending ids.
  return results.filter((_, i) => i % 2 === 1).flatMap((result) => result.results.map((row) => row.id));
}

export async function alertById(db: Reader, id: number): Promise<AlertRow | null> {
  return db.prepare(`SELECT ${COLUMNS} FROM alerts WHERE id = ?1`).bind(id).first<AlertRow>();
}

export async function markDelivered(db: D1Database, id: number, at: number): Promise<void> {
  await db
    .prepare(
      `UPDATE alerts SET delivery_state = 'delivered', attempts = attempts + 1, delivered_at = ?2, last_error = NULL
       WHERE id = ?1`,
    )
    .bind(id, at)
    .run();
}

export async function markAttemptFailed(db: D1Database, id: number, error: string): Promise<void> {
  await db
    .prepare("UPDATE alerts SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1 AND delivery_state = 'pending'")
    .bind(id, error.slice(0, 500))
    .run();
}

export async function markNotConfigured(db: D1Database, id: number): Promise<void> {
  await db
    .prepare("UPDATE alerts SET delivery_state = 'not_configured' WHERE id = ?1 AND delivery_state = 'pending'")
    .bind(id)
    .run();
}

/** Retries exhausted: only a still-pending alert becomes failed (a late success stays delivered). */
export async function markFailed(db: D1Database, id: number, error: string): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE alerts SET delivery_state = 'failed', last_error = coalesce(last_error, ?2)
       WHERE id = ?1 AND delivery_state = 'pending'`,
    )
    .bind(id, error.slice(0, 500))
    .run();
  return result.meta.changes > 0;
}

/** Newest first (by tick time, then insertion). */
export async function listAlerts(db: Reader, filter: AlertFilter): Promise<AlertRow[]> {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  const where = (condition: string, value: string | number) => {
    params.push(value);
    conditions.push(condition.replace("?", `?${params.length}`));
  };
  if (filter.metricType !== undefined) where("metric_type = ?", filter.metricType);
  if (filter.symbol !== undefined) where("symbol = ?", filter.symbol);
  if (filter.since !== undefined) where("tick_ts >= ?", filter.since);
  params.push(filter.limit);
  const { results } = await db
    .prepare(
      `SELECT ${COLUMNS} FROM alerts
       ${conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""}
       ORDER BY tick_ts DESC, id DESC
       LIMIT ?${params.length}`,
    )
    .bind(...params)
    .all<AlertRow>();
  return results;
}

/** Alerts are kept ALERT_RETENTION_MS; the delete walks the tick-time index. */
export async function purgeAlerts(db: D1Database, before: number): Promise<number> {
  const result = await db.prepare("DELETE FROM alerts WHERE tick_ts < ?1").bind(before).run();
  return result.meta.changes;
}
