import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, startTracker, type LocalServer, type Tracker } from "./harness";

const fixture = (path: string) => JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), "utf8"));

/** Each source's URL var points at its own prefix of one local server. */
const ROUTES: Record<string, string> = {
  "/kraken/0/public/Ticker": "kraken/ticker.json",
  "/kraken/0/public/AssetPairs": "kraken/asset-pairs.json",
  "/coinbase/products/stats": "coinbase/stats.json",
  "/coinbase/products": "coinbase/products.json",
  "/bitstamp/api/v2/ticker/": "bitstamp/ticker.json",
  "/okx/api/v5/market/tickers": "okx/tickers.json",
  "/kucoin/api/v1/market/allTickers": "kucoin/all-tickers.json",
  "/bitfinex/v2/tickers": "bitfinex/tickers.json",
};

describe("npm start with every exchange source pointed at a local server", () => {
  let upstream: LocalServer;
  let tracker: Tracker;

  beforeAll(async () => {
    upstream = await startServer((_, url) => {
      // Binance refuses this "region", as it does some cloud networks.
      if (url.pathname.startsWith("/binance/")) return { status: 451, body: fixture("binance/error.json") };
      const file = ROUTES[url.pathname];
      return file ? { body: fixture(file) } : undefined;
    });
    const names = ["kraken", "coinbase", "bitstamp", "okx", "kucoin", "bitfinex", "binance"];
    // No SOURCES var: the default is every exchange source.
    const vars = Object.fromEntries(names.map((name) => [`${name.toUpperCase()}_API_URL`, `${upstream.url}/${name}`]));
    tracker = await startTracker({ vars });
  });

  afterAll(async () => {
    await tracker?.stop();
    await upstream?.close();
  });

  it("ticks, aggregates across exchanges, and reports each source's health", async () => {
    await tracker.tick();
    const paths = upstream.requests.map((r) => r.path).sort();
    expect(paths).toEqual(
      [
        "/binance/api/v3/ticker/24hr?type=MINI",
        "/bitfinex/v2/tickers?symbols=ALL",
        "/bitstamp/api/v2/ticker/",
        "/coinbase/products",
        "/coinbase/products/stats",
        "/kraken/0/public/AssetPairs",
        "/kraken/0/public/Ticker",
        "/kucoin/api/v1/market/allTickers",
        "/okx/api/v5/market/tickers?instType=SPOT",
      ].sort(),
    );

    // kraken 50000, coinbase 50100, bitstamp 50200, bitfinex 50300.
    const btcusd = await tracker.get("/metric_types/price/metrics/btcusd");
    expect(btcusd.body.latest.value).toBe(50150);
    // okx 2500, kucoin 2510; Bitfinex's 25000 is an outlier.
    expect((await tracker.get("/metric_types/price/metrics/ethusdt")).body.latest.value).toBe(2505);
    // okx 50050, kucoin 50150, bitfinex 50120 (Binance is down).
    expect((await tracker.get("/metric_types/price/metrics/btcusdt")).body.latest.value).toBeCloseTo((50050 + 50150 + 50120) / 3, 6);

    const sources = await tracker.get("/sources");
    expect(sources.status).toBe(200);
    const byName = Object.fromEntries(sources.body.sources.map((s: { source: string }) => [s.source, s]));
    expect(Object.keys(byName).sort()).toEqual(["binance", "bitfinex", "bitstamp", "coinbase", "kraken", "kucoin", "okx"]);
    expect(byName.binance).toMatchObject({ status: "error", markets: 0, error: expect.stringContaining("unavailable from this location (HTTP 451") });
    expect(byName.kraken).toMatchObject({ status: "ok", markets: 5, dropped: { not_trading: 1, unknown_pair: 1 }, last_error: null });
    expect(byName.bitfinex.dropped).toMatchObject({ outlier: 1 });
    expect((await tracker.get("/")).body).toMatchObject({ status: "ok", sources: "6/7 ok" });
  });
});
