/**
 * Metadata (Kraken AssetPairs, Coinbase products, Binance exchangeInfo,
 * Cryptowatch /pairs) that fails to refresh: the stored catalogue stands in
 * for up to 24 h, symbols it cannot map are counted, the tickers are never
 * lost; and a pair missing for good does not refetch the metadata every tick.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../src/config";
import { catalogStore } from "../../src/storage/catalogs";
import { CATALOG_FALLBACK_MAX_AGE_MS } from "../../src/sources/catalog";
import { fakeExchanges, TICKER_ROUTES } from "./exchanges";
import { fixtures, HOUR, jsonResponse, MINUTE, resetDatabase, summariesBody, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const read = (name: string, now: number) =>
  loadConfig({ ...env, SOURCES: name }).sources[0]!.read({ fetch: (url, init) => fetch(url, init), catalogs: catalogStore(env.DB), now });

const cryptowatchRoutes = () => ({
  "cryptowatch.test/markets/summaries": () => jsonResponse(fixtures.summaries),
  "cryptowatch.test/pairs": (request: Request) =>
    jsonResponse(new URL(request.url).searchParams.has("cursor") ? fixtures.pairs[1] : fixtures.pairs[0]),
});

const METADATA = {
  kraken: "kraken.test/0/public/AssetPairs",
  coinbase: "coinbase.test/products",
  binance: "binance.test/api/v3/exchangeInfo",
  cryptowatch: "cryptowatch.test/pairs",
} as const;

describe("a failed metadata refresh falls back to the stored catalogue", () => {
  it.each(Object.entries(METADATA))("%s: the tickers are read with the stored copy, and the fallback is reported", async (name, route) => {
    const fake = fakeExchanges(cryptowatchRoutes());
    const fresh = await read(name, T0);
    expect(fresh.info?.catalogue_fallback).toBeUndefined();

    // An hour later the refresh is due and the metadata endpoint is down.
    fake.routes[route] = () => jsonResponse({ error: "Service Unavailable" }, 503);
    const requestsBefore = fake.calls(route).length;
    const later = await read(name, T0 + 2 * HOUR);
    expect(fake.calls(route).length).toBeGreaterThan(requestsBefore); // it did try
    expect(later.markets).toEqual(fresh.markets);
    expect(later.dropped).toEqual(fresh.dropped);
    expect(later.info?.catalogue_fallback).toEqual({
      error: expect.stringMatching(new RegExp(`^${name}: HTTP 503: Service Unavailable$`)),
      catalogue_age_minutes: 120,
    });
  });

  it("symbols the stored copy lacks are counted as unknown_pair, and not asked for again before the hour is up", async () => {
    const fake = fakeExchanges();
    await read("binance", T0);
    expect(fake.calls(METADATA.binance)).toHaveLength(1);

    const { default: tickers } = await import("../fixtures/binance/ticker-24hr.json");
    fake.routes[TICKER_ROUTES.binance] = () =>
      jsonResponse([...tickers, { ...tickers[0], symbol: "SOLUSDT", lastPrice: "150", volume: "1", quoteVolume: "150" }]);
    fake.routes[METADATA.binance] = () => jsonResponse({ code: -1003, msg: "Too much request weight used" }, 429);
    const reading = await read("binance", T0 + MINUTE);
    expect(fake.calls(METADATA.binance)).toHaveLength(2); // SOLUSDT is new: one refresh, which failed
    expect(reading.markets.map((m) => m.pair)).toEqual(["btcusdt", "ethbtc"]);
    expect(reading.dropped).toEqual({ not_trading: 1, unknown_pair: 2, not_spot: 1 }); // NEWUSDT and SOLUSDT
    expect(reading.info?.catalogue_fallback).toMatchObject({ catalogue_age_minutes: 1 });

    for (let minute = 2; minute < 60; minute++) await read("binance", T0 + minute * MINUTE);
    expect(fake.calls(METADATA.binance)).toHaveLength(2);
    // The hour is up: it tries again (and, still failing, falls back again).
    await read("binance", T0 + HOUR);
    expect(fake.calls(METADATA.binance)).toHaveLength(3);
  });

  it("a stored copy older than 24 hours is not used: the source fails with the refresh's error", async () => {
    const fake = fakeExchanges();
    await read("kraken", T0);
    fake.routes[METADATA.kraken] = () => jsonResponse({ error: ["EService:Unavailable"] });
    await expect(read("kraken", T0 + CATALOG_FALLBACK_MAX_AGE_MS)).resolves.toMatchObject({
      info: { catalogue_fallback: { catalogue_age_minutes: 24 * 60 } },
    });
    await expect(read("kraken", T0 + CATALOG_FALLBACK_MAX_AGE_MS + MINUTE)).rejects.toThrow("kraken: AssetPairs: EService:Unavailable");
  });

  it("with no stored copy at all, a failed refresh fails the source", async () => {
    fakeExchanges({ [METADATA.coinbase]: () => jsonResponse({ message: "Internal" }, 500) });
    await expect(read("coinbase", T0)).rejects.toThrow("coinbase: HTTP 500: Internal");
  });

  it("a stored catalogue in an older format is ignored and fetched again", async () => {
    const fake = fakeExchanges(cryptowatchRoutes());
    // The format Cryptowatch's catalogue had before: pair -> [base, quote], no "pairs"/"missing".
    await env.DB.prepare("INSERT INTO source_catalogs (source, fetched_at, catalog) VALUES ('cryptowatch', ?1, ?2)")
      .bind(T0, JSON.stringify({ btceur: ["btc", "eur"] }))
      .run();
    const reading = await read("cryptowatch", T0 + MINUTE);
    expect(fake.calls(METADATA.cryptowatch)).toHaveLength(2);
    expect(reading.markets.length).toBeGreaterThan(1);
  });
});

describe("Cryptowatch: a pair missing from /pairs for good", () => {
  it("is refetched once (every page), then not again before the hour is up", async () => {
    const fake = fakeExchanges({
      ...cryptowatchRoutes(),
      "cryptowatch.test/markets/summaries": () =>
        jsonResponse(summariesBody({ "kraken:btceur": [100, 1, 100], "kraken:ghostusd": [5, 5, 25] })),
    });
    const readings = [];
    for (let minute = 0; minute < 10; minute++) readings.push(await read("cryptowatch", T0 + minute * MINUTE));
    // Tick 1 fetches both pages (the cursor is followed); ticks 2-10 fetch nothing.
    expect(fake.calls(METADATA.cryptowatch).map((r) => new URL(r.url).search)).toEqual(["", "?cursor=page2"]);
    for (const reading of readings) {
      expect(reading.markets.map((m) => m.pair)).toEqual(["btceur"]);
      expect(reading.dropped).toEqual({ unknown_pair: 1 });
    }
    await read("cryptowatch", T0 + HOUR);
    expect(fake.calls(METADATA.cryptowatch)).toHaveLength(4); // the hourly refresh
  });
});
