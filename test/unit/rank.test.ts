import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Point } from "../../src/domain/point";
import { maintain } from "../../src/ingest/tick";
import { history, listMetrics, rankAll, rankOf } from "../../src/storage/queries";
import { DuplicateTickError, insertTick } from "../../src/storage/ticks";
import { windowEndingAt } from "../../src/storage/window";
import { DAY, expectSumsMatchStoredValues, MINUTE, random, resetDatabase, T0 } from "./helpers";

/**
 * The reference: what the database should answer, computed from a plain list of
 * every point ever stored, by the textbook two-pass method.
 */
class Model {
  points: { metric_type: string; symbol: string; ts: number; value: number }[] = [];

  window(metricType: string, now: number) {
    const series = new Map<string, number[]>();
    for (const p of this.points) {
      if (p.metric_type !== metricType || p.ts <= now - DAY || p.ts > now) continue;
      series.set(p.symbol, [...(series.get(p.symbol) ?? []), p.value]);
    }
    return series;
  }

  /**
   * Population std by the corrected two-pass algorithm (the second pass also
   * sums the deviations, which cancels the rounding of the mean); exactly 0
   * when every value is the same.
   */
  static stddev(values: number[]): number {
    if (values.every((v) => v === values[0])) return 0;
    const n = values.length;
    const mean = values.reduce((a, b) => a + b, 0) / n;
    const deviations = values.map((v) => v - mean);
    const sum = deviations.reduce((a, d) => a + d, 0);
    const squares = deviations.reduce((a, d) => a + d * d, 0);
    return Math.sqrt((squares - (sum * sum) / n) / n);
  }

  rank(metricType: string, now: number) {
    const stds = [...this.window(metricType, now)].map(([symbol, values]) => ({ symbol, stddev: Model.stddev(values) }));
    return stds
      .map(({ symbol, stddev }) => ({
        symbol,
        stddev,
        rank: 1 + stds.filter((other) => other.stddev > stddev).length,
        total: stds.length,
      }))
      .sort((a, b) => a.rank - b.rank || a.symbol.localeCompare(b.symbol));
  }
}

let model: Model;
beforeEach(async () => {
  await resetDatabase();
  model = new Model();
});

/** Store a tick and run the scheduled maintenance, as the cron does. */
async function tick(ts: number, points: Point[]) {
  await insertTick(env.DB, { ts, storedAt: ts, markets: points.length, points });
  for (const p of points) model.points.push({ ...p, ts });
  await maintain(env.DB, ts);
}

function expectRanksMatch(metricType: string, now: number, actual: Awaited<ReturnType<typeof rankAll>>) {
  const expected = model.rank(metricType, now);
  expect(actual.map(({ symbol, rank, total }) => ({ symbol, rank, total }))).toEqual(
    expected.map(({ symbol, rank, total }) => ({ symbol, rank, total })),
  );
  for (const [i, row] of actual.entries()) {
    const reference = expected[i]!.stddev;
    if (reference === 0) expect(row.stddev, row.symbol).toBe(0);
    else expect(Math.abs(row.stddev - reference) / reference, row.symbol).toBeLessThan(1e-9);
  }
}

