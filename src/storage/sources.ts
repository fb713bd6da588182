/**
 * Source health: written by the tick, read by GET /sources and GET /. Error
 * texts arrive redacted (src/lib/redact.ts) and are stored at most
 * ERROR_TEXT_MAX_LENGTH characters long.
 */
import { truncate } from "../lib/redact";
import type { SourceStatus } from "../domain/source-status";
import type { Reader } from "./queries";
import { cost, type WriteCost } from "./ticks";

export interface SourceStatusRow extends SourceStatus {
  tick: number;
  last_success: number | null;
  last_error: number | null;
  last_error_message: string | null;
}

/**
 * Upsert every source's status for the tick `ts` in one statement (the rows
 * travel as one JSON parameter), and bump the tracker version so that cached
 * API answers (ETags) see it. A late tick does not overwrite a newer reading.
 */
export async function recordSourceStatuses(
  db: D1Database,
  ts: number,
  statuses: readonly SourceStatus[],
): Promise<WriteCost> {
  if (statuses.length === 0) return { statements: 0, rowsRead: 0, rowsWritten: 0 };
  const results = await db.batch([
    db
      .prepare(
        `INSERT INTO source_status (source, tick, status, markets, dropped, latency_ms, error, last_success, last_error, last_error_message)
         SELECT value ->> 'source', ?1, value ->> 'status', value ->> 'markets', json(value -> 'dropped'),
                value ->> 'latency_ms', value ->> 'error',
                CASE WHEN value ->> 'status' = 'ok' THEN ?1 END,
                CASE WHEN value ->> 'status' = 'error' THEN ?1 END,
                value ->> 'error'
         FROM json_each(?2) WHERE true
         ON CONFLICT (source) DO UPDATE SET
           tick = excluded.tick, status = excluded.status, markets = excluded.markets, dropped = excluded.dropped,
           latency_ms = excluded.latency_ms, error = excluded.error,
           last_success = coalesce(excluded.last_success, last_success),
           last_error = coalesce(excluded.last_error, last_error),
           last_error_message = coalesce(excluded.last_error_message, last_error_message)
         WHERE excluded.tick >= source_status.tick`,
      )
      .bind(ts, JSON.stringify(statuses.map((status) => ({ ...status, error: status.error === null ? null : truncate(status.error) })))),
    db.prepare("UPDATE tracker_state SET version = version + 1"),
  ]);
  return cost(results);
}

/** The sources read by the latest tick that read any, by name. */
export async function latestSourceStatuses(db: Reader): Promise<SourceStatusRow[]> {
  const { results } = await db
    .prepare(
      `SELECT source, tick, status, markets, dropped, latency_ms, error, last_success, last_error, last_error_message
       FROM source_status WHERE tick = (SELECT max(tick) FROM source_status)
       ORDER BY source`,
    )
    .all<Omit<SourceStatusRow, "dropped"> & { dropped: string }>();
  return results.map((row) => ({ ...row, dropped: JSON.parse(row.dropped) as Record<string, number> }));
}
