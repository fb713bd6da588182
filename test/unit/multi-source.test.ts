import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runScheduled } from "../../src/ingest/tick";
import { DEFAULT_SOURCES } from "../../src/sources/registry";
import { SEVEN_EXCHANGES, fakeExchanges, TICKER_ROUTES } from "./exchanges";
import { count, storedValues as valuesInFrames, fixtures, getJson, jsonResponse, MINUTE, resetDatabase, setNow, summariesBody, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const tick = (vars: Partial<Cloudflare.Env>, time = T0) => runScheduled({ ...env, ...vars }, time);

async function storedValues(ts = T0): Promise<Record<string, number>> {
  const results = await valuesInFrames(`f.ts = ${ts}`);
  return Object.fromEntries(results.map((row) => [`${row.metric_type}/${row.symbol}`, row.value]));
}

describe("a tick reading every exchange source", () => {
  it("aggregates all seven fixtures into the prices and volumes worked out by hand", async () => {
    fakeExchanges();
    const log = vi.spyOn(console, "log");
    const outcome = await tick({ SOURCES: SEVEN_EXCHANGES });
    expect(outcome.status).toBe("stored");

    // Prices: mean over markets (exchange names: kraken, coinbase-pro, bitstamp, okex, kucoin, bitfinex, binance).
    // Volumes: base volume where the asset is the base + quote volume where it is the quote
    // (derived: kraken v x vwap, bitstamp volume x vwap (x last for XRP, vwap 0), coinbase and bitfinex volume x last).
    expect(await storedValues()).toEqual({
      // kraken 50000, coinbase 50100, bitstamp 50200, bitfinex 50300 (median 50150: all within 10 %)
      "price/btcusd": 50150,
      // kraken 0.05, coinbase 0.051, bitstamp 0.052, binance 0.0505
      "price/ethbtc": expect.closeTo(0.2035 / 4, 15),
      // okx 50050, kucoin 50150, bitfinex 50120, binance 50000
      "price/btcusdt": 50080,
      // okx 2500, kucoin 2510, bitfinex 25000: median 2510, 25000 > 2761 is an outlier
      "price/ethusdt": 2505,
      "price/btceur": 46050, // kraken 46000, coinbase 46100
      "price/dogeusd": expect.closeTo(0.101, 15), // kraken 0.1, bitfinex 0.102
      "price/usdtusd": 1.0001,
      "price/xrpusd": 0.5,
      "price/dashbtc": 0.001,
      "price/oxenbtc": 0.000005,
      // base: kraken 10 + 2, coinbase 20 + 1, bitstamp 5, okx 30, kucoin 4, bitfinex 3 + 2, binance 100 = 177;
      // quote of ETH/BTC etc.: kraken 100 x 0.049 = 4.9, coinbase 50 x 0.051 = 2.55, bitstamp 10 x 0.05 = 0.5,
      // binance 10.1, bitfinex dash 100 x 0.001 = 0.1, kucoin oxen 0.005 = 18.155
      "volume/btc": expect.closeTo(195.155, 9),
      // kraken 499000 + 100 + 5000, coinbase 1002000, bitstamp 250000 + 50, bitfinex 150900 + 51
      "volume/usd": expect.closeTo(1907101, 6),
      // kraken 5000 (base of usdtusd), okx 1501500 + 250000, kucoin 200600 + 25100 + 0,
      // bitfinex 100240 + 25000 (the outlier's volume still counts), binance 5000000
      "volume/usdt": expect.closeTo(7107440, 6),
      "volume/eth": 471, // 100 + 50 + 10 + 100 + 10 + 1 + 200
      "volume/eur": 138100, // 2 x 46000 + 46100
      "volume/doge": 1500,
      "volume/xrp": 100,
      "volume/dash": 100,
      "volume/oxen": 1000,
      "volume/xyz": 0,
    });

    const line = log.mock.calls.map((c) => c[0]).find((entry) => entry?.msg === "tick stored");
    // 5 + 3 + 3 + 2 + 4 + 5 + 2 = 24 markets delivered, plus 3 + 2 + 2 + 1 + 0 + 2 + 3 = 13 dropped at the source
    // (not spot: Kraken's dark pool, Bitstamp's two perpetuals, OKX's swap, Bitfinex's F0, Binance's margin-only symbol).
    expect(line).toMatchObject({
      markets_read: 37,
      markets_used: 24,
      skipped: { unknown_pair: 2, not_trading: 4, test_market: 1, not_spot: 6, no_usable_value: 0, duplicate: 0 },
      prices_dropped: { outlier: 1, tolerance: 0.1 },
    });
  });

  it("records each source's status; GET /sources and GET / report it", async () => {
    fakeExchanges();
    await tick({ SOURCES: SEVEN_EXCHANGES });
    setNow(T0 + 30_000);
    const { status, body } = await getJson("/sources");
    expect(status).toBe(200);
    expect(body.sources.map((s: { source: string }) => s.source)).toEqual(["binance", "bitfinex", "bitstamp", "coinbase", "kraken", "kucoin", "okx"]);
    const bySource = Object.fromEntries(body.sources.map((s: { source: string }) => [s.source, s]));
    expect(bySource.bitfinex).toEqual({
      source: "bitfinex",
      status: "ok",
      markets: 5,
      dropped: { test_market: 1, not_spot: 1, outlier: 1 },
      latency_ms: expect.any(Number),
      error: null,
      tick: "2026-11-29T12:00:00.000Z",
      last_success: "2026-11-29T12:00:00.000Z",
      last_error: null,
      last_error_message: null,
    });
    expect(bySource.kraken).toMatchObject({ markets: 5, dropped: { not_trading: 1, unknown_pair: 1, not_spot: 1 } });
    expect(bySource.bitstamp).toMatchObject({ markets: 3, dropped: { not_spot: 2 } });
    expect(bySource.okx).toMatchObject({ markets: 2, dropped: { not_spot: 1 } });
    expect(bySource.binance).toMatchObject({ markets: 2, dropped: { not_trading: 1, unknown_pair: 1, not_spot: 1 } });
    expect((await getJson("/")).body).toMatchObject({ status: "ok", sources: "7/7 ok" });
  });
});

describe("failure isolation", () => {
  it("one source down: the others are aggregated and written, the failure recorded", async () => {
    fakeExchanges({ [TICKER_ROUTES.kraken]: () => jsonResponse({ error: ["EService:Unavailable"] }) });
    const outcome = await tick({ SOURCES: SEVEN_EXCHANGES });
    expect(outcome.status).toBe("stored");
    const values = await storedValues();
    expect(values["price/btcusd"]).toBe((50100 + 50200 + 50300) / 3); // no Kraken
    expect(values["price/usdtusd"]).toBeUndefined(); // only Kraken lists it

    setNow(T0 + 30_000);
    const kraken = (await getJson("/sources")).body.sources.find((s: { source: string }) => s.source === "kraken");
    expect(kraken).toMatchObject({
      status: "error",
      markets: 0,
      error: "kraken: Ticker: EService:Unavailable",
      last_success: null,
      last_error: "2026-11-29T12:00:00.000Z",
      last_error_message: "kraken: Ticker: EService:Unavailable",
    });
    expect((await getJson("/")).body.sources).toBe("6/7 ok");
  });

  it.each([
    ["network error", () => Promise.reject(new TypeError("Network connection lost."))],
    ["HTTP 451", () => jsonResponse({ code: 0, msg: "Service unavailable from a restricted location" }, 451)],
    ["HTTP 403", () => new Response("<html>403 Forbidden</html>", { status: 403 })],
    ["malformed JSON", () => new Response("[{\"symbol\":", { status: 200 })],
  ])("Binance answering %s is a failure of Binance only", async (_, reply) => {
    fakeExchanges({ [TICKER_ROUTES.binance]: reply });
    const outcome = await tick({ SOURCES: SEVEN_EXCHANGES });
    expect(outcome.status).toBe("stored");
    expect(outcome.status === "stored" && outcome.sources.filter((s) => s.status === "error").map((s) => s.source)).toEqual(["binance"]);
    expect((await storedValues())["price/btcusdt"]).toBe((50050 + 50150 + 50120) / 3);
  });

  it("every source down: nothing is written, the failures are recorded, the next tick works", async () => {
    const down = () => jsonResponse({ error: "down" }, 503);
    const fake = fakeExchanges(Object.fromEntries(Object.values(TICKER_ROUTES).map((route) => [route, down])));
    const error = vi.spyOn(console, "error");
    const outcome = await tick({ SOURCES: SEVEN_EXCHANGES });
    expect(outcome.status).toBe("failed");
    expect(await count("frames")).toBe(0);
    expect(await count("ticks")).toBe(0);
    expect(error.mock.calls.some(([entry]) => entry?.msg === "tick failed: no source could be read")).toBe(true);
    setNow(T0 + 30_000);
    const statuses = (await getJson("/sources")).body.sources;
    expect(statuses).toHaveLength(7);
    expect(statuses.every((s: { status: string; error: string }) => s.status === "error" && /HTTP 503: down/.test(s.error))).toBe(true);
    expect((await getJson("/")).body.sources).toBe("0/7 ok");

    // Recovery: the last error is remembered next to the new success.
    fake.routes = (await import("./exchanges")).exchangeRoutes();
    expect((await tick({ SOURCES: SEVEN_EXCHANGES }, T0 + MINUTE)).status).toBe("stored");
    setNow(T0 + MINUTE + 30_000);
    const okx = (await getJson("/sources")).body.sources.find((s: { source: string }) => s.source === "okx");
    expect(okx).toMatchObject({
      status: "ok",
      error: null,
      last_success: "2026-11-29T12:01:00.000Z",
      last_error: "2026-11-29T12:00:00.000Z",
      last_error_message: "okx: HTTP 503: down",
    });
  });

  it("a source that never answers times out without holding up the others", async () => {
    const { runTick } = await import("../../src/ingest/tick");
    const { loadConfig } = await import("../../src/config");
    const fake = fakeExchanges();
    const answer = vi.mocked(fetch).getMockImplementation()!;
    vi.mocked(fetch).mockImplementation((input, init) => {
      if (new Request(input).url.startsWith("https://kucoin.test/")) {
        return new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason)));
      }
      return answer(input, init);
    });
    const config = { ...loadConfig({ ...env, SOURCES: SEVEN_EXCHANGES }), sourceTimeoutMs: 50 };
    const outcome = await runTick(env.DB, config, T0);
    expect(outcome.status).toBe("stored");
    const kucoin = outcome.status === "stored" ? outcome.sources.find((s) => s.source === "kucoin") : undefined;
    expect(kucoin).toMatchObject({ status: "error", error: "kucoin: timed out after 50 ms" });
    expect(fake.requests.length).toBeGreaterThan(7);
  });
});

