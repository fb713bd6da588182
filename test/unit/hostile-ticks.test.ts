/**
 * Ticks fed hostile values: absurd numbers, malformed decimals, duplicate
 * keys, pairs with no consensus. The tick stores everything else, every
 * stored value is finite, and what was dropped is counted in the log and in
 * /sources. Expected values are worked out by hand in the comments.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runScheduled } from "../../src/ingest/tick";
import kucoinTickers from "../fixtures/kucoin/all-tickers.json";
import { fakeExchanges, TICKER_ROUTES } from "./exchanges";
import { fixtures, getJson, jsonResponse, MINUTE, resetDatabase, setNow, storedValues as storedRows, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const tick = (sources: string, time = T0) => runScheduled({ ...env, SOURCES: sources }, time);

async function storedValues(ts = T0): Promise<Record<string, number>> {
  const rows = await storedRows(`f.ts = ${Number(ts)}`);
  return Object.fromEntries(rows.map((row) => [`${row.metric_type}/${row.symbol}`, row.value]));
}

async function droppedBySource(now: number): Promise<Record<string, Record<string, number>>> {
  setNow(now + 30_000);
  const { body } = await getJson("/sources");
  return Object.fromEntries(body.sources.map((s: { source: string; dropped: Record<string, number> }) => [s.source, s.dropped]));
}

const tickLog = (log: { mock: { calls: unknown[][] } }) =>
  log.mock.calls.map((call) => call[0] as { msg?: string } | undefined).filter((entry) => entry?.msg === "tick stored");

/** Bitstamp's all-tickers body as raw text: duplicate keys and literals JSON.stringify cannot write. */
const BITSTAMP_HOSTILE = `[
  {"pair": "BTC/USD", "market_type": "SPOT", "last": "1e309", "volume": "5", "vwap": "50000"},
  {"pair": "ABC/USD", "market_type": "SPOT", "last": "1e308", "volume": "1", "vwap": "1"},
  {"pair": "XRP/USD", "market_type": "SPOT", "last": " 5 ", "volume": "0x10", "vwap": "NaN"},
  {"pair": "ETH/BTC", "market_type": "SPOT", "last": "0.05", "last": "0.052", "volume": "-0", "vwap": "0.05"},
  {"pair": "DOGE/USD", "market_type": "SPOT", "last": true, "volume": [["5"]], "vwap": "Infinity"}
]`;

describe("one bad value never stops a tick", () => {
  it("absurd and malformed values are dropped and counted; the rest of the tick is stored, every value finite", async () => {
    const kucoin = structuredClone(kucoinTickers) as { data: { ticker: Record<string, unknown>[] } };
    kucoin.data.ticker.push({ ...kucoin.data.ticker[0]!, symbol: "ABC-USD", symbolName: "ABC-USD", last: "1e308", vol: "2", volValue: "1e309" });
    fakeExchanges({
      [TICKER_ROUTES.bitstamp]: () => new Response(BITSTAMP_HOSTILE, { headers: { "content-type": "application/json" } }),
      [TICKER_ROUTES.kucoin]: () => jsonResponse(kucoin),
    });
    const log = vi.spyOn(console, "log");
    for (const time of [T0, T0 + MINUTE]) {
      // The exchanges keep sending it: every tick is stored all the same.
      expect((await tick("bitstamp,kucoin", time)).status).toBe("stored");
    }

    expect(await storedValues(T0 + MINUTE)).toEqual({
      // Bitstamp BTC/USD (1e309 = Infinity), ABC/USD and KuCoin ABC-USD (1e308), XRP/USD (" 5 "),
      // DOGE/USD (true) give no price. ETH/BTC's duplicate key: JSON's last value, 0.052, wins.
      "price/ethbtc": 0.052,
      "price/btcusdt": 50150,
      "price/ethusdt": 2510,
      "price/oxenbtc": 0.000005,
      // btc: Bitstamp 5 (its price is dropped, not its volume) + ETH/BTC quote 0 x 0.05 + KuCoin 4 + OXEN-BTC quote 0.005
      "volume/btc": expect.closeTo(9.005, 12),
      // usd: Bitstamp BTC/USD 5 x vwap 50000 + ABC/USD 1 x 1; KuCoin ABC-USD's volValue 1e309 is dropped
      "volume/usd": 250001,
      "volume/abc": 3, // Bitstamp 1 + KuCoin 2
      "volume/eth": 10, // Bitstamp "-0" + KuCoin 10
      "volume/usdt": 225700, // KuCoin 200600 + 25100 + 0
      "volume/oxen": 1000,
      "volume/xyz": 0,
    });

    const [line] = tickLog(log);
    // Non-finite values: Bitstamp BTC/USD and ABC/USD last, KuCoin ABC-USD last and volValue.
    expect(line).toMatchObject({ non_finite: { values: 4, points: 0 }, skipped: { no_usable_value: 2 } });
    expect(await droppedBySource(T0 + MINUTE)).toEqual({
      bitstamp: { non_finite: 2, no_usable_value: 2 }, // XRP/USD and DOGE/USD have no usable value at all
      kucoin: { non_finite: 1 },
    });
  });

  it("a volume sum beyond 1e24 drops that metric only, counted as non_finite at each source that fed it", async () => {
    fakeExchanges({
      [TICKER_ROUTES.bitstamp]: () => jsonResponse([{ pair: "MEME/USD", market_type: "SPOT", last: "0.00000001", volume: "8e23", vwap: "0" }]),
      [TICKER_ROUTES.okx]: () =>
        jsonResponse({ code: "0", msg: "", data: [{ instType: "SPOT", instId: "MEME-USD", last: "0.00000001", vol24h: "8e23", volCcy24h: "8000000000000000" }] }),
    });
    const log = vi.spyOn(console, "log");
    expect((await tick("bitstamp,okx")).status).toBe("stored");
    // 8e23 + 8e23 = 1.6e24 > 1e24. usd: Bitstamp 8e23 x last 1e-8 (vwap 0) = 8e15, OKX 8e15.
    expect(await storedValues()).toEqual({ "price/memeusd": 1e-8, "volume/usd": 1.6e16 });
    expect(tickLog(log)[0]).toMatchObject({ non_finite: { values: 0, points: 1 } });
    expect(await droppedBySource(T0)).toEqual({ bitstamp: { non_finite: 1 }, okx: { non_finite: 1 } });
  });
});

