/**
 * The per-market breakdown of the latest tick (src/ingest/breakdown.ts): one
 * row per source, written in the tick's batch (insertTick), read by
 * GET .../markets one metric at a time.
 */
import type { SourceBreakdown, StoredEntry } from "../domain/breakdown";
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

export interface BreakdownRows {
  /** The tolerance of the tick's outlier rule, or null when no source of that tick is described. */
  tolerance: number | null;
  /** The metric's markets, one per market (in no particular order). */
  entries: StoredEntry[];
  /** Sources of the tick whose document was too large to store. */
  omitted: string[];
  /** Sources of the tick with a document. */
  sources: number;
}

/**
 * The markets of one metric at tick `ts`, picked out of every source's
 * document in SQL through its index (only they leave the database, and only
 * they count as rows read): a pair's markets, or those where an asset is base
 * or quote. Every source of the tick gives at least one row (LEFT JOIN), so
 * its tolerance and omission are known. Symbols never hold a double quote
 * (src/lib/symbol.ts).
 */
export async function metricBreakdown(db: Reader, ts: number, metricType: string, symbol: string): Promise<BreakdownRows> {
  const { results } = await db
    .prepare(
      `SELECT b.source, b.data ->> '$.tolerance' AS tolerance, coalesce(b.data ->> '$.omitted', 0) AS omitted,
              b.data -> ('$.markets[' || i.value || ']') AS entry
       FROM market_breakdowns b LEFT JOIN json_each(b.data, ?2) i
       WHERE b.tick = ?1`,
    )
    .bind(ts, `$.index.${metricType}."${symbol}"`)
    .all<{ source: string; tolerance: number; omitted: number; entry: string | null }>();
  return {
    tolerance: results[0]?.tolerance ?? null,
    entries: results.flatMap((row) => (row.entry === null ? [] : [{ source: row.source, entry: row.entry }])),
    omitted: [...new Set(results.filter((row) => row.omitted === 1).map((row) => row.source))],
    sources: new Set(results.map((row) => row.source)).size,
  };
}
