/**
 * The per-market breakdown of the latest tick (src/ingest/breakdown.ts): one
 * row per source, written in the tick's batch (insertTick), read by
 * GET .../markets one metric at a time.
 */
import type { SourceBreakdown } from "../ingest/breakdown";
import type { Reader } from "./queries";

/**
 * One statement per source (a document can approach D1's 2 MB per value, so
 * they do not travel together): replaces the source's row, unless it already
 * describes a later tick (a late tick).
 */
export function breakdownStatements(db: D1Database, ts: number, breakdowns: readonly SourceBreakdown[]): D1PreparedStatement[] {
  return breakdowns.map(({ source, data }) =>
    db
      .prepare(
        `INSERT INTO market_breakdowns (source, tick, data) VALUES (?1, ?2, ?3)
         ON CONFLICT (source) DO UPDATE SET tick = excluded.tick, data = excluded.data
         WHERE excluded.tick >= market_breakdowns.tick`,
      )
      .bind(source, ts, data),
  );
}

export interface BreakdownRow {
  source: string;
  tolerance: number;
  /** The metric's entries in this source's document (JSON text), or null when the source had none. */
  entries: string | null;
  /** The source's document was too large to store. */
  omitted: boolean;
}

/**
 * Each source's entries for one metric at tick `ts`: SQLite extracts them, so
 * only they leave the database. Symbols never hold a double quote (src/lib/symbol.ts).
 */
export async function metricBreakdown(db: Reader, ts: number, metricType: string, symbol: string): Promise<BreakdownRow[]> {
  const { results } = await db
    .prepare(
      `SELECT source, data ->> '$.tolerance' AS tolerance, data -> ?2 AS entries, coalesce(data ->> '$.omitted', 0) AS omitted
       FROM market_breakdowns WHERE tick = ?1 ORDER BY source`,
    )
    .bind(ts, `$.${metricType}."${symbol}"`)
    .all<{ source: string; tolerance: number; entries: string | null; omitted: number }>();
  return results.map((row) => ({ ...row, omitted: row.omitted === 1 }));
}
