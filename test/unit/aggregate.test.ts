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