describe("duplicates inside one payload", () => {
  it("a row listed twice counts once (duplicate), and of a key written twice JSON's last value wins", async () => {
    fakeExchanges({
      [TICKER_ROUTES.bitstamp]: () =>
        jsonResponse([
          { pair: "BTC/USD", market_type: "SPOT", last: "50000", volume: "1", vwap: "50000" },
          { pair: "BTC/USD", market_type: "SPOT", last: "90000", volume: "7", vwap: "90000" },
        ]),
      "cryptowatch.test/markets/summaries": () =>
        new Response(
          `{"result": {"kraken:btceur": {"price": {"last": 1}, "volume": 1, "volumeQuote": 1},
                       "kraken:btceur": {"price": {"last": 46000}, "volume": 2, "volumeQuote": 92000}}}`,
        ),
      "cryptowatch.test/pairs": (request) =>
        jsonResponse(new URL(request.url).searchParams.has("cursor") ? fixtures.pairs[1] : fixtures.pairs[0]),
    });
    expect((await tick("bitstamp,cryptowatch")).status).toBe("stored");
    expect(await storedValues()).toEqual({
      "price/btcusd": 50000, // the first row
      "price/btceur": 46000, // the last value of the duplicated key
      "volume/btc": 3, // 1 + 2
      "volume/usd": 50000,
      "volume/eur": 92000,
    });
    expect(await droppedBySource(T0)).toEqual({ bitstamp: { duplicate: 1 }, cryptowatch: {} });
  });
});

describe("no consensus: four markets in two far-apart groups", () => {
  it("the pair gets no price this minute, counted as no_consensus at each source; the tick is stored", async () => {
    // The prices: 4.7, 5.8316, 0.88287, 3.8132. Sorted, the median is (3.8132 + 4.7) / 2 = 4.2566,
    // the 10 % band [3.86963..., 4.68226] holds none of them.
    fakeExchanges({
      [TICKER_ROUTES.bitstamp]: () => jsonResponse([{ pair: "ABC/USDT", market_type: "SPOT", last: "4.7", volume: "1", vwap: "4.7" }]),
      [TICKER_ROUTES.okx]: () =>
        jsonResponse({ code: "0", msg: "", data: [{ instType: "SPOT", instId: "ABC-USDT", last: "5.8316", vol24h: "1", volCcy24h: "5.8316" }] }),
      [TICKER_ROUTES.kucoin]: () =>
        jsonResponse({ code: "200000", data: { time: T0, ticker: [{ symbol: "ABC-USDT", symbolName: "ABC-USDT", last: "0.88287", vol: "1", volValue: "0.88287" }] } }),
      [TICKER_ROUTES.bitfinex]: () => jsonResponse([["tABCUST", 3.81, 1, 3.82, 1, 0, 0, 3.8132, 1, 3.9, 3.7]]),
    });
    const log = vi.spyOn(console, "log");
    expect((await tick("bitstamp,okx,kucoin,bitfinex")).status).toBe("stored");
    const values = await storedValues();
    expect(values["price/abcusdt"]).toBeUndefined();
    expect(values["volume/abc"]).toBe(4);
    expect(values["volume/usdt"]).toBeCloseTo(4.7 + 5.8316 + 0.88287 + 3.8132, 12);
    expect(tickLog(log)[0]).toMatchObject({ prices_dropped: { outlier: 0, no_consensus: 1 } });
    const dropped = await droppedBySource(T0);
    for (const source of ["bitstamp", "okx", "kucoin", "bitfinex"]) expect(dropped[source]).toEqual({ no_consensus: 1 });
  });
});
