/** A Reader that records D1's meta of every query it runs (rows read are what D1 bills). */
import type { Reader } from "../../src/storage/queries";

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
      first: async () => {
        const result = await statement.all();
        log.push(result.meta);
        return result.results[0] ?? null;
      },
    }) as unknown as D1PreparedStatement;
  const reader: Reader = { prepare: (sql: string) => wrap(db.prepare(sql)) };
  return {
    reader,
    rowsRead: () => log.reduce((sum, meta) => sum + meta.rows_read, 0),
    reset: () => void (log.length = 0),
  };
}
