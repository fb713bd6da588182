import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, LIVE_SOURCES, SOURCE_UPSTREAMS as UPSTREAMS, startServer, type LocalServer, startTracker, type Tracker } from "./harness";

interface SourceStatus {
  source: string;
  status: string;
  markets: number;
  dropped: Record<string, number>;
}

describe("npm start with every source pointed at its prefix of one local server", () => {
  let upstream: LocalServer;
  let tracker: Tracker;

  beforeAll(async () => {
    upstream = await startServer((_, url) => {
      const [, name = "", ...rest] = url.pathname.split("/");
      // Binance refuses this "region", as it does some cloud networks.
      if (name === "binance") return { status: 451, body: fixture("binance/error.json") };
      const routes = UPSTREAMS[name]?.routes ?? {};
      const path = `/${rest.join("/")}`;
      const file = routes[path + url.search] ?? routes[path];
      return file ? { body: fixture(`${name}/${file}`) } : undefined;
    });
    // No SOURCES var: the default is every source the registry does not mark retired.
    const vars = Object.fromEntries(Object.keys(UPSTREAMS).map((name) => [`${name.toUpperCase()}_API_URL`, `${upstream.url}/${name}`]));
    tracker = await startTracker({ vars });
  });

  afterAll(async () => {
    await tracker?.stop();
    await upstream?.close();
  });

  it("ticks, aggregates across exchanges, and reports each source's health", async () => {
    await tracker.tick();

    const sources = (await tracker.get("/sources")).body.sources as SourceStatus[];
    const read = sources.map((s) => s.source).sort();
    // Every live exchange; Cryptowatch (retired) only when SOURCES names it.
    expect(read).toEqual(LIVE_SOURCES);
    const requested = new Set(upstream.requests.map((r) => r.path));
    const requestedPaths = new Set(upstream.requests.map((r) => r.path.split("?")[0]));
    for (const name of read) {
      const routes = name === "binance" ? [UPSTREAMS[name]!.ticker] : Object.keys(UPSTREAMS[name]!.routes);
      for (const route of routes) expect(requested.has(`/${name}${route}`) || requestedPaths.has(`/${name}${route}`), `${name}${route}`).toBe(true);
    }
    for (const source of sources) {
      if (source.source === "binance") continue;
      expect(source, source.source).toMatchObject({ status: "ok", markets: expect.any(Number) });
      expect(source.markets, source.source).toBeGreaterThan(0);
    }
    const byName = Object.fromEntries(sources.map((s) => [s.source, s]));
    expect(byName.binance).toMatchObject({ status: "error", markets: 0, error: expect.stringContaining("unavailable from this location (HTTP 451") });
    expect(byName.kraken).toMatchObject({ status: "ok", markets: 5, dropped: { not_trading: 1, unknown_pair: 1 }, last_error: null });
    expect(byName.bitfinex?.dropped).toMatchObject({ outlier: 1 });
    expect((await tracker.get("/")).body).toMatchObject({ status: "ok", sources: `${read.length - 1}/${read.length} ok` });

    // Each exchange's price as its fixture gives it, and the mean is that of the included ones.
    const markets = async (pair: string) => {
      const body = (await tracker.get(`/metric_types/price/metrics/${pair}/markets`)).body;
      expect((await tracker.get(`/metric_types/price/metrics/${pair}`)).body.latest.value).toBe(body.value);
      const included = body.markets.filter((m: { included: boolean }) => m.included).map((m: { last: number }) => m.last);
      expect(body.value).toBeCloseTo(included.reduce((a: number, b: number) => a + b, 0) / included.length, 6);
      return Object.fromEntries(body.markets.map((m: { source: string }) => [m.source, m]));
    };
    expect(await markets("btcusd")).toMatchObject({
      kraken: { last: 50000, included: true },
      coinbase: { last: 50100, included: true },
      bitstamp: { last: 50200, included: true },
      bitfinex: { last: 50300, included: true },
    });
    // Bitfinex's 25000 is an outlier.
    expect(await markets("ethusdt")).toMatchObject({
      okx: { last: 2500, included: true },
      kucoin: { last: 2510, included: true },
      bitfinex: { last: 25000, included: false, reason: "outlier" },
    });
    // Binance is down: no binance market.
    const btcusdt = await markets("btcusdt");
    expect(btcusdt).toMatchObject({ okx: { last: 50050, included: true }, kucoin: { last: 50150, included: true }, bitfinex: { last: 50120, included: true } });
    expect(btcusdt.binance).toBeUndefined();
  });
});