describe("de-duplication across sources", () => {
  it("a market two selected sources report counts once: the first source in SOURCES wins", async () => {
    // Cryptowatch also reports Kraken's BTC/USD, at another price.
    fakeExchanges({
      "cryptowatch.test/markets/summaries": () => jsonResponse(summariesBody({ "kraken:btcusd": [51000, 7, 357000] })),
      "cryptowatch.test/pairs": (request) =>
        jsonResponse(new URL(request.url).searchParams.has("cursor") ? fixtures.pairs[1] : fixtures.pairs[0]),
    });

    await tick({ SOURCES: "cryptowatch,kraken" }, T0);
    let values = await storedValues(T0);
    expect(values["price/btcusd"]).toBe(51000); // Cryptowatch's copy; Kraken's own (50000) is the duplicate
    expect(values["volume/btc"]).toBe(7 + 2 + 4.9); // 7 from Cryptowatch's btcusd, Kraken's btceur 2 and ethbtc quote 4.9
    setNow(T0 + 30_000);
    const kraken = (await getJson("/sources")).body.sources.find((s: { source: string }) => s.source === "kraken");
    expect(kraken.dropped).toMatchObject({ duplicate: 1 });

    await tick({ SOURCES: "kraken,cryptowatch" }, T0 + MINUTE);
    values = await storedValues(T0 + MINUTE);
    expect(values["price/btcusd"]).toBe(50000);
  });
});

