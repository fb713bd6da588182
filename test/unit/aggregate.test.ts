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

describe("bounds: every value stored is finite and within ±1e24 (prices within [1e-24, 1e24])", () => {
  it("two prices of 1e308 (whose mean would overflow) give no price, count as non_finite, and leave the rest alone", () => {
    const { points, stats, rejected } = aggregate([
      market("a", "abc", "usd", 1e308, 1, 1),
      market("b", "abc", "usd", 1e308, 2, 2),
      market("a", "btc", "usd", 100, 1, 100),
    ]);
    expect(1e308 + 1e308).toBe(Infinity); // what the mean used to compute
    expect(value(points, "price", "abcusd")).toBeUndefined();
    expect(value(points, "price", "btcusd")).toBe(100);
    expect(value(points, "volume", "abc")).toBe(3); // the markets' volumes are fine
    expect(value(points, "volume", "usd")).toBe(103);
    expect(stats.nonFinite).toEqual({ values: 2, points: 0 });
    expect(stats.ignored.price).toBe(2);
    expect(rejected.map((r) => [r.market.exchange, r.market.pair, r.reason])).toEqual([
      ["a", "abcusd", "non_finite"],
      ["b", "abcusd", "non_finite"],
    ]);
    expect(points.every((p) => Number.isFinite(p.value))).toBe(true);
  });

  it("a finite but absurd value (1e200) is dropped as non_finite; the pair's sane market still prices it", () => {
    const { points, stats } = aggregate([
      market("a", "btc", "usd", 1e200, 1e200, 1),
      market("b", "btc", "usd", 50000, 2, 100000),
    ]);
    expect(value(points, "price", "btcusd")).toBe(50000);
    expect(value(points, "volume", "btc")).toBe(2);
    expect(value(points, "volume", "usd")).toBe(100001);
    expect(stats.nonFinite).toEqual({ values: 2, points: 0 });
  });

  it("values on the bounds are kept, just beyond them dropped", () => {
    const { points, stats } = aggregate([
      market("a", "big", "usd", 1e24, 1e24, 0),
      market("a", "tiny", "usd", 1e-24, 0, 0),
      market("a", "huge", "usd", 1.0000001e24, 1.0000001e24, 0),
      market("a", "dust", "usd", 0.99e-24, 0, 0),
    ]);
    expect(value(points, "price", "bigusd")).toBe(1e24);
    expect(value(points, "volume", "big")).toBe(1e24);
    expect(value(points, "price", "tinyusd")).toBe(1e-24);
    expect(value(points, "price", "hugeusd")).toBeUndefined();
    expect(value(points, "volume", "huge")).toBeUndefined();
    expect(value(points, "price", "dustusd")).toBeUndefined();
    expect(stats.nonFinite.values).toBe(3);
  });

  it("a sum that leaves the bounds drops that metric only, counted as non_finite for each market in it", () => {
    // 8e23 + 8e23 = 1.6e24 > 1e24: no volume for "meme"; "usd" and the price are fine.
    const { points, stats, rejected } = aggregate([
      market("a", "meme", "usd", 1e-8, 8e23, 8e15),
      market("b", "meme", "usd", 1e-8, 8e23, 8e15),
    ]);
    expect(value(points, "volume", "meme")).toBeUndefined();
    expect(value(points, "volume", "usd")).toBe(1.6e16);
    expect(value(points, "price", "memeusd")).toBe(1e-8);
    expect(stats.nonFinite).toEqual({ values: 0, points: 1 });
    expect(rejected.map((r) => r.reason)).toEqual(["non_finite", "non_finite"]);
  });

  it("a sum that overflows to Infinity is dropped the same way", () => {
    const markets = Array.from({ length: 3 }, (_, i) => market(`x${i}`, "meme", "usd", 1, 9e23, 1));
    const { points, stats } = aggregate(markets);
    expect(9e23 * 3).toBeGreaterThan(1e24);
    expect(value(points, "volume", "meme")).toBeUndefined();
    expect(stats.nonFinite.points).toBe(1);
  });

  it("meme-coin volumes in base units (1e14 per market, 1e16 summed) are far inside the bounds", () => {
    const markets = Array.from({ length: 100 }, (_, i) => market(`x${i}`, "shib", "usdt", 0.00001, 1e14, 1e9));
    expect(value(aggregate(markets).points, "volume", "shib")).toBeCloseTo(1e16, 0);
  });

  it("-0 is stored as 0", () => {
    const { points } = aggregate([market("a", "btc", "usd", 1, -0, -0)]);
    expect(Object.is(value(points, "volume", "btc"), 0)).toBe(true);
    expect(Object.is(value(points, "volume", "usd"), 0)).toBe(true);
  });
});

