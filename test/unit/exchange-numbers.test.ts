/**
 * Numbers as exchanges write them, through the real path: each source's
 * payload, its read, aggregation and the stored tick. A decimal string in
 * exponent notation ("8.12E-6", "1.5e+2", as Java's Double.toString writes every
 * value below 1e-3) is a number; a string outside the JSON number grammar is not.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config";
import { catalogStore } from "../../src/storage/catalogs";
import { runScheduled } from "../../src/ingest/tick";
import binanceTicker from "../fixtures/binance/ticker-24hr.json";
import bitstampTicker from "../fixtures/bitstamp/ticker.json";
import coinbaseStats from "../fixtures/coinbase/stats.json";
import krakenTicker from "../fixtures/kraken/ticker.json";
import kucoinTickers from "../fixtures/kucoin/all-tickers.json";
import okxTickers from "../fixtures/okx/tickers.json";
import { fakeExchanges, TICKER_ROUTES, type FakeExchanges } from "./exchanges";
import { fixtures, jsonResponse, resetDatabase, storedValues, T0 } from "./helpers";
import { javaDoubleToString, rewriteNumberStrings, scientific } from "./number-formats";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

let fake: FakeExchanges;
beforeEach(() => {
  fake = fakeExchanges();
});

const read = (name: string) =>
  loadConfig({ ...env, SOURCES: name }).sources[0]!.read({ fetch: (url, init) => fetch(url, init), catalogs: catalogStore(env.DB), now: T0 });

/** Each source that sends its numbers as strings: its ticker payload and the fields it reads. */
const stringSources: [keyof typeof TICKER_ROUTES, unknown, string[]][] = [
  ["kraken", krakenTicker, ["c", "v", "p"]],
  ["coinbase", coinbaseStats, ["last", "volume"]],
  ["bitstamp", bitstampTicker, ["last", "volume", "vwap"]],
  ["okx", okxTickers, ["last", "vol24h", "volCcy24h"]],
  ["kucoin", kucoinTickers, ["last", "vol", "volValue"]],
  ["binance", binanceTicker, ["lastPrice", "volume", "quoteVolume"]],
];

const writers: [string, (x: number) => string][] = [
  ["Java's Double.toString", javaDoubleToString],
  ["scientific notation with E", scientific],
  ["JavaScript's toExponential", (x) => x.toExponential()],
];

describe("every source that sends strings reads exponent notation", () => {
  const cases = stringSources.flatMap(([name, payload, fields]) => writers.map(([how, write]) => [name, how, payload, fields, write] as const));

  it.each(cases)("%s: its fixture's numbers rewritten as %s give the same markets", async (name, how, payload, fields, write) => {
    const plain = await read(name);
    const rewritten = rewriteNumberStrings(payload, fields, write);
    expect(rewritten).not.toEqual(payload);
    // Java writes plain decimals from 1e-3 to 1e7, where these fixtures mostly are; the other two always write an exponent.
    if (how !== "Java's Double.toString") expect(JSON.stringify(rewritten)).toMatch(/"-?\d(\.\d+)?[eE][-+]?\d+"/);
    fake.routes[TICKER_ROUTES[name]] = () => jsonResponse(rewritten);
    const reading = await read(name);
    expect(reading.markets).toEqual(plain.markets);
    expect(reading.dropped).toEqual(plain.dropped);
    expect(reading.markets.length).toBeGreaterThan(0);
  });

  it("cryptowatch: JSON number literals in exponent notation are numbers too", async () => {
    const body = `{"result": {"binance-us:1inchusd": {"price": {"last": 8.12E-6, "high": 8.2e-6, "low": 8.0E-6,
      "change": {"percentage": 1.2E-2, "absolute": 1E-7}}, "volume": 1.5E+9, "volumeQuote": 1.218e4}},
      "allowance": {"cost": 1.5E-2, "remaining": 9.9}}`;
    fake.routes["cryptowatch.test/markets/summaries"] = () => new Response(body, { headers: { "content-type": "application/json" } });
    fake.routes["cryptowatch.test/pairs"] = (request) =>
      jsonResponse(new URL(request.url).searchParams.has("cursor") ? fixtures.pairs[1] : fixtures.pairs[0]);
    const reading = await read("cryptowatch");
    expect(reading.markets).toEqual([
      { exchange: "binance-us", pair: "1inchusd", base: "1inch", quote: "usd", last: 0.00000812, volume: 1500000000, volumeQuote: 12180 },
    ]);
  });
});

describe("a small-cap market priced in exponent notation is tracked", () => {
  it("SHIB-USDT on KuCoin and OKX: its price and volumes are stored; strings outside the JSON grammar count nothing", async () => {
    const kucoin = structuredClone(kucoinTickers) as { data: { ticker: Record<string, unknown>[] } };
    const row = kucoin.data.ticker[0]!;
    kucoin.data.ticker.push(
      { ...row, symbol: "SHIB-USDT", symbolName: "SHIB-USDT", last: "8.12E-6", vol: "1.5e+9", volValue: "1.218E4" },
      // Number("+1.2E-6"), Number(".5E9") and Number("1.2e-6 ") all read, but none is a JSON number.
      { ...row, symbol: "PEPE-USDT", symbolName: "PEPE-USDT", last: "+1.2E-6", vol: ".5E9", volValue: "1.2e-6 " },
    );
    const okx = structuredClone(okxTickers) as { data: Record<string, unknown>[] };
    okx.data.push({ ...okx.data[0]!, instId: "SHIB-USDT", last: "8.14E-6", vol24h: "2.0E9", volCcy24h: "16280.0" });
    fake.routes[TICKER_ROUTES.kucoin] = () => jsonResponse(kucoin);
    fake.routes[TICKER_ROUTES.okx] = () => jsonResponse(okx);

    expect((await runScheduled({ ...env, SOURCES: "okx,kucoin" }, T0)).status).toBe("stored");
    const stored = Object.fromEntries((await storedValues(`f.ts = ${T0}`)).map((r) => [`${r.metric_type}/${r.symbol}`, r.value]));
    // (8.14e-6 + 8.12e-6) / 2
    expect(stored["price/shibusdt"]).toBeCloseTo(8.13e-6, 20);
    // OKX 2.0e9 + KuCoin 1.5e9
    expect(stored["volume/shib"]).toBe(3.5e9);
    // OKX 1501500 + 250000 + 16280, KuCoin 200600 + 25100 + 0 (XYZ) + 12180; PEPE's "1.2e-6 " is no number.
    expect(stored["volume/usdt"]).toBe(2005660);
    expect(stored["price/pepeusdt"]).toBeUndefined();
    expect(stored["volume/pepe"]).toBeUndefined();
  });
});
