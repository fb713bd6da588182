import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config";
import { catalogStore } from "../../src/storage/catalogs";
import { SOURCES } from "../../src/sources/registry";
import type { MarketSummary, Source } from "../../src/sources/types";
import binanceError from "../fixtures/binance/error.json";
import bitfinexError from "../fixtures/bitfinex/error.json";
import bitstampError from "../fixtures/bitstamp/error.json";
import coinbaseError from "../fixtures/coinbase/error.json";
import bitflyerPairs2018 from "../fixtures/cryptowatch/pairs-bitflyer-2018.json";
import bitflyerSummaries2018 from "../fixtures/cryptowatch/summaries-bitflyer-2018.json";
import krakenError from "../fixtures/kraken/error.json";
import kucoinError from "../fixtures/kucoin/error.json";
import okxError from "../fixtures/okx/error.json";
import { FIXTURES, fakeExchanges, fixture, routeOf, sourceRoutes, TICKER_ROUTES, upstream } from "./exchanges";
import { fixtures, HOUR, jsonResponse, MINUTE, resetDatabase, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

function source(name: string): Source {
  return loadConfig({ ...env, SOURCES: name }).sources[0]!;
}

async function read(name: string, now = T0) {
  return source(name).read({ fetch: (url, init) => fetch(url, init), catalogs: catalogStore(env.DB), now });
}

/** A market as the fixture gives it, derived quote volumes approximately (products of decimals). */
function market(exchange: string, base: string, quote: string, last: number | undefined, volume: number, volumeQuote: number): MarketSummary {
  return { exchange, pair: base + quote, base, quote, last, volume, volumeQuote: expect.closeTo(volumeQuote, 9) as unknown as number };
}

/** The same, for an exchange that reports no quote volume: the source derives it and says so. */
function derived(exchange: string, base: string, quote: string, last: number | undefined, volume: number, volumeQuote: number): MarketSummary {
  return { ...market(exchange, base, quote, last, volume, volumeQuote), volumeQuoteDerived: true };
}

/** Every registered source: a source added to src/sources/registry.ts is covered here without an edit. */
const REGISTERED = Object.keys(SOURCES);
const tickerRoute = (name: string) => `${name}.test${upstream(name).ticker}`;

describe("every registered source", () => {
  it.each(REGISTERED)("%s: has a lower-case name and its own URL var, bound to https://<name>.test here", (name) => {
    const definition = SOURCES[name as keyof typeof SOURCES];
    expect(name).toMatch(/^[a-z][a-z0-9]*$/);
    expect(definition.name).toBe(name);
    expect(definition.urlVar).toBe(`${name.toUpperCase()}_API_URL`);
    expect(new URL(definition.defaultUrl).protocol).toBe("https:");
    expect((env as unknown as Record<string, unknown>)[definition.urlVar]).toBe(`https://${name}.test`);
  });

  it.each(REGISTERED)("%s: an unset or blank URL var means its default URL; a URL var that is not http(s) is a config error", async (name) => {
    const definition = SOURCES[name as keyof typeof SOURCES];
    const { [definition.urlVar]: _bound, ...unset } = env as unknown as Record<string, unknown>;
    for (const vars of [unset, { ...unset, [definition.urlVar]: "  " }]) {
      fake.requests.length = 0;
      const reading = loadConfig({ ...(vars as unknown as typeof env), SOURCES: name }).sources[0]!.read({ fetch: (url, init) => fetch(url, init), catalogs: catalogStore(env.DB), now: T0 });
      await reading.catch(() => undefined); // the fake knows only https://<name>.test
      expect(fake.requests.length).toBeGreaterThan(0);
      for (const request of fake.requests) expect(request.url.startsWith(definition.defaultUrl.replace(/\/$/, "") + "/")).toBe(true);
    }
    expect(() => loadConfig({ ...env, SOURCES: name, [definition.urlVar]: `ftp://${name}.test` })).toThrow(`${definition.urlVar} must be an http(s) URL`);
  });

  it.each(REGISTERED)("%s: has its fixtures: upstream.json (the routes its fake upstream serves, the ticker among them), each file it names, error.json, malformed.json", (name) => {
    const files = Object.keys(FIXTURES).filter((path) => path.startsWith(`${name}/`));
    expect(files, `test/fixtures/${name}/ holds no fixtures`).not.toEqual([]);
    expect(files).toContain(`${name}/upstream.json`);
    const { ticker, routes } = upstream(name);
    expect(Object.keys(routes)).toContain(ticker);
    for (const file of [...Object.values(routes), "error.json", "malformed.json"]) expect(files).toContain(`${name}/${file}`);
  });

  it.each(REGISTERED)("%s: reads its fixtures into well-formed markets, calling each route its upstream.json serves", async (name) => {
    Object.assign(fake.routes, sourceRoutes(name));
    const reading = await read(name);
    expect(reading.markets.length).toBeGreaterThan(0);
    for (const market of reading.markets) {
      expect(market.exchange).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
      expect(market.base).toMatch(/^[a-z0-9]+$/);
      expect(market.quote).toMatch(/^[a-z0-9]+$/);
      expect(market.pair).toMatch(/^[a-z0-9]+$/);
      for (const value of [market.last, market.volume, market.volumeQuote]) {
        if (value !== undefined) expect(Number.isFinite(value)).toBe(true);
      }
    }
    const called = new Set(fake.requests.flatMap((request) => [routeOf(request), routeOf(request) + new URL(request.url).search]));
    for (const path of Object.keys(upstream(name).routes)) expect(called, path).toContain(`${name}.test${path}`);
    expect(fake.requests.every((request) => new URL(request.url).host === `${name}.test`)).toBe(true);
  });
});

describe("each source reads its fixture", () => {
  it("kraken: c[0] last, v[1] volume, quote volume = v[1] x p[1]; wsname or legacy codes; X/Z codes and XBT/XDG aliased", async () => {
    const reading = await read("kraken");
    expect(reading.markets).toEqual([
      derived("kraken", "btc", "usd", 50000, 10, 10 * 49900),
      derived("kraken", "eth", "btc", 0.05, 100, 100 * 0.049),
      derived("kraken", "doge", "usd", 0.1, 1000, 1000 * 0.1),
      derived("kraken", "usdt", "usd", 1.0001, 5000, 5000 * 1),
      derived("kraken", "btc", "eur", 46000, 2, 2 * 46000), // no wsname: XXBT / ZEUR
    ]);
    // XREPZEUR is cancel_only; NEWCOINUSD is not in AssetPairs; XXBTZUSD.d is a dark pool.
    expect(reading.dropped).toEqual({ not_trading: 1, unknown_pair: 1, not_spot: 1 });
  });

  it("coinbase: stats_24hour last and volume, quote volume = volume x last, exchange coinbase-pro", async () => {
    const reading = await read("coinbase");
    expect(reading.markets).toEqual([
      derived("coinbase-pro", "btc", "usd", 50100, 20, 20 * 50100),
      derived("coinbase-pro", "eth", "btc", 0.051, 50, 50 * 0.051),
      derived("coinbase-pro", "btc", "eur", 46100, 1, 46100),
    ]);
    expect(reading.dropped).toEqual({ not_trading: 2 }); // OLD-USD is delisted, LUNA-USD cancel_only
  });

  it("bitstamp: quote volume = volume x vwap, x last when vwap is 0", async () => {
    const reading = await read("bitstamp");
    expect(reading.markets).toEqual([
      derived("bitstamp", "btc", "usd", 50200, 5, 5 * 50000),
      derived("bitstamp", "eth", "btc", 0.052, 10, 10 * 0.05),
      derived("bitstamp", "xrp", "usd", 0.5, 100, 100 * 0.5),
    ]);
    // BTC/USD-PERP and ETH/USD-PERP: market_type PERPETUAL.
    expect(reading.dropped).toEqual({ not_spot: 2 });
  });

  it("okx: vol24h base, volCcy24h quote, exchange okex", async () => {
    const reading = await read("okx");
    expect(reading.markets).toEqual([
      market("okex", "btc", "usdt", 50050, 30, 1501500),
      market("okex", "eth", "usdt", 2500, 100, 250000),
    ]);
    expect(reading.dropped).toEqual({ not_spot: 1 }); // BTC-USDT-SWAP
    expect(fakeRequests().map((r) => r.url)).toEqual(["https://okx.test/api/v5/market/tickers?instType=SPOT"]);
  });

  it("kucoin: vol base, volValue quote, the current symbolName (LOKI-BTC is OXEN-BTC), a null last is no price", async () => {
    const reading = await read("kucoin");
    expect(reading.markets).toEqual([
      market("kucoin", "btc", "usdt", 50150, 4, 200600),
      market("kucoin", "eth", "usdt", 2510, 10, 25100),
      market("kucoin", "oxen", "btc", 0.000005, 1000, 0.005),
      market("kucoin", "xyz", "usdt", undefined, 0, 0),
    ]);
  });

  it("bitfinex: trading rows only, UST and DSH aliased, colon form, quote volume = volume x last", async () => {
    const reading = await read("bitfinex");
    expect(reading.markets).toEqual([
      derived("bitfinex", "btc", "usd", 50300, 3, 3 * 50300),
      derived("bitfinex", "btc", "usdt", 50120, 2, 2 * 50120),
      derived("bitfinex", "eth", "usdt", 25000, 1, 25000),
      derived("bitfinex", "dash", "btc", 0.001, 100, 100 * 0.001),
      derived("bitfinex", "doge", "usd", 0.102, 500, 500 * 0.102),
    ]);
    // The funding row fUSD is no market at all.
    expect(reading.dropped).toEqual({ test_market: 1, not_spot: 1 });
  });

  it("binance: lastPrice, volume, quoteVolume; exchangeInfo for base/quote and status", async () => {
    const reading = await read("binance");
    expect(reading.markets).toEqual([
      market("binance", "btc", "usdt", 50000, 100, 5000000),
      market("binance", "eth", "btc", 0.0505, 200, 10.1),
    ]);
    // BNBBTC in BREAK; NEWUSDT unlisted; BTCUSDC not spot-tradable (isSpotTradingAllowed false).
    expect(reading.dropped).toEqual({ not_trading: 1, unknown_pair: 1, not_spot: 1 });
  });

  it("binance: exchangeInfo is asked without permission sets, the documented way to shrink it", async () => {
    await read("binance");
    expect(fake.calls("binance.test/api/v3/exchangeInfo").map((r) => new URL(r.url).search)).toEqual(["?showPermissionSets=false"]);
  });

  it("cryptowatch: a pair /pairs marks as a future (futuresType) is not spot", async () => {
    fake.routes["cryptowatch.test/markets/summaries"] = () => jsonResponse(fixtures.summaries);
    fake.routes["cryptowatch.test/pairs"] = (request) =>
      jsonResponse(new URL(request.url).searchParams.has("cursor") ? fixtures.pairs[1] : fixtures.pairs[0]);
    const reading = await read("cryptowatch");
    expect(reading.dropped).toEqual({ not_spot: 1 }); // bitmex:btcusd-perpetual-future-inverse
    expect(reading.markets.some((m) => m.exchange === "bitmex")).toBe(false);
    expect(reading.markets).toHaveLength(6);
  });

  it("cryptowatch: a pair's symbol names its market, so bitFlyer's btcjpy and btcfxjpy (both btc/jpy) are two markets", async () => {
    fake.routes["cryptowatch.test/markets/summaries"] = () => jsonResponse(bitflyerSummaries2018);
    fake.routes["cryptowatch.test/pairs"] = () => jsonResponse(bitflyerPairs2018);
    const reading = await read("cryptowatch");
    expect(reading.markets).toEqual([
      { exchange: "bitflyer", pair: "btcfxjpy", base: "btc", quote: "jpy", last: 1456000, volume: 262400.5, volumeQuote: 380218324500 },
      { exchange: "bitflyer", pair: "btcjpy", base: "btc", quote: "jpy", last: 1300000, volume: 24250, volumeQuote: 31486200000 },
      { exchange: "quoine", pair: "btcjpy", base: "btc", quote: "jpy", last: 1296500, volume: 9870.35, volumeQuote: 12801843950 },
      { exchange: "zaif", pair: "btcjpy", base: "btc", quote: "jpy", last: 1297000, volume: 18310.2, volumeQuote: 23726357160 },
    ]);
    expect(reading.dropped).toEqual({});
  });
});

let fake: ReturnType<typeof fakeExchanges>;
const fakeRequests = () => fake.requests;
beforeEach(() => {
  fake = fakeExchanges();
});

describe("each source's error and malformed payloads fail that source with a clear message", () => {
  const cases: [string, number, unknown, RegExp][] = [
    ["kraken", 200, krakenError, /kraken: Ticker: EAPI:Rate limit exceeded/],
    ["coinbase", 429, coinbaseError, /coinbase: rate limited \(429\): Public rate limit exceeded/],
    ["bitstamp", 400, bitstampError, /bitstamp: HTTP 400: Rate limit exceeded/],
    ["okx", 429, okxError, /okx: rate limited \(429\): Too Many Requests/],
    ["okx", 200, okxError, /okx: tickers: code 50011: Too Many Requests/],
    ["kucoin", 429, kucoinError, /kucoin: rate limited \(429\): Too many requests/],
    ["kucoin", 200, kucoinError, /kucoin: allTickers: code 429000/],
    ["bitfinex", 500, bitfinexError, /bitfinex: HTTP 500: 10020 symbol: invalid/],
    ["bitfinex", 200, bitfinexError, /bitfinex: tickers: 10020 symbol: invalid/],
    ["binance", 451, binanceError, /binance: unavailable from this location \(HTTP 451: Service unavailable from a restricted location/],
    ["binance", 403, { code: 0, msg: "Forbidden" }, /binance: unavailable from this location \(HTTP 403/],
  ];
  it.each(cases)("%s: HTTP %i with its error body", async (name, status, body, message) => {
    fake.routes[TICKER_ROUTES[name as keyof typeof TICKER_ROUTES]] = () => jsonResponse(body, status);
    await expect(read(name)).rejects.toThrow(message);
  });

  it.each(REGISTERED)("%s: JSON of the wrong shape (its malformed.json)", async (name) => {
    Object.assign(fake.routes, sourceRoutes(name), { [tickerRoute(name)]: () => jsonResponse(fixture(name, "malformed.json")) });
    await expect(read(name)).rejects.toThrow(new RegExp(`^${name}: .*expected`));
  });

  it.each(REGISTERED)("%s: a body that is not JSON", async (name) => {
    Object.assign(fake.routes, sourceRoutes(name), { [tickerRoute(name)]: () => new Response("<html>502 Bad Gateway</html>", { status: 200 }) });
    await expect(read(name)).rejects.toThrow(`${name}: response is not JSON`);
  });

  it.each(REGISTERED)("%s: its error.json with HTTP 503", async (name) => {
    Object.assign(fake.routes, sourceRoutes(name), { [tickerRoute(name)]: () => jsonResponse(fixture(name, "error.json"), 503) });
    await expect(read(name)).rejects.toThrow(new RegExp(`^${name}: (HTTP 503|unavailable)`));
  });

  it("kraken: an error in AssetPairs fails the source", async () => {
    fake.routes["kraken.test/0/public/AssetPairs"] = () => jsonResponse({ error: ["EGeneral:Internal error"] });
    await expect(read("kraken")).rejects.toThrow("kraken: AssetPairs: EGeneral:Internal error");
  });

  it("rows of the wrong shape inside a good payload are dropped and counted, the rest kept", async () => {
    fake.routes[TICKER_ROUTES.bitstamp] = () =>
      jsonResponse([{ pair: "BTC/USD", last: "1", volume: "2", vwap: "1" }, { pair: "BTCUSD", last: "1" }, "x", { pair: "A B/USD", last: "1" }]);
    const reading = await read("bitstamp");
    expect(reading.markets.map((m) => m.pair)).toEqual(["btcusd"]);
    expect(reading.dropped).toEqual({ malformed_market: 2, unsupported_symbol: 1 });
  });
});

describe("metadata (AssetPairs, products, exchangeInfo) is kept in D1", () => {
  const metadata = {
    kraken: "kraken.test/0/public/AssetPairs",
    coinbase: "coinbase.test/products",
    binance: "binance.test/api/v3/exchangeInfo",
  };

  it.each(Object.entries(metadata))("%s: fetched on the first tick, then not for an hour, then refreshed", async (name, route) => {
    await read(name, T0);
    await read(name, T0 + MINUTE);
    await read(name, T0 + HOUR - MINUTE);
    expect(fake.calls(route)).toHaveLength(1);
    await read(name, T0 + HOUR);
    expect(fake.calls(route)).toHaveLength(2);
    // Only the compact mapping is stored.
    const row = await env.DB.prepare("SELECT catalog FROM source_catalogs WHERE source = ?").bind(name).first<{ catalog: string }>();
    const catalog = JSON.parse(row!.catalog);
    expect(Object.keys(catalog).sort()).toEqual(["missing", "pairs"]);
    expect(Object.values(catalog.pairs).every((v) => v === null || v === "not_spot" || (Array.isArray(v) && v.length === 2))).toBe(true);
  });

  it("a ticker naming a new symbol refreshes the metadata at once, and a symbol still unknown does not refresh it again", async () => {
    await read("binance", T0);
    expect(fake.calls(metadata.binance)).toHaveLength(1); // NEWUSDT is unknown after this refresh
    await read("binance", T0 + MINUTE);
    expect(fake.calls(metadata.binance)).toHaveLength(1);

    // SOLUSDT appears in the tickers and in exchangeInfo.
    const { default: tickers } = await import("../fixtures/binance/ticker-24hr.json");
    const { default: info } = await import("../fixtures/binance/exchange-info.json");
    fake.routes[TICKER_ROUTES.binance] = () =>
      jsonResponse([...tickers, { ...tickers[0], symbol: "SOLUSDT", lastPrice: "150.00", volume: "10", quoteVolume: "1500" }]);
    fake.routes[metadata.binance] = () =>
      jsonResponse({ ...info, symbols: [...info.symbols, { ...info.symbols[0], symbol: "SOLUSDT", baseAsset: "SOL" }] });
    const reading = await read("binance", T0 + 2 * MINUTE);
    expect(fake.calls(metadata.binance)).toHaveLength(2);
    expect(reading.markets.map((m) => m.pair)).toEqual(["btcusdt", "ethbtc", "solusdt"]);
    expect(reading.dropped).toEqual({ not_trading: 1, unknown_pair: 1, not_spot: 1 });
  });
});
