import { describe, expect, it } from "vitest";
import { aggregate } from "../../src/ingest/aggregate";
import type { MarketSummary } from "../../src/sources/types";

function market(exchange: string, base: string, quote: string, last?: number, volume?: number, volumeQuote?: number): MarketSummary {
  return { exchange, pair: base + quote, base, quote, last, volume, volumeQuote };
}

const value = (points: ReturnType<typeof aggregate>["points"], type: string, symbol: string) =>
  points.find((p) => p.metric_type === type && p.symbol === symbol)?.value;

describe("aggregate", () => {
  it("averages the last price of a pair over its markets", () => {
    const { points } = aggregate([
      market("kraken", "btc", "eur", 100, 1, 100),
      market("bitstamp", "btc", "eur", 102, 1, 102),
      market("coinbase-pro", "btc", "eur", 107, 1, 107),
    ]);
    // (100 + 102 + 107) / 3 = 103
    expect(value(points, "price", "btceur")).toBe(103);
  });

  it("sums an asset's volume as base and as quote", () => {
    const { points } = aggregate([
      market("kraken", "btc", "eur", 50000, 10, 500000),
      market("kraken", "eth", "btc", 0.05, 100, 5),
      market("bitstamp", "btc", "usd", 55000, 2, 110000),
    ]);
    expect(value(points, "volume", "btc")).toBe(10 + 5 + 2);
    expect(value(points, "volume", "eur")).toBe(500000);
    expect(value(points, "volume", "eth")).toBe(100);
    expect(value(points, "volume", "usd")).toBe(110000);
  });

  it.each([
    ["missing", undefined],
    ["zero", 0],
    ["negative", -5],
    ["infinite", Infinity],
    ["NaN", NaN],
  ])("a %s last price contributes no price, the market's volumes still count", (_, last) => {
    const { points, stats } = aggregate([
      market("kraken", "btc", "eur", 100, 1, 100),
      market("bitstamp", "btc", "eur", last, 2, 200),
    ]);
    expect(value(points, "price", "btceur")).toBe(100);
    expect(value(points, "volume", "btc")).toBe(3);
    expect(value(points, "volume", "eur")).toBe(300);
    expect(stats.ignored.price).toBe(1);
    expect(stats.skipped).toBe(0);
  });

  it.each([
    ["missing", undefined],
    ["negative", -1],
    ["infinite", Infinity],
    ["NaN", NaN],
  ])("a %s volume or quote volume contributes nothing for its side only", (_, bad) => {
    const { points, stats } = aggregate([
      market("kraken", "btc", "eur", 100, bad, 100),
      market("bitstamp", "btc", "eur", 110, 2, bad),
    ]);
    expect(value(points, "price", "btceur")).toBe(105);
    expect(value(points, "volume", "btc")).toBe(2);
    expect(value(points, "volume", "eur")).toBe(100);
    expect(stats.ignored).toEqual({ price: 0, volume: 1, volume_quote: 1 });
  });

  it("a zero volume counts as a volume of zero", () => {
    const { points } = aggregate([market("kraken", "btc", "eur", 100, 0, 0)]);
    expect(value(points, "volume", "btc")).toBe(0);
    expect(value(points, "volume", "eur")).toBe(0);
  });

  it("a market with no usable value produces no point and is counted as skipped", () => {
    const { points, stats } = aggregate([market("kraken", "doge", "eur", undefined, -1, undefined)]);
    expect(points).toEqual([]);
    expect(stats).toMatchObject({ markets: 1, skipped: 1 });
  });

  it("an asset with only invalid volumes gets no volume point", () => {
    const { points } = aggregate([market("kraken", "btc", "eur", 100, undefined, 100)]);
    expect(value(points, "volume", "btc")).toBeUndefined();
    expect(value(points, "volume", "eur")).toBe(100);
  });

  it("counts a market reported twice once", () => {
    const { points, stats } = aggregate([
      market("kraken", "btc", "eur", 100, 1, 100),
      market("kraken", "btc", "eur", 100, 1, 100),
      market("bitstamp", "btc", "eur", 200, 1, 200),
    ]);
    expect(value(points, "price", "btceur")).toBe(150);
    expect(value(points, "volume", "btc")).toBe(2);
    expect(stats.duplicates).toBe(1);
  });
});

