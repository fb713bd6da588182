import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCryptowatch, startTracker, type LocalServer, type Tracker } from "./harness";


describe("npm start against a local Cryptowatch", () => {
  let upstream: LocalServer;
  let tracker: Tracker;

  beforeAll(async () => {
    upstream = await startCryptowatch();
    tracker = await startTracker({ vars: { SOURCES: "cryptowatch", CRYPTOWATCH_API_URL: upstream.url } });
  });

  afterAll(async () => {
    await tracker?.stop();
    await upstream?.close();
  });

  it("ticks on /__scheduled and serves the metrics over HTTP", async () => {
    const before = Date.now();
    await tracker.tick();
    expect(upstream.requests.map((r) => r.path)).toEqual(["/markets/summaries", "/pairs", "/pairs?cursor=page2"]);

    const list = await tracker.get("/metric_types/price/metrics");
    expect(list.status).toBe(200);
    expect(list.body.metrics.map((m: { symbol: string }) => m.symbol)).toEqual(["1inchusd", "adausd", "btceur", "btcusd", "ethbtc"]);

    // wrangler dev ignores /__scheduled's time=: the tick is stamped with the current minute.
    const history = await tracker.get("/metric_types/price/metrics/btceur/history");
    const entries = Object.entries(history.body.history as Record<string, number>);
    expect(entries).toHaveLength(1);
    const [time, value] = entries[0]!;
    expect(value).toBe(50050);
    const minute = Date.parse(time);
    expect(minute % 60_000).toBe(0);
    expect(minute).toBeGreaterThanOrEqual(Math.floor(before / 60_000) * 60_000);
    expect(minute).toBeLessThanOrEqual(Date.now());

    expect((await tracker.get("/metric_types/volume/metrics/btc")).body).toMatchObject({ metric_type: "volume", symbol: "btc", latest: { value: 40 } });
    expect((await tracker.get("/metric_types/volume/metrics/btc/rank")).body).toEqual({ rank: 1, total: 6 });
    expect((await tracker.get("/")).body).toMatchObject({ status: "ok", last_tick: time });

    const missing = await tracker.get("/metric_types/price/metrics/nosuchpair");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain("nosuchpair");
    expect(missing.headers.get("access-control-allow-origin")).toBe("*");
  });
});