describe("rank", () => {
  it("ranks by population standard deviation, most volatile first", async () => {
    // a: 1, 3 -> std 1; b: 10, 10 -> 0; c: 0, 4 -> 2
    await tick(T0, [
      { metric_type: "price", symbol: "a", value: 1 },
      { metric_type: "price", symbol: "b", value: 10 },
      { metric_type: "price", symbol: "c", value: 1 },
    ]);
    await tick(T0 + MINUTE, [
      { metric_type: "price", symbol: "a", value: 3 },
      { metric_type: "price", symbol: "b", value: 10 },
      { metric_type: "price", symbol: "c", value: 5 },
    ]);
    const rows = await rankAll(env.DB, "price", windowEndingAt(T0 + MINUTE));
    expect(rows).toEqual([
      { symbol: "c", stddev: 2, rank: 1, total: 3 },
      { symbol: "a", stddev: 1, rank: 2, total: 3 },
      { symbol: "b", stddev: 0, rank: 3, total: 3 },
    ]);
  });

  it("ties share a rank, so the last rank can be below the total", async () => {
    await tick(T0, [
      { metric_type: "price", symbol: "a", value: 1 },
      { metric_type: "price", symbol: "b", value: 2 },
      { metric_type: "price", symbol: "c", value: 5 },
      { metric_type: "price", symbol: "d", value: 7 },
    ]);
    await tick(T0 + MINUTE, [
      { metric_type: "price", symbol: "a", value: 3 }, // std 1
      { metric_type: "price", symbol: "b", value: 4 }, // std 1
      { metric_type: "price", symbol: "c", value: 5 }, // std 0
      { metric_type: "price", symbol: "d", value: 7 }, // std 0
    ]);
    const window = windowEndingAt(T0 + MINUTE);
    expect(await rankOf(env.DB, "price", "a", window)).toMatchObject({ rank: 1, total: 4 });
    expect(await rankOf(env.DB, "price", "b", window)).toMatchObject({ rank: 1, total: 4 });
    expect(await rankOf(env.DB, "price", "c", window)).toMatchObject({ rank: 3, total: 4 });
    expect(await rankOf(env.DB, "price", "d", window)).toMatchObject({ rank: 3, total: 4 });
  });

  it("a single metric is rank 1 of 1, and metric types are ranked separately", async () => {
    await tick(T0, [
      { metric_type: "price", symbol: "btceur", value: 100 },
      { metric_type: "volume", symbol: "btc", value: 5 },
      { metric_type: "volume", symbol: "eur", value: 500 },
    ]);
    expect(await rankOf(env.DB, "price", "btceur", windowEndingAt(T0))).toMatchObject({ rank: 1, total: 1, stddev: 0 });
    expect(await rankOf(env.DB, "volume", "btc", windowEndingAt(T0))).toMatchObject({ rank: 1, total: 2 });
  });

  it("covers exactly the last 24 h, to the minute", async () => {
    await tick(T0, [{ metric_type: "price", symbol: "a", value: 1000 }]);
    await tick(T0 + MINUTE, [{ metric_type: "price", symbol: "a", value: 1 }]);
    await tick(T0 + 2 * MINUTE, [{ metric_type: "price", symbol: "a", value: 3 }]);
    // At T0 + 24 h the point at T0 is exactly 24 h old: out. Values 1, 3: std 1.
    expect(await rankOf(env.DB, "price", "a", windowEndingAt(T0 + DAY))).toMatchObject({ stddev: 1 });
    // One millisecond earlier it is still in: 1000, 1, 3.
    const withFirst = Model.stddev([1000, 1, 3]);
    const row = await rankOf(env.DB, "price", "a", windowEndingAt(T0 + DAY - 1));
    expect(Math.abs(row!.stddev - withFirst) / withFirst).toBeLessThan(1e-12);
    // At T0 + 24 h + 1 min only the point at T0 + 2 min is left; then none.
    expect(await rankOf(env.DB, "price", "a", windowEndingAt(T0 + DAY + MINUTE))).toMatchObject({ stddev: 0, total: 1 });
    expect(await rankOf(env.DB, "price", "a", windowEndingAt(T0 + DAY + 2 * MINUTE))).toBeNull();
    expect(await history(env.DB, "price", "a", windowEndingAt(T0 + DAY))).toEqual([
      { ts: T0 + MINUTE, value: 1 },
      { ts: T0 + 2 * MINUTE, value: 3 },
    ]);
    expect(await listMetrics(env.DB, "price", windowEndingAt(T0 + DAY + 3 * MINUTE))).toEqual([]);
  });

  it("stays exact where the textbook sum-of-squares formula breaks", async () => {
    const next = random(7);
    for (let minute = 0; minute < 90; minute++) {
      const skip = minute % 7 === 3; // missing minutes for "gappy"
      const points: Point[] = [
        // A stablecoin: mean 1.0, std about 1e-6.
        { metric_type: "price", symbol: "usdcusd", value: 1 + (next() - 0.5) * 3.4e-6 },
        // Volumes near 1e12 that change by a few units.
        { metric_type: "volume", symbol: "big", value: 1e12 + Math.round(next() * 10) },
        { metric_type: "volume", symbol: "big2", value: 1.5e12 + Math.round(next() * 1000) / 100 },
        // Constant series: std 0, tied; 0.1 is not exact in binary.
        { metric_type: "price", symbol: "const1", value: 0.1 },
        { metric_type: "price", symbol: "const2", value: 12345.678 },
        { metric_type: "volume", symbol: "const3", value: 1e12 },
        // Ordinary series.
        { metric_type: "price", symbol: "btcusd", value: 50000 + next() * 500 },
        { metric_type: "price", symbol: "tiny", value: 1e-8 * (1 + next()) },
      ];
      if (!skip) points.push({ metric_type: "price", symbol: "gappy", value: 10 + next() });
      await tick(T0 + minute * MINUTE, points);
    }
    for (const now of [T0 + 89 * MINUTE, T0 + 89 * MINUTE + 30_000, T0 + 95 * MINUTE, T0 + 45 * MINUTE]) {
      expectRanksMatch("price", now, await rankAll(env.DB, "price", windowEndingAt(now)));
      expectRanksMatch("volume", now, await rankAll(env.DB, "volume", windowEndingAt(now)));
    }
    const constants = await rankAll(env.DB, "price", windowEndingAt(T0 + 89 * MINUTE));
    expect(constants.filter((r) => r.symbol.startsWith("const")).map((r) => r.stddev)).toEqual([0, 0]);
  });

  it("matches the naive computation over a sliding day with gaps, late ticks and lagging reads", async () => {
    const next = random(42);
    const symbols = Array.from({ length: 12 }, (_, i) => `m${i}`);
    let ts = T0;
    const ticks: number[] = [];
    // 30 hours of ticks every 23-37 minutes, metrics coming and going.
    while (ts < T0 + 30 * 60 * MINUTE) {
      const points: Point[] = symbols
        .filter((_, i) => next() > (i % 4 === 0 ? 0.5 : 0.1))
        .map((symbol, i) => ({ metric_type: "price", symbol, value: (i + 1) * 100 * (1 + (next() - 0.5) * 0.1 * (i % 3)) }));
      await tick(ts, points);
      ticks.push(ts);
      // Read at the tick, between ticks, and long after (the folded sums lag).
      for (const now of [ts, ts + 30_000, ts + 17 * MINUTE]) {
        expectRanksMatch("price", now, await rankAll(env.DB, "price", windowEndingAt(now)));
      }
      ts += (23 + Math.floor(next() * 15)) * MINUTE;
    }
    // A late tick, older than the last fold, counts in the sums at once.
    const late = ticks.at(-1)! - 5 * MINUTE;
    await tick(late, [{ metric_type: "price", symbol: "m1", value: 1e6 }]);
    expectRanksMatch("price", ticks.at(-1)!, await rankAll(env.DB, "price", windowEndingAt(ticks.at(-1)!)));
    // Reading "in the past", before the newest tick (clock skew between
    // locations), subtracts the folded points after the window.
    const past = ticks.at(-1)! - 1;
    expectRanksMatch("price", past, await rankAll(env.DB, "price", windowEndingAt(past)));
  });

  it("purges old points together with their share of the rank sums", async () => {
    const next = random(3);
    // 26 hours, a tick every 20 minutes: folds and purges run as the cron runs them.
    for (let ts = T0; ts <= T0 + 26 * 60 * MINUTE; ts += 20 * MINUTE) {
      const points: Point[] = ["a", "b", "c"].map((symbol) => ({ metric_type: "volume", symbol, value: 1e6 * (1 + next()) }));
      // "gone" trades for the first two hours only.
      if (ts < T0 + 2 * 60 * MINUTE) points.push({ metric_type: "volume", symbol: "gone", value: next() });
      await tick(ts, points);
    }
    await expectSumsMatchStoredValues();
    const state = await env.DB.prepare("SELECT lo, hi FROM tracker_state").first<{ lo: number; hi: number }>();
    // Nothing older than the summed range is left, and nothing in it is missing.
    const oldest = await env.DB.prepare("SELECT min(ts) AS ts FROM frames").first<{ ts: number }>();
    expect(oldest!.ts).toBeGreaterThan(state!.lo);
    expect(state!.hi - state!.lo).toBe(DAY);
    // "gone" is kept (a metric is forgotten after 31 days without a value) but no longer ranked.
    expect((await env.DB.prepare("SELECT symbol FROM metrics ORDER BY symbol").all()).results.map((m) => m.symbol)).toEqual([
      "a",
      "b",
      "c",
      "gone",
    ]);
    expect((await rankAll(env.DB, "volume", windowEndingAt(T0 + 26 * 60 * MINUTE))).map((r) => r.symbol).sort()).toEqual(["a", "b", "c"]);
  });

  it("a tick stored twice is refused and changes nothing", async () => {
    await tick(T0, [{ metric_type: "price", symbol: "a", value: 1 }]);
    const before = await env.DB.prepare("SELECT * FROM sums").all();
    await expect(
      insertTick(env.DB, { ts: T0, storedAt: T0, markets: 1, points: [{ metric_type: "price", symbol: "a", value: 5 }] }),
    ).rejects.toBeInstanceOf(DuplicateTickError);
    expect((await env.DB.prepare("SELECT * FROM sums").all()).results).toEqual(before.results);
    expect(await history(env.DB, "price", "a", windowEndingAt(T0))).toEqual([{ ts: T0, value: 1 }]);
  });
});