describe("no consensus: the outlier rule keeps none of a pair's markets", () => {
  // The four markets (real payloads of four exchanges side by side):
  // sorted 0.88287, 3.8132, 4.7, 5.8316; median (3.8132 + 4.7) / 2 = 4.2566;
  // band [4.2566 / 1.1, 4.2566 x 1.1] = [3.86963..., 4.68226]: 3.8132 is below it,
  // 4.7 above it, 0.88287 and 5.8316 far outside. Nothing is kept.
  const prices = [4.7, 5.8316, 0.88287, 3.8132];
  const four = prices.map((last, i) => market(`exchange${i}`, "abc", "usdt", last, 10, 10 * last));

  it("the pair gets no price this minute, each market counted as no_consensus; volumes still count", () => {
    expect(4.2566 / 1.1).toBeGreaterThan(3.8132);
    expect(4.2566 * 1.1).toBeLessThan(4.7);
    const { points, stats, rejected } = aggregate([...four, market("exchange0", "btc", "usdt", 50000, 1, 50000)]);
    expect(value(points, "price", "abcusdt")).toBeUndefined();
    expect(value(points, "price", "btcusdt")).toBe(50000);
    expect(value(points, "volume", "abc")).toBe(40);
    expect(value(points, "volume", "usdt")).toBeCloseTo(10 * (4.7 + 5.8316 + 0.88287 + 3.8132) + 50000, 9);
    expect(stats.noConsensus).toBe(1);
    expect(stats.outliers).toBe(0);
    expect(rejected.map((r) => [r.market.last, r.reason])).toEqual(prices.map((p) => [p, "no_consensus"]));
    expect(points.every((p) => Number.isFinite(p.value))).toBe(true);
  });

  it("a wide enough tolerance keeps them all: the plain mean", () => {
    const { points, stats } = aggregate(four, { outlierTolerance: 10 });
    expect(value(points, "price", "abcusdt")).toBeCloseTo((4.7 + 5.8316 + 0.88287 + 3.8132) / 4, 12);
    expect(stats.noConsensus).toBe(0);
  });

  it("an odd number of markets always has consensus: the median market is within its own band", () => {
    const { points, stats } = aggregate(four.slice(0, 3));
    // 0.88287, 4.7, 5.8316: median 4.7, band [4.2727..., 5.17]: only 4.7 kept.
    expect(value(points, "price", "abcusdt")).toBe(4.7);
    expect(stats).toMatchObject({ noConsensus: 0, outliers: 2 });
  });
});

