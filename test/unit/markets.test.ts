/**
 * GET /metric_types/{type}/metrics/{symbol}/markets: the markets behind a
 * metric's latest point, worked out by hand over the exchange fixtures
 * (test/fixtures/*), and the stored values reproduced from them exactly.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runScheduled } from "../../src/ingest/tick";
import { breakdownStatements, metricBreakdown } from "../../src/storage/breakdowns";
import { history, latestPoint } from "../../src/storage/queries";
import { windowEndingAt } from "../../src/storage/window";
import { SEVEN_EXCHANGES, fakeExchanges } from "./exchanges";
import { fixtures, getJson, jsonResponse, MINUTE, resetDatabase, setNow, summariesBody, T0 } from "./helpers";
import { metered } from "./metered";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const tick = (vars: Partial<Env>, time = T0) => runScheduled({ ...env, ...vars }, time);
const iso = (ms: number) => new Date(ms).toISOString();
const markets = (type: string, symbol: string) => getJson(`/metric_types/${type}/metrics/${symbol}/markets`);

interface Market {
  exchange: string;
  source: string;
  pair?: string;
  side?: "base" | "quote";
  last: number | null;
  amount?: number | null;
  included: boolean;
}

/** The value stored for a metric at minute `ts`, read through the storage's own history query. */
async function storedValue(type: string, symbol: string, ts: number): Promise<number | undefined> {
  return (await history(env.DB, type, symbol, { since: ts - 1, until: ts })).find((point) => point.ts === ts)?.value;
}

describe("the markets behind a price", () => {
  it("ETH/USDT: Bitfinex's 25000 is an outlier, 8.96 above the median 2510; the mean of the other two is the stored 2505", async () => {
    fakeExchanges();
    await tick({ SOURCES: SEVEN_EXCHANGES });
    setNow(T0 + 30_000);
    const { status, body } = await markets("price", "ethusdt");
    expect(status).toBe(200);
    // OKX 2500 (vol24h 100, volCcy24h 250000), KuCoin 2510 (vol 10, volValue 25100), Bitfinex tETHUST 25000
    // (volume 1, quote volume derived: 1 x 25000). Median of 2500, 2510, 25000 is 2510; the band with t = 0.1
    // is [2281.8, 2761]: 25000 is out, 25000 / 2510 - 1 = 22490 / 2510 above the median.
    expect(body).toEqual({
      metric_type: "price",
      symbol: "ethusdt",
      time: iso(T0),
      value: 2505,
      complete: true,
      median: 2510,
      tolerance: 0.1,
      markets: [
        { exchange: "okex", source: "okx", last: 2500, base_volume: 100, quote_volume: 250000, quote_volume_derived: false,
          included: true, reason: null, deviation: expect.closeTo(-10 / 2510, 15) },
        { exchange: "kucoin", source: "kucoin", last: 2510, base_volume: 10, quote_volume: 25100, quote_volume_derived: false,
          included: true, reason: null, deviation: 0 },
        { exchange: "bitfinex", source: "bitfinex", last: 25000, base_volume: 1, quote_volume: 25000, quote_volume_derived: true,
          included: false, reason: "outlier", deviation: expect.closeTo(22490 / 2510, 12) },
      ],
    });
    expect((2500 + 2510) / 2).toBe(body.value);
    expect(await storedValue("price", "ethusdt", T0)).toBe(body.value);
  });

  it("a market two sources report is listed twice: the first source's copy counts, the other is a duplicate", async () => {
    // Cryptowatch also reports Kraken's BTC/USD, at 51000; SOURCES lists Cryptowatch first.
    fakeExchanges({
      "cryptowatch.test/markets/summaries": () => jsonResponse(summariesBody({ "kraken:btcusd": [51000, 7, 357000] })),
      "cryptowatch.test/pairs": (request) =>
        jsonResponse(new URL(request.url).searchParams.has("cursor") ? fixtures.pairs[1] : fixtures.pairs[0]),
    });
    await tick({ SOURCES: "cryptowatch,kraken" });
    setNow(T0 + 30_000);

    const price = (await markets("price", "btcusd")).body;
    expect(price).toMatchObject({ value: 51000, median: null, tolerance: 0.1, complete: true });
    expect(price.markets).toEqual([
      { exchange: "kraken", source: "cryptowatch", last: 51000, base_volume: 7, quote_volume: 357000, quote_volume_derived: false,
        included: true, reason: null, deviation: null },
      // Kraken's own copy: c[0] 50000, v[1] 10, quote 10 x p[1] 49900 (derived).
      { exchange: "kraken", source: "kraken", last: 50000, base_volume: 10, quote_volume: 499000, quote_volume_derived: true,
        included: false, reason: "duplicate", deviation: null },
    ]);

    // BTC volume: Cryptowatch's btcusd 7 (base), Kraken's btcusd duplicate, btceur 2 (base), ethbtc 100 x 0.049 (quote, derived).
    const volume = (await markets("volume", "btc")).body;
    expect(volume.markets.map((m: Market) => [m.source, m.pair, m.side, m.amount, m.included])).toEqual([
      ["cryptowatch", "btcusd", "base", 7, true],
      ["kraken", "btcusd", "base", null, false],
      ["kraken", "ethbtc", "quote", expect.closeTo(4.9, 12), true],
      ["kraken", "btceur", "base", 2, true],
    ]);
    expect(volume.markets[1].reason).toBe("duplicate");
    expect(volume.markets[2]).toMatchObject({ exchange: "kraken", last: 0.05, base_volume: 100, quote_volume_derived: true });
    expect(volume.value).toBe(7 + 4.9 + 2);
  });
});

