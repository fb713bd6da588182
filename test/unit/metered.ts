/**
 * A Reader that records D1's meta of every query it runs (rows read are what D1
 * bills). Used by the cost tests and by `npm run bench`.
 */
import type { Reader } from "../../src/storage/queries";
import type { WriteCost } from "../../src/storage/ticks";

export function metered(db: D1Database) {
  const log: D1Meta[] = [];
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement =>
    ({
      bind: (...values: unknown[]) => wrap(statement.bind(...values)),
      all: async () => {
        const result = await statement.all();
        log.push(result.meta);
        return result;
      },
      // Through all(), since first() does not return the meta.
      first: async () => {
        const result = await statement.all();
        log.push(result.meta);
        return result.results[0] ?? null;
      },
    }) as unknown as D1PreparedStatement;
  const reader: Reader = { prepare: (sql: string) => wrap(db.prepare(sql)) };
  const cost = (): WriteCost => ({
    statements: log.length,
    rowsRead: log.reduce((sum, meta) => sum + meta.rows_read, 0),
    rowsWritten: log.reduce((sum, meta) => sum + meta.rows_written, 0),
  });
  return {
    reader,
    cost,
    rowsRead: () => cost().rowsRead,
    reset: () => void (log.length = 0),
  };
}