describe("market identity keeps base and quote apart", () => {
  it("ab+cd and abc+d on one exchange are two markets, not a duplicate; their shared pair symbol gets no price", () => {
    const { points, stats, rejected } = aggregate([
      market("kraken", "ab", "cd", 2, 1, 2),
      market("kraken", "abc", "d", 3, 5, 15),
    ]);
    expect(stats.duplicates).toBe(0);
    expect(value(points, "price", "abcd")).toBeUndefined(); // two different assets under one symbol
    expect(stats.ambiguousPairs).toBe(1);
    expect(rejected.map((r) => r.reason)).toEqual(["ambiguous_pair", "ambiguous_pair"]);
    // Each asset's volume is its own.
    expect(value(points, "volume", "ab")).toBe(1);
    expect(value(points, "volume", "abc")).toBe(5);
    expect(value(points, "volume", "cd")).toBe(2);
    expect(value(points, "volume", "d")).toBe(15);
  });

  it("the same exchange, base and quote twice is a duplicate", () => {
    const { stats } = aggregate([market("kraken", "ab", "cd", 2, 1, 2), market("kraken", "ab", "cd", 3, 1, 3)]);
    expect(stats.duplicates).toBe(1);
  });

  it("two pairs of one exchange with one base and quote (bitFlyer's btcfxjpy and btcjpy) are two markets and two price metrics", () => {
    const fx: MarketSummary = { ...market("bitflyer", "btc", "jpy", 1456000, 262400.5, 380218324500), pair: "btcfxjpy" };
    const { points, stats, rejected } = aggregate([
      fx,
      market("bitflyer", "btc", "jpy", 1300000, 24250, 31486200000),
      market("zaif", "btc", "jpy", 1297000, 18310.2, 23726357160),
      market("quoine", "btc", "jpy", 1296500, 9870.35, 12801843950),
    ]);
    expect(stats).toMatchObject({ markets: 4, duplicates: 0, outliers: 0, ambiguousPairs: 0 });
    expect(rejected).toEqual([]);
    expect(value(points, "price", "btcfxjpy")).toBe(1456000);
    expect(value(points, "price", "btcjpy")).toBeCloseTo(3893500 / 3, 6); // 1300000 + 1297000 + 1296500
    expect(value(points, "volume", "btc")).toBeCloseTo(314831.05, 6); // 262400.5 + 24250 + 18310.2 + 9870.35
    expect(value(points, "volume", "jpy")).toBe(448232725610); // 380218324500 + 31486200000 + 23726357160 + 12801843950
  });

  it("the same pair of the same exchange twice is a duplicate, whichever pair it is", () => {
    const fx = (last: number): MarketSummary => ({ ...market("bitflyer", "btc", "jpy", last, 1, last), pair: "btcfxjpy" });
    const { points, stats } = aggregate([fx(1456000), market("bitflyer", "btc", "jpy", 1300000, 2, 2600000), fx(1460000)]);
    expect(stats.duplicates).toBe(1);
    expect(value(points, "price", "btcfxjpy")).toBe(1456000); // the first copy
    expect(value(points, "volume", "btc")).toBe(3); // 1 + 2: the second FX copy is not counted
  });
});

describe("what became of each market (the breakdown behind GET .../markets)", () => {
  const decisions = (markets: MarketSummary[]) =>
    aggregate(markets).outcomes.map(({ market, price, base, quote }) => [market.exchange, price, base, quote]);

  it("an outlier keeps its volumes; its deviation is last / median - 1", () => {
    const { outcomes, medians } = aggregate([
      market("a", "btc", "eur", 100, 1, 100),
      market("b", "btc", "eur", 102, 2, 204),
      market("c", "btc", "eur", 150, 3, 450),
    ]);
    expect(medians.get("btceur")).toBe(102);
    expect(outcomes.map((o) => [o.price, o.base, o.quote])).toEqual([
      ["included", "included", "included"],
      ["included", "included", "included"],
      ["outlier", "included", "included"],
    ]);
    expect(outcomes.map((o) => o.deviation)).toEqual([100 / 102 - 1, 0, 150 / 102 - 1]);
  });

  it("no median with fewer than 3 prices; unusable and non-finite values say so per side; a duplicate on every side", () => {
    const result = aggregate([
      market("a", "btc", "eur", 100, undefined, 1e200),
      market("b", "btc", "eur", -1, 2, 3),
      market("a", "btc", "eur", 101, 1, 1),
    ]);
    expect(result.medians.size).toBe(0);
    expect(result.outcomes.map((o) => o.deviation)).toEqual([null, null, null]);
    expect(decisions(result.outcomes.map((o) => o.market))).toEqual([
      ["a", "included", "no_usable_value", "non_finite"],
      ["b", "no_usable_value", "included", "included"],
      ["a", "duplicate", "duplicate", "duplicate"],
    ]);
  });

  it("no consensus and ambiguous pairs mark every market of the pair", () => {
    expect(
      decisions([
        market("a", "x", "y", 4.7, 1, 1),
        market("b", "x", "y", 5.8316, 1, 1),
        market("c", "x", "y", 0.88287, 1, 1),
        market("d", "x", "y", 3.8132, 1, 1),
        market("a", "ab", "cd", 1, 1, 1),
        market("a", "abc", "d", 2, 1, 1),
      ]).map(([, price]) => price),
    ).toEqual(["no_consensus", "no_consensus", "no_consensus", "no_consensus", "ambiguous_pair", "ambiguous_pair"]);
  });

  it("a volume summed past the bounds marks that asset's side of each market non_finite, the other side stays", () => {
    const { outcomes } = aggregate([market("a", "meme", "usd", 1, 6e23, 1), market("b", "meme", "usd", 1, 6e23, 1)]);
    expect(outcomes.map((o) => [o.base, o.quote])).toEqual([
      ["non_finite", "included"],
      ["non_finite", "included"],
    ]);
  });
});
