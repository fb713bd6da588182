import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runScheduled } from "../../src/ingest/tick";
import { claimTick, releaseTick } from "../../src/storage/ticks";
import { count, DAY, storedValues, fakeCryptowatch, fixtures, getJson, jsonResponse, MINUTE, resetDatabase, runCron, setNow, summariesBody, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const storedPoints = () => storedValues();

describe("the scheduled tick", () => {
  it("stores the aggregated points of the fixture at the minute it was scheduled for", async () => {
    const upstream = fakeCryptowatch();
    await runCron(T0 + 42_123); // floored to T0

    const points = await storedPoints();
    const byKey = Object.fromEntries(points.map((p) => [`${p.metric_type}/${p.symbol}`, p.value]));
    expect(points.every((p) => p.ts === T0)).toBe(true);
    // Worked out by hand from test/fixtures/cryptowatch/summaries.json.
    expect(byKey).toEqual({
      "price/1inchusd": 0.5,
      "price/adausd": 1.1122,
      "price/btceur": 50050, // (50000 + 50100) / 2
      "price/btcusd": 55000,
      "price/ethbtc": 0.05,
      "volume/1inch": 1000,
      "volume/ada": 28411055.5,
      "volume/btc": 40, // 10 + 5 + 20 as base, 5 as quote of ethbtc
      "volume/eth": 100,
      "volume/eur": 750500, // 500000 + 250500
      "volume/usd": expect.closeTo(33359416.87, 6), // 1100000 + 32258916.87 + 500
    });
    // Both /pairs pages were read (the cursor was followed), once.
    const paths = upstream.requests.map((r) => new URL(r.url).pathname + new URL(r.url).search);
    expect(paths).toEqual(["/markets/summaries", "/pairs", "/pairs?cursor=page2"]);
  });

  it("keeps the pair catalogue in D1 and refreshes it only when a pair is missing", async () => {
    const upstream = fakeCryptowatch();
    await runCron(T0);
    await runCron(T0 + MINUTE);
    const pairRequests = upstream.requests.filter((r) => new URL(r.url).pathname === "/pairs");
    expect(pairRequests).toHaveLength(2); // two pages, first tick only

    // A pair listed since: one refresh (both pages) finds it.
    upstream.summaries = jsonResponse(summariesBody({ "kraken:solusd": [150, 2, 300] }));
    upstream.pairs = [
      () => jsonResponse(fixtures.pairs[0]),
      () =>
        jsonResponse({
          result: [
            ...fixtures.pairs[1]!.result,
            { id: 7000, symbol: "solusd", base: { symbol: "sol" }, quote: { symbol: "usd" }, route: "" },
          ],
        }),
    ];
    await runCron(T0 + 2 * MINUTE);
    expect(upstream.requests.filter((r) => new URL(r.url).pathname === "/pairs")).toHaveLength(4);
    const [row] = await storedValues("m.symbol = 'solusd' AND m.metric_type = 'price'");
    expect(row?.value).toBe(150);

    // A pair /pairs does not know: refreshed once per tick, then skipped.
    upstream.summaries = jsonResponse(summariesBody({ "kraken:solusd": [151, 2, 302], "kraken:zzzusd": [1, 1, 1] }));
    await runCron(T0 + 3 * MINUTE);
    expect(upstream.requests.filter((r) => new URL(r.url).pathname === "/pairs")).toHaveLength(6);
    expect(await count("ticks")).toBe(4);
  });

  it("skips a market whose pair stays unknown after refreshing /pairs, and keeps the rest", async () => {
    fakeCryptowatch({
      summaries: jsonResponse(summariesBody({ "kraken:btceur": [100, 1, 100], "kraken:foobar": [5, 5, 25] })),
    });
    const log = vi.spyOn(console, "log");
    await runCron(T0);
    const symbols = (await storedPoints()).map((p) => `${p.metric_type}/${p.symbol}`);
    expect(symbols).toEqual(["price/btceur", "volume/btc", "volume/eur"]);
    const line = log.mock.calls.map((c) => c[0]).find((entry) => entry?.msg === "tick stored");
    expect(line).toMatchObject({
      markets_read: 2,
      markets_used: 1,
      skipped: { unknown_pair: 1, no_usable_value: 0 },
      points_written: 3,
    });
    expect(line.sources[0].info.allowance).toEqual({ cost: 0.015, remaining: 9.9 });
  });

  it("sends the API key as X-CW-API-Key when the secret is set, and never logs it", async () => {
    const upstream = fakeCryptowatch();
    const log = vi.spyOn(console, "log");
    const { runScheduled } = await import("../../src/ingest/tick");
    await runScheduled({ ...env, CRYPTOWATCH_API_KEY: "sekret-key-123" }, T0);
    expect(upstream.requests.every((r) => r.headers.get("x-cw-api-key") === "sekret-key-123")).toBe(true);
    expect(JSON.stringify(log.mock.calls)).not.toContain("sekret-key-123");

    upstream.requests.length = 0;
    await runCron(T0 + MINUTE);
    expect(upstream.requests[0]!.headers.has("x-cw-api-key")).toBe(false);
  });

  it("running the same minute twice stores nothing more and changes nothing", async () => {
    const upstream = fakeCryptowatch();
    await runCron(T0);
    const before = await storedPoints();
    const state = await env.DB.prepare("SELECT * FROM tracker_state").first();

    upstream.summaries = jsonResponse(summariesBody({ "kraken:btceur": [1, 1, 1] }));
    await runCron(T0 + 59_999); // same minute
    expect(await storedPoints()).toEqual(before);
    expect(await env.DB.prepare("SELECT * FROM tracker_state").first()).toEqual(state);
    expect(await count("ticks")).toBe(1);
  });

  describe("a failing upstream leaves the stored data as it was", () => {
    const failures: [string, () => Response | Promise<Response>][] = [
      ["network error", () => Promise.reject(new TypeError("Network connection lost."))],
      ["HTTP 500 with an error body", () => jsonResponse({ error: "Internal Server Error" }, 500)],
      ["HTTP 503 with an HTML body", () => new Response("<html>down</html>", { status: 503 })],
      ["429: allowance spent", () => jsonResponse({ error: "Out of allowance" }, 429)],
      ["a body that is not JSON", () => new Response("{\"result\": {", { status: 200 })],
      ["JSON of the wrong shape", () => jsonResponse({ result: [1, 2, 3] })],
      ["JSON without result", () => jsonResponse({ allowance: { cost: 0 } })],
      ["a body that fails mid-stream", () => new Response(new ReadableStream({ pull(c) { c.error(new Error("reset")); } }))],
    ];

    it.each(failures)("%s", async (_, failure) => {
      const upstream = fakeCryptowatch();
      await runCron(T0);
      const before = await storedPoints();
      const error = vi.spyOn(console, "error");

      upstream.summaries = failure;
      await runCron(T0 + MINUTE);
      expect(await storedPoints()).toEqual(before);
      expect(await count("ticks")).toBe(1);
      expect(error.mock.calls.some(([entry]) => entry?.msg?.startsWith("tick failed"))).toBe(true);

      // The next tick works normally.
      upstream.summaries = () => jsonResponse(fixtures.summaries);
      await runCron(T0 + 2 * MINUTE);
      expect(await count("ticks")).toBe(2);
      expect((await storedPoints()).filter((p) => p.ts === T0 + 2 * MINUTE)).toHaveLength(11);
    });

    it("a failing /pairs refresh fails the tick", async () => {
      fakeCryptowatch({ pairs: [() => jsonResponse({ error: "Internal" }, 502)] });
      await runCron(T0);
      expect(await count("frames")).toBe(0);
      expect(await count("ticks")).toBe(0);
    });

    it("an upstream that never answers times out", async () => {
      const { runTick } = await import("../../src/ingest/tick");
      const { loadConfig } = await import("../../src/config");
      fakeCryptowatch({
        summaries: () => new Promise<Response>(() => {}),
      });
      // The fake ignores the abort signal, so emulate fetch honouring it.
      vi.mocked(fetch).mockImplementation((_input, init) =>
        new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))),
      );
      const config = { ...loadConfig(env), sourceTimeoutMs: 50 };
      const outcome = await runTick(env.DB, config, T0);
      expect(outcome).toMatchObject({ status: "failed" });
      expect(outcome.status === "failed" && outcome.error).toMatch(/timed out after 50 ms/);
      expect(await count("frames")).toBe(0);
    });
  });

  it("purges points older than 24 h, and only those", async () => {
    fakeCryptowatch({ summaries: () => jsonResponse(summariesBody({ "kraken:btceur": [100, 1, 100] })) });
    await runCron(T0);
    await runCron(T0 + 30 * MINUTE);
    await runCron(T0 + 24 * 60 * MINUTE); // T0 is now exactly 24 h old: out of the window
    const times = [...new Set((await storedPoints()).map((p) => p.ts))];
    expect(times).toEqual([T0 + 30 * MINUTE, T0 + 24 * 60 * MINUTE]);
    expect(await env.DB.prepare("SELECT ts FROM ticks ORDER BY ts").all().then((r) => r.results.map((t) => t.ts))).toEqual([
      T0 + 30 * MINUTE,
      T0 + 24 * 60 * MINUTE,
    ]);

    // A metric with no point left is kept for 31 days (its candles continue if it comes back), then forgotten.
    fakeCryptowatch({ summaries: () => jsonResponse(summariesBody({ "kraken:btcusd": [100, 1, 100] })) });
    await runCron(T0 + 49 * 60 * MINUTE);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM metrics WHERE symbol = 'btceur'").first("n")).toBe(1);
    for (let i = 0; i < 4; i++) await runCron(T0 + 32 * DAY + i * MINUTE);
    expect((await env.DB.prepare("SELECT symbol FROM metrics ORDER BY symbol").all()).results.map((r) => r.symbol)).toEqual([
      "btc",
      "btcusd",
      "usd",
    ]);
  });

  it("serves what a tick stored through every endpoint", async () => {
    fakeCryptowatch();
    await runCron(T0);
    setNow(T0 + 30_000);
    expect((await getJson("/metric_types/price/metrics")).body).toEqual({
      metrics: ["1inchusd", "adausd", "btceur", "btcusd", "ethbtc"].map((symbol) => ({ metric_type: "price", symbol })),
    });
    expect((await getJson("/metric_types/price/metrics/btceur")).body).toEqual({
      metric_type: "price",
      symbol: "btceur",
      latest: { time: "2026-11-29T12:00:00.000Z", value: 50050, change_24h: null, min_24h: 50050, max_24h: 50050 },
    });
    expect((await getJson("/metric_types/volume/metrics/btc/history")).body).toEqual({
      history: { "2026-11-29T12:00:00.000Z": 40 },
    });
    expect((await getJson("/metric_types/volume/metrics/btc/rank")).body).toEqual({ rank: 1, total: 6 });
    expect((await getJson("/")).body).toMatchObject({ status: "ok", last_tick: "2026-11-29T12:00:00.000Z" });
  });
});