describe("the markets behind a volume", () => {
  it("EUR: two derived quote volumes, Kraken 2 x VWAP 46000 and Coinbase 1 x last 46100, sum to the stored 138100", async () => {
    fakeExchanges();
    await tick({ SOURCES: SEVEN_EXCHANGES });
    setNow(T0 + 30_000);
    const { status, body } = await markets("volume", "eur");
    expect(status).toBe(200);
    expect(body).toEqual({
      metric_type: "volume",
      symbol: "eur",
      time: iso(T0),
      value: 138100,
      complete: true,
      markets: [
        { exchange: "kraken", source: "kraken", pair: "btceur", side: "quote", last: 46000, base_volume: 2, quote_volume: 92000,
          quote_volume_derived: true, amount: 92000, included: true, reason: null },
        { exchange: "coinbase-pro", source: "coinbase", pair: "btceur", side: "quote", last: 46100, base_volume: 1, quote_volume: 46100,
          quote_volume_derived: true, amount: 46100, included: true, reason: null },
      ],
    });
  });

  it("DOGE: the base side of Kraken's and Bitfinex's DOGE/USD, 1000 + 500", async () => {
    fakeExchanges();
    await tick({ SOURCES: SEVEN_EXCHANGES });
    setNow(T0 + 30_000);
    const { body } = await markets("volume", "doge");
    expect(body.markets.map((m: Market) => [m.exchange, m.pair, m.side, m.amount])).toEqual([
      ["kraken", "dogeusd", "base", 1000],
      ["bitfinex", "dogeusd", "base", 500],
    ]);
    expect(body.value).toBe(1500);
  });
});

describe("every stored value is reproduced exactly from its markets", () => {
  it("each price is the mean of its included lasts, each volume the sum of its amounts, bit for bit, in the listed order", async () => {
    fakeExchanges();
    await tick({ SOURCES: SEVEN_EXCHANGES });
    setNow(T0 + 30_000);
    let checked = 0;
    for (const type of ["price", "volume"]) {
      const { body } = await getJson(`/metric_types/${type}/latest`);
      expect(body.latest.length).toBeGreaterThan(5);
      for (const { symbol, value } of body.latest) {
        const answer = (await markets(type, symbol)).body;
        expect(answer.value).toBe(value);
        const included = answer.markets.filter((m: Market) => m.included);
        expect(included.length, `${type}/${symbol}`).toBeGreaterThan(0);
        const reproduced =
          type === "price"
            ? included.reduce((total: number, m: Market) => total + m.last!, 0) / included.length
            : included.reduce((total: number, m: Market) => total + m.amount!, 0);
        expect(reproduced, `${type}/${symbol}`).toBe(value);
        checked++;
      }
    }
    expect(checked).toBe(20);
  });
});

