/**
 * A Cryptowatch pair's symbol is its identity and names its price metric. In a
 * recorded 2018 response bitFlyer lists `btcjpy` (spot) and `btcfxjpy` (its
 * FX_BTC_JPY product, 12 % above spot), both base `btc` and quote `jpy`: two
 * markets, two price metrics, both volumes in `btc` and `jpy`. De-duplication
 * merges only the same pair of the same exchange reported twice.
 * Expected values are worked out by hand from test/fixtures/cryptowatch/*-bitflyer-2018.json.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runScheduled } from "../../src/ingest/tick";
import pairs2018 from "../fixtures/cryptowatch/pairs-bitflyer-2018.json";
import summaries2018 from "../fixtures/cryptowatch/summaries-bitflyer-2018.json";
import { fakeExchanges, type FakeExchanges } from "./exchanges";
import { fixtures, getJson, jsonResponse, resetDatabase, setNow, storedValues, summariesBody, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

let fake: FakeExchanges;
beforeEach(() => {
  fake = fakeExchanges({
    "cryptowatch.test/markets/summaries": () => jsonResponse(summaries2018),
    "cryptowatch.test/pairs": () => jsonResponse(pairs2018),
  });
});

async function tickValues(sources = "cryptowatch"): Promise<Record<string, number>> {
  expect((await runScheduled({ ...env, SOURCES: sources }, T0)).status).toBe("stored");
  const rows = await storedValues(`f.ts = ${T0}`);
  return Object.fromEntries(rows.map((row) => [`${row.metric_type}/${row.symbol}`, row.value]));
}

interface Market {
  exchange: string;
  pair?: string;
  side?: string;
  last: number | null;
  included: boolean;
  reason: string | null;
}

describe("bitFlyer's btcjpy and btcfxjpy (Cryptowatch, 2018) are two markets and two metrics", () => {
  it("each pair gets its own price; both volumes count towards btc and jpy", async () => {
    expect(await tickValues()).toEqual({
      // bitFlyer 1300000, Quoine 1296500, Zaif 1297000: median 1297000, all within 10 %.
      "price/btcjpy": expect.closeTo((1300000 + 1296500 + 1297000) / 3, 6),
      // FX_BTC_JPY alone: 12 % above spot, yet no outlier of btcjpy, whose metric it is not.
      "price/btcfxjpy": 1456000,
      // FX 262400.5 + spot 24250 + Quoine 9870.35 + Zaif 18310.2
      "volume/btc": expect.closeTo(314831.05, 6),
      // 380218324500 + 31486200000 + 12801843950 + 23726357160
      "volume/jpy": 448232725610,
    });
  });

  it("no market is a duplicate or an outlier, and /markets lists each under its own pair", async () => {
    await tickValues();
    setNow(T0 + 30_000);
    const sources = (await getJson("/sources")).body.sources;
    expect(sources.find((s: { source: string }) => s.source === "cryptowatch")).toMatchObject({ markets: 4, dropped: {} });

    const fx = (await getJson("/metric_types/price/metrics/btcfxjpy/markets")).body;
    expect(fx.markets.map((m: Market) => [m.exchange, m.last, m.included, m.reason])).toEqual([["bitflyer", 1456000, true, null]]);
    const spot = (await getJson("/metric_types/price/metrics/btcjpy/markets")).body;
    expect(spot.markets.map((m: Market) => [m.exchange, m.last, m.included, m.reason])).toEqual([
      ["bitflyer", 1300000, true, null],
      ["quoine", 1296500, true, null],
      ["zaif", 1297000, true, null],
    ]);
    const btc = (await getJson("/metric_types/volume/metrics/btc/markets")).body;
    expect(btc.markets.map((m: Market) => [m.exchange, m.pair, m.side, m.included]).sort()).toEqual([
      ["bitflyer", "btcfxjpy", "base", true],
      ["bitflyer", "btcjpy", "base", true],
      ["quoine", "btcjpy", "base", true],
      ["zaif", "btcjpy", "base", true],
    ]);
  });
});

describe("the same market from two sources is still counted once, for every exchange source", () => {
  // Cryptowatch reports one market of each exchange's fixture, at its own price, under its pair symbol.
  const cases: [source: string, key: string, exchangeOwnLast: number][] = [
    ["kraken", "kraken:btcusd", 50000],
    ["coinbase", "coinbase-pro:btcusd", 50100],
    ["bitstamp", "bitstamp:btcusd", 50200],
    ["bitfinex", "bitfinex:btcusd", 50300],
    ["okx", "okex:btcusdt", 50050],
    ["kucoin", "kucoin:btcusdt", 50150],
    ["binance", "binance:btcusdt", 50000],
  ];
  it.each(cases)("%s: Cryptowatch's %s comes first, the exchange's own copy (last %d) is the duplicate", async (source, key) => {
    const pair = key.slice(key.indexOf(":") + 1);
    fake.routes["cryptowatch.test/markets/summaries"] = () => jsonResponse(summariesBody({ [key]: [12345, 1, 12345] }));
    fake.routes["cryptowatch.test/pairs"] = (request) =>
      jsonResponse(new URL(request.url).searchParams.has("cursor") ? fixtures.pairs[1] : fixtures.pairs[0]);
    const values = await tickValues(`cryptowatch,${source}`);
    expect(values[`price/${pair}`]).toBe(12345); // Cryptowatch's copy alone: the exchange's own price is not in the mean
    setNow(T0 + 30_000);
    const reading = (await getJson("/sources")).body.sources.find((s: { source: string }) => s.source === source);
    expect(reading.dropped).toMatchObject({ duplicate: 1 });
  });
});
