/**
 * The bench's candles figures (scripts/bench/candle-figures.ts): the reference
 * ranking, the comparison of a ranking with it, the per-minute summary and the
 * storage extrapolation; and the bench's knob `candles: false`, which runs a
 * tick without the candle step. No timings here: those are the bench's.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { candleBytes, compareRanks, perMinute, rankByVariance } from "../../scripts/bench/candle-figures";
import { insertTick } from "../../src/storage/ticks";
import { count, HOUR, MINUTE, resetDatabase } from "./helpers";

describe("the bench's candles figures", () => {
  it("ranks by variance, largest first; ties share the first position's rank, then by symbol", () => {
    const ranked = rankByVariance([
      { symbol: "c", variance: 0 },
      { symbol: "a", variance: 4 },
      { symbol: "d", variance: 0 },
      { symbol: "b", variance: 9 },
    ]);
    expect(ranked).toEqual([
      { symbol: "b", stddev: 3, rank: 1 },
      { symbol: "a", stddev: 2, rank: 2 },
      { symbol: "c", stddev: 0, rank: 3 },
      { symbol: "d", stddev: 0, rank: 3 },
    ]);
  });

  it("counts a symbol with another rank, or missing on either side, as a mismatch; the worst relative std difference", () => {
    const reference = [
      { symbol: "a", stddev: 2, rank: 1 },
      { symbol: "b", stddev: 1, rank: 2 },
      { symbol: "c", stddev: 0, rank: 3 },
    ];
    expect(compareRanks(reference, reference)).toMatchObject({ mismatches: 0, worstRelative: 0 });
    const arm = [
      { symbol: "b", stddev: 1.5, rank: 1 },
      { symbol: "a", stddev: 2, rank: 2 },
    ];
    const c = compareRanks(arm, reference);
    // a and b swapped (2), c missing (1).
    expect(c.mismatches).toBe(3);
    expect(c.worstRelative).toBe(0.5);
    // A std where the reference has none is infinitely wrong.
    expect(compareRanks([{ symbol: "c", stddev: 1e-300, rank: 3 }], reference).worstRelative).toBe(Infinity);
  });

  it("an hour's minutes: the mean, the worst minute and when", () => {
    const minutes = Array.from({ length: 60 }, (_, i) => ({ minute: 100 + i, rows: i === 47 ? 448 : 196 }));
    expect(perMinute(minutes)).toEqual({ mean: 196 + 252 / 60, worst: 448, worst_minute: 147, best: 196 });
  });

  it("bytes a year: hourly rows for their retention, daily ones for every day; blocks of 48 per type", () => {
    const perRow = { hourlyRowBytes: 6000, dailyRowBytes: 6100 };
    // 4,000 metrics: 2 types x ceil(2,000 / 48) = 84 blocks.
    const year = candleBytes(perRow, { metrics: 4000, years: 1, hourlyDays: 90, dailyDays: null });
    expect(year).toEqual({ blocks: 84, hourly: 84 * 24 * 90 * 6000, daily: 84 * 365 * 6100, total: 84 * 24 * 90 * 6000 + 84 * 365 * 6100 });
    // A second year adds only days; a daily retention caps them.
    expect(candleBytes(perRow, { metrics: 4000, years: 2, hourlyDays: 90, dailyDays: null }).daily).toBe(2 * year.daily);
    expect(candleBytes(perRow, { metrics: 4000, years: 2, hourlyDays: 90, dailyDays: 400 }).daily).toBe(84 * 400 * 6100);
  });
});

describe("the bench's knob candles: false", () => {
  beforeEach(resetDatabase);

  it("a tick without the candle step writes no candle and moves none of its cursors; with it, the hour rolls up", async () => {
    const start = Date.UTC(2026, 10, 29, 10, 0);
    const points = (value: number) => [{ metric_type: "price" as const, symbol: "btcusd", value }];
    for (let m = 0; m <= 60; m++) await insertTick(env.DB, { ts: start + m * MINUTE, storedAt: 0, markets: 1, points: points(100 + m) }, null, { candles: false });
    const state = () => env.DB.prepare("SELECT candles_until, days_until, hour_ts FROM tracker_state").first();
    expect(await state()).toEqual({ candles_until: null, days_until: null, hour_ts: null });
    expect(await count("candles")).toBe(0);
    // Switched on again, the next tick starts the roll-up from the oldest stored minute.
    await insertTick(env.DB, { ts: start + 61 * MINUTE, storedAt: 0, markets: 1, points: points(0) });
    expect(await state()).toMatchObject({ candles_until: start + HOUR, hour_ts: start + HOUR });
    expect(await count("candles")).toBeGreaterThan(0);
  });
});
