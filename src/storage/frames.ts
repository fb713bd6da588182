/**
 * A tick's frame rows: one per (metric type, block), the block's values of
 * that minute as a JSON array (slot -> value or null). They travel as bound
 * JSON (src/storage/payload.ts): one statement for up to ~1 MB of frames
 * (~50,000 metrics), more beyond, all in the tick's batch.
 */
import { jsonArrayChunks } from "./payload";

/** Per (metric type, block), keyed JSON.stringify([type, block]): the block's values (holes = no value). */
export type TickFrames = ReadonlyMap<string, readonly (number | null | undefined)[]>;

export function frameStatements(db: D1Database, ts: number, frames: TickFrames): D1PreparedStatement[] {
  const rows = [...frames].map(([key, values]) => [...(JSON.parse(key) as [string, number]), Array.from(values, (v) => v ?? null)]);
  // `value -> 2` is the frame's JSON text as JavaScript wrote it: numbers round-trip exactly.
  return jsonArrayChunks(rows).map((payload) =>
    db
      .prepare("INSERT INTO frames (metric_type, block, ts, v) SELECT value ->> 0, value ->> 1, ?1, value -> 2 FROM json_each(?2)")
      .bind(ts, payload),
  );
}