describe("outlier rule: prices outside [median / (1 + t), median x (1 + t)] leave the mean (3 markets or more)", () => {
  const t = (outlierTolerance: number) => ({ outlierTolerance });
  const pairOn = (...prices: number[]) => prices.map((last, i) => market(`exchange${i}`, "btc", "usd", last, 1, last));

  it("with 2 markets both prices count, however far apart", () => {
    const { points, stats } = aggregate(pairOn(100, 1000), t(0.1));
    expect(value(points, "price", "btcusd")).toBe(550);
    expect(stats.outliers).toBe(0);
  });

  it("with 3 markets the one far from the median is dropped from the mean, not from the volume", () => {
    const { points, stats, rejected } = aggregate(pairOn(100, 101, 1000), t(0.1));
    expect(value(points, "price", "btcusd")).toBe(100.5); // (100 + 101) / 2; the median is 101
    expect(value(points, "volume", "btc")).toBe(3);
    expect(value(points, "volume", "usd")).toBe(1201);
    expect(stats.outliers).toBe(1);
    expect(rejected).toEqual([{ market: expect.objectContaining({ exchange: "exchange2", last: 1000 }), reason: "outlier" }]);
  });

  it("a price exactly at the tolerance is kept, above and below", () => {
    // median 100, t = 0.1: bounds 100 / 1.1 and 110.
    expect(value(aggregate(pairOn(100, 100, 110), t(0.1)).points, "price", "btcusd")).toBeCloseTo(310 / 3, 10);
    expect(value(aggregate(pairOn(100, 100, 100 / 1.1), t(0.1)).points, "price", "btcusd")).toBeCloseTo((200 + 100 / 1.1) / 3, 10);
    // 3 x 1.2 is 3.5999999999999996 in binary: 3.6 is still at the bound, kept.
    expect(value(aggregate(pairOn(3, 3, 3.6), t(0.2)).points, "price", "btcusd")).toBeCloseTo(3.2, 12);
    // 3.6 / 1.2 is 3.0000000000000004 in binary: 3 is at the lower bound of median 3.6, kept.
    expect(value(aggregate(pairOn(3.6, 3.6, 3), t(0.2)).points, "price", "btcusd")).toBeCloseTo(3.4, 12);
  });

  it("a price just beyond the tolerance is dropped, above and below", () => {
    expect(value(aggregate(pairOn(100, 100, 110.0001), t(0.1)).points, "price", "btcusd")).toBe(100);
    expect(value(aggregate(pairOn(100, 100, 90.909), t(0.1)).points, "price", "btcusd")).toBe(100); // 100 / 1.1 = 90.90909...
    expect(value(aggregate(pairOn(3, 3, 3.6001), t(0.2)).points, "price", "btcusd")).toBe(3);
  });

  it("with an even number of markets the median is the mean of the middle two", () => {
    // Sorted 100, 100.5, 120, 132: median (100.5 + 120) / 2 = 110.25, bounds 100.2272... and 121.275.
    // (The lower middle alone would keep 100 and 100.5, the upper middle 120 and 132.)
    const { points, stats } = aggregate(pairOn(100, 120, 100.5, 132), t(0.1));
    expect(stats.outliers).toBe(2);
    expect(value(points, "price", "btcusd")).toBe((120 + 100.5) / 2);
  });

  it("markets without a valid price do not count towards the 3", () => {
    const markets = [...pairOn(100, 1000), market("x", "btc", "usd", undefined, 1, 1), market("y", "btc", "usd", 0, 1, 1)];
    expect(value(aggregate(markets, t(0.1)).points, "price", "btcusd")).toBe(550);
  });

  it("a duplicate does not count towards the 3 either", () => {
    const markets = [...pairOn(100, 1000), market("exchange0", "btc", "usd", 100, 1, 100)];
    const { points, stats } = aggregate(markets, t(0.1));
    expect(value(points, "price", "btcusd")).toBe(550);
    expect(stats.duplicates).toBe(1);
  });

  it("each pair is judged on its own median", () => {
    const markets = [
      ...pairOn(100, 101, 102),
      market("a", "eth", "usd", 10, 1, 10),
      market("b", "eth", "usd", 10, 1, 10),
      market("c", "eth", "usd", 12, 1, 12),
    ];
    const { points, stats } = aggregate(markets, t(0.1));
    expect(value(points, "price", "btcusd")).toBe(101);
    expect(value(points, "price", "ethusd")).toBe(10);
    expect(stats.outliers).toBe(1);
  });

  it("the default tolerance is 10 %", () => {
    expect(value(aggregate(pairOn(100, 100, 111)).points, "price", "btcusd")).toBe(100);
    expect(value(aggregate(pairOn(100, 100, 109)).points, "price", "btcusd")).toBe(103);
  });
});
