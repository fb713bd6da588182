import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Point } from "../../src/ingest/aggregate";
import { maintain } from "../../src/ingest/tick";
import { history, rankAll, rankOf } from "../../src/storage/queries";
import { insertTick, purge } from "../../src/storage/ticks";
import { windowEndingAt } from "../../src/storage/window";
import { DAY, MINUTE, resetDatabase, T0 } from "./helpers";
import { metered } from "./metered";

beforeEach(resetDatabase);

const tickPoints = (count: number, minute: number): Point[] =>
  Array.from({ length: count }, (_, i) => ({
    metric_type: i % 2 ? "price" : "volume",
    symbol: `s${i}`,
    value: 100 + i + Math.sin(minute * 7 + i),
  }));

async function tick(ts: number, count: number) {
  const cost = await insertTick(env.DB, { ts, storedAt: ts, markets: count, points: tickPoints(count, ts / MINUTE) });
  await maintain(env.DB, ts);
  return cost;
}

describe("the cost of the tracker's queries, from D1's own meta", () => {
  it("a tick of 4,000 points is 5 statements and at most 2 rows written per point", async () => {
    const first = await tick(T0, 4000);
    // New metrics cost their row and its (metric_type, symbol) index entry once.
    expect(first.rowsWritten).toBe(4000 + 2 * 4000 + 2);
    const steady = await tick(T0 + MINUTE, 4000);
    expect(steady.statements).toBe(5);
    expect(steady.statements).toBeLessThanOrEqual(10);
    // One row per point, plus the tick record and the state row.
    expect(steady.rowsWritten).toBe(4000 + 2);
    expect(steady.rowsWritten).toBeLessThanOrEqual(2 * 4000);
  });

  it("rank reads at most 30 rows per metric, whatever the history", async () => {
    const metrics = 100; // 50 per type
    for (let minute = 0; minute < 45; minute++) await tick(T0 + minute * MINUTE, metrics);
    const { reader, rowsRead, reset } = metered(env.DB);
    // Right after a fold, between folds, and with the sums lagging behind.
    for (const now of [T0 + 40 * MINUTE, T0 + 44 * MINUTE + 30_000, T0 + 49 * MINUTE]) {
      reset();
      const ranking = await rankAll(reader, "price", windowEndingAt(now));
      expect(ranking).toHaveLength(metrics / 2);
      expect(rowsRead()).toBeLessThanOrEqual(30 * (metrics / 2));
      reset();
      await rankOf(reader, "price", "s1", windowEndingAt(now));
      expect(rowsRead()).toBeLessThanOrEqual(30 * (metrics / 2));
    }
  });

  it("history of a metric over a full day reads at most 1,500 rows", async () => {
    // 1,440 points of one metric, seeded in one statement.
    await env.DB.prepare("INSERT INTO metrics (id, metric_type, symbol, shift) VALUES (1, 'price', 'btcusd', 100)").run();
    await env.DB.prepare(
      `WITH RECURSIVE minute (k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM minute WHERE k < 1439)
       INSERT INTO points (metric_id, ts, value) SELECT 1, ?1 + k * 60000, 100 + k FROM minute`,
    )
      .bind(T0)
      .run();
    const { reader, rowsRead } = metered(env.DB);
    const points = await history(reader, "price", "btcusd", windowEndingAt(T0 + 1439 * MINUTE));
    expect(points).toHaveLength(1440);
    expect(rowsRead()).toBeLessThanOrEqual(1500);
  });

  it("purge reads at most 2 rows per row it deletes, and nothing when nothing is due", async () => {
    for (let minute = 0; minute < 30; minute++) await tick(T0 + minute * MINUTE, 50);
    expect(await purge(env.DB, T0 + 30 * MINUTE - DAY)).toMatchObject({ deleted: 0, rowsRead: 2 });

    // A day later: the maintenance folds, then purges the 20 minutes that left.
    const later = T0 + DAY + 19 * MINUTE;
    await insertTick(env.DB, { ts: later, storedAt: later, markets: 50, points: tickPoints(50, 0) });
    const { fold } = await import("../../src/storage/ticks");
    await fold(env.DB, later);
    const purged = await purge(env.DB, later - DAY);
    expect(purged.deleted).toBe(20 * 50);
    expect(purged.rowsRead).toBeLessThanOrEqual(2 * purged.deleted);
    const left = await env.DB.prepare("SELECT min(ts) AS oldest FROM points").first<{ oldest: number }>();
    expect(left?.oldest).toBe(T0 + 20 * MINUTE);
  });
});