describe("configuration", () => {
  it("an unknown source name is a configuration error: logged, nothing written, no crash", async () => {
    fakeExchanges();
    const error = vi.spyOn(console, "error");
    const outcome = await tick({ SOURCES: "kraken,krakn" });
    expect(outcome).toMatchObject({ status: "failed", error: expect.stringContaining('unknown source "krakn"') });
    expect(error.mock.calls.some(([entry]) => entry?.msg === "tick failed: configuration error")).toBe(true);
    expect(await count("frames")).toBe(0);
  });

  it.each(["-0.1", "0", "ten", "0.1.2", "Infinity"])("OUTLIER_TOLERANCE=%s is a configuration error", async (value) => {
    fakeExchanges();
    const outcome = await tick({ SOURCES: "kraken", OUTLIER_TOLERANCE: value });
    expect(outcome).toMatchObject({ status: "failed", error: expect.stringContaining("OUTLIER_TOLERANCE must be a number > 0") });
  });

  it("a base URL that is not http(s) is a configuration error naming the var", async () => {
    const outcome = await tick({ SOURCES: "okx", OKX_API_URL: "ftp://okx.test" });
    expect(outcome).toMatchObject({ status: "failed", error: expect.stringContaining("OKX_API_URL must be an http(s) URL") });
  });

  it("OUTLIER_TOLERANCE is applied: 2 % drops Bitstamp's ETH/BTC and Kraken's", async () => {
    fakeExchanges();
    await tick({ SOURCES: "kraken,coinbase,bitstamp,binance", OUTLIER_TOLERANCE: "0.02" });
    // ethbtc: 0.05, 0.051, 0.052, 0.0505: median 0.05075, bounds 0.049754... and 0.051765: 0.052 is out.
    expect((await storedValues())["price/ethbtc"]).toBeCloseTo((0.05 + 0.051 + 0.0505) / 3, 15);
  });

  it("SOURCES unset means every exchange source", async () => {
    const fake = fakeExchanges();
    await tick({ SOURCES: "" });
    const hosts = [...new Set(fake.requests.map((r) => new URL(r.url).host))].sort();
    expect(hosts).toEqual(DEFAULT_SOURCES.map((name) => `${name}.test`).sort());
    expect(DEFAULT_SOURCES).toEqual(expect.arrayContaining(SEVEN_EXCHANGES.split(",")));
    expect(DEFAULT_SOURCES).not.toContain("cryptowatch");
  });
});