describe("a metric without a point in the latest tick, and unknown metrics", () => {
  it("says so: markets [] with the time and value of its latest point", async () => {
    fakeExchanges();
    await tick({ SOURCES: SEVEN_EXCHANGES }, T0);
    // Only Kraken a minute later: ETH/USDT (OKX, KuCoin, Bitfinex) gets no point.
    await tick({ SOURCES: "kraken" }, T0 + MINUTE);
    setNow(T0 + MINUTE + 30_000);
    expect((await markets("price", "ethusdt")).body).toEqual({
      metric_type: "price",
      symbol: "ethusdt",
      time: iso(T0),
      value: 2505,
      complete: true,
      median: null,
      tolerance: null,
      markets: [],
    });
    // Kraken's BTC/EUR is in both ticks: the latest one's single market.
    const btceur = (await markets("price", "btceur")).body;
    expect(btceur).toMatchObject({ time: iso(T0 + MINUTE), value: 46000, median: null, tolerance: 0.1 });
    expect(btceur.markets.map((m: Market) => m.source)).toEqual(["kraken"]);
  });

  it("an unknown metric is a 404 naming it; a malformed symbol a 400; an unknown type a 404", async () => {
    fakeExchanges();
    await tick({ SOURCES: "kraken" });
    setNow(T0 + 30_000);
    const unknown = await markets("price", "nopenope");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toContain('"nopenope"');
    expect((await markets("price", "bad symbol!")).status).toBe(400);
    expect((await markets("flow", "btc")).status).toBe(404);
  });
});

describe("the breakdown describes stored data only", () => {
  it("a tick whose batch fails leaves the previous breakdown, still serving the stored point", async () => {
    fakeExchanges();
    await tick({ SOURCES: "okx" }, T0);
    const batch = env.DB.batch.bind(env.DB);
    let calls = 0;
    // The first batch of the run is the tick's (the sources' health is recorded after it, with the outcome).
    vi.spyOn(env.DB, "batch").mockImplementation(async (statements) => {
      if (++calls === 1) throw new Error("D1_ERROR: the tick's transaction failed");
      return batch(statements);
    });
    const outcome = await tick({ SOURCES: "okx" }, T0 + MINUTE);
    expect(outcome.status).toBe("failed");
    vi.mocked(env.DB.batch).mockRestore();

    const rows = await env.DB.prepare("SELECT source, tick FROM market_breakdowns").all();
    expect(rows.results).toEqual([{ source: "okx", tick: T0 }]);
    setNow(T0 + MINUTE + 30_000);
    const { body } = await markets("price", "ethusdt");
    expect(body).toMatchObject({ time: iso(T0), value: 2500 });
    expect(body.markets).toHaveLength(1);
  });

  it("a late tick does not replace the breakdown of a newer one", async () => {
    fakeExchanges();
    await tick({ SOURCES: "okx" }, T0 + MINUTE);
    await tick({ SOURCES: "okx" }, T0);
    const rows = await env.DB.prepare("SELECT source, tick FROM market_breakdowns").all();
    expect(rows.results).toEqual([{ source: "okx", tick: T0 + MINUTE }]);
  });
});

describe("cost", () => {
  it("the breakdown is one row written per source, whatever the number of markets (the tick's batch carries these statements)", async () => {
    const document = (markets: number) =>
      JSON.stringify({
        tolerance: 0.1,
        markets: Array.from({ length: markets }, (_, i) => [i, "x", "btcusd", "btc", "usd", 1, 1, 1, 0, "included", null, null, "included", "included"]),
        index: { price: { btcusd: Array.from({ length: markets }, (_, i) => i) }, volume: {} },
      });
    const sources = ["a", "b", "c", "d", "e", "f", "g"];
    const write = async (ts: number, markets: number) => {
      const results = await env.DB.batch(breakdownStatements(env.DB, ts, sources.map((source) => ({ source, data: document(markets) }))));
      return results.reduce((sum, result) => sum + result.meta.rows_written, 0);
    };
    expect(await write(T0, 10)).toBe(7); // first: inserted
    expect(await write(T0 + MINUTE, 5000)).toBe(7); // then replaced
    expect(await write(T0, 10)).toBe(0); // a late tick writes nothing
  });

  it("GET .../markets reads the metric's latest point and one row per source", async () => {
    fakeExchanges();
    await tick({ SOURCES: SEVEN_EXCHANGES });
    const { reader, rowsRead, reset } = metered(env.DB);
    const latest = await latestPoint(reader, "volume", "usdt", windowEndingAt(T0 + 30_000));
    const pointRows = rowsRead();
    reset();
    const breakdown = await metricBreakdown(reader, latest!.ts, "volume", "usdt");
    expect(breakdown.sources).toBe(7);
    // OKX 2, KuCoin 3, Bitfinex 2, Binance 1 (base or quote USDT), Kraken's USDT/USD.
    expect(breakdown.entries).toHaveLength(9);
    // One row per source, plus one per market picked through the documents' index (json_each rows count).
    expect(rowsRead()).toBe(7 + 9);
    expect(pointRows).toBeLessThanOrEqual(3);
  });
});