describe("a run that stores nothing gives its minute back", () => {
  const tick = (time: number) => runScheduled(env, time);
  const lease = () => env.DB.prepare("SELECT ts, expires FROM tick_lease").first<{ ts: number | null; expires: number }>();
  const iso = (ts: number) => new Date(ts).toISOString();

  it("every source failing: a retry in the same minute reads the upstream again and stores the retry's tick", async () => {
    const upstream = fakeCryptowatch({ summaries: () => jsonResponse({ error: "Internal" }, 500) });
    expect((await tick(T0 + 1_000)).status).toBe("failed");
    // Given back at once: the claim names the minute but has expired.
    expect(await lease()).toEqual({ ts: T0, expires: 0 });

    upstream.summaries = () => jsonResponse(summariesBody({ "kraken:btceur": [100, 1, 100] }));
    expect((await tick(T0 + 30_000)).status).toBe("stored");
    expect(await storedValues()).toEqual([
      { metric_type: "price", symbol: "btceur", ts: T0, value: 100 },
      { metric_type: "volume", symbol: "btc", ts: T0, value: 1 },
      { metric_type: "volume", symbol: "eur", ts: T0, value: 100 },
    ]);
    expect(upstream.requests.filter((r) => new URL(r.url).pathname === "/markets/summaries")).toHaveLength(2);
  });

  it("a batch that fails: the minute is given back, /sources says it was not stored, a retry in the same minute stores it", async () => {
    fakeCryptowatch();
    expect((await tick(T0 - MINUTE)).status).toBe("stored");
    const before = await storedValues();
    // A real failure inside D1's transaction, after the ledger check: the frames insert aborts.
    await env.DB.prepare("CREATE TRIGGER fail_frames BEFORE INSERT ON frames BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END").run();
    const error = vi.spyOn(console, "error");
    let outcome;
    try {
      outcome = await tick(T0);
    } finally {
      await env.DB.prepare("DROP TRIGGER fail_frames").run();
    }
    expect(outcome).toMatchObject({ status: "failed", error: expect.stringContaining("disk I/O error") });
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ msg: "tick failed: not stored" }));
    expect(await storedValues()).toEqual(before);
    expect(await count("ticks")).toBe(1);
    expect(await lease()).toEqual({ ts: T0, expires: 0 });

    // The source answered, but what it gave was not kept: not "ok" for this minute.
    setNow(T0 + 30_000);
    const [status] = (await getJson("/sources")).body.sources;
    expect(status).toMatchObject({
      source: "cryptowatch",
      status: "error",
      tick: iso(T0),
      error: expect.stringMatching(/^tick not stored: .*disk I\/O error/),
      last_success: iso(T0 - MINUTE),
      last_error: iso(T0),
    });
    expect((await getJson("/")).body.sources).toBe("0/1 ok");

    expect((await tick(T0 + 40_000)).status).toBe("stored");
    expect((await storedValues()).filter((p) => p.ts === T0)).toHaveLength(11);
    const [after] = (await getJson("/sources")).body.sources;
    expect(after).toMatchObject({ status: "ok", error: null, tick: iso(T0), last_success: iso(T0) });
    expect((await getJson("/")).body.sources).toBe("1/1 ok");
  });

  it("a run that finds the minute claimed is skipped, reads nothing, and says so; a stored minute is a duplicate", async () => {
    const upstream = fakeCryptowatch();
    const log = vi.spyOn(console, "log");
    // Another run (alive or crashed) holds the claim on T0.
    expect(await claimTick(env.DB, T0, Date.now(), Date.now() + 50_000)).toBe(true);
    expect(await tick(T0)).toEqual({ status: "skipped", ts: T0 });
    expect(log).toHaveBeenCalledWith({ msg: "tick skipped: another run is reading this minute", tick: iso(T0) });
    expect(upstream.requests).toHaveLength(0);
    // The skipped run did not give the other run's claim back.
    expect((await lease())?.expires).toBeGreaterThan(Date.now());

    expect((await tick(T0 + MINUTE)).status).toBe("stored");
    expect(await tick(T0 + MINUTE + 5_000)).toEqual({ status: "duplicate", ts: T0 + MINUTE });
    expect(log).toHaveBeenCalledWith({ msg: "tick duplicate: this minute is already stored", tick: iso(T0 + MINUTE) });
  });
});

describe("the claim itself", () => {
  it("is released only while it still holds this run's claim", async () => {
    const now = Date.now();
    expect(await claimTick(env.DB, T0, now, now + 50_000)).toBe(true);
    // Another claim of the same minute (another expiry) is not ours to give back.
    expect(await releaseTick(env.DB, T0, now + 49_999)).toBe(false);
    // Another minute took the lease: giving back T0 leaves it alone.
    expect(await claimTick(env.DB, T0 + MINUTE, now, now + 50_000)).toBe(true);
    expect(await releaseTick(env.DB, T0, now + 50_000)).toBe(false);
    expect(await claimTick(env.DB, T0 + MINUTE, now + 1, now + 50_001)).toBe(false);
    // Its own run gives it back; then the minute can be claimed again at once.
    expect(await releaseTick(env.DB, T0 + MINUTE, now + 50_000)).toBe(true);
    expect(await claimTick(env.DB, T0 + MINUTE, now + 1, now + 50_001)).toBe(true);
  });
});