describe("the cost of recording source health", () => {
  it("all seven statuses are one upsert: 2 statements, about one row written per source", async () => {
    const { recordSourceStatuses } = await import("../../src/storage/sources");
    const statuses = Object.keys(TICKER_ROUTES).map((source, i) => ({
      source,
      status: i === 0 ? ("error" as const) : ("ok" as const),
      markets: 100 * i,
      dropped: { unknown_pair: i },
      latency_ms: 10 * i,
      error: i === 0 ? "down" : null,
    }));
    const first = await recordSourceStatuses(env.DB, T0, statuses);
    const steady = await recordSourceStatuses(env.DB, T0 + MINUTE, statuses);
    expect(steady.statements).toBe(2);
    // A status row per source and the state row (no secondary index on source_status).
    expect(first.rowsWritten).toBe(statuses.length + 1);
    expect(steady.rowsWritten).toBe(statuses.length + 1);
    // A late tick (an older minute run again) does not overwrite the newer status.
    await recordSourceStatuses(env.DB, T0, statuses.map((s) => ({ ...s, markets: -1 })));
    const row = await env.DB.prepare("SELECT tick, markets FROM source_status WHERE source = 'coinbase'").first();
    expect(row).toEqual({ tick: T0 + MINUTE, markets: 100 });
  });
});
