import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { json, Router, type IRequest } from "itty-router";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { toEdgeCache } from "../../src/api/edge-cache";
import { endpoint } from "../../src/api/endpoint";
import { apiHeaders, renderError, type ApiArgs } from "../../src/api/http";
import { insertTick } from "../../src/storage/ticks";
import { get, getJson, MINUTE, request, resetDatabase, setNow, T0 } from "./helpers";

beforeEach(async () => {
  await resetDatabase();
  await insertTick(env.DB, {
    ts: T0,
    storedAt: T0 + 2_000,
    markets: 3,
    points: [
      { metric_type: "price", symbol: "btceur", value: 50000 },
      { metric_type: "price", symbol: "adausd", value: 1.1122 },
      { metric_type: "volume", symbol: "btc", value: 12.5 },
    ],
  });
  await insertTick(env.DB, {
    ts: T0 + MINUTE,
    storedAt: T0 + MINUTE + 2_000,
    markets: 1,
    points: [{ metric_type: "price", symbol: "btceur", value: 50100 }],
  });
  setNow(T0 + MINUTE + 15_000);
});
afterEach(() => vi.restoreAllMocks());

/** Scale every stored value (frames, and the sums that describe them) without bumping the version. */
async function scaleBehindTheBack(factor: number) {
  await env.DB.prepare(
    `UPDATE frames SET v = (SELECT json_group_array(CASE WHEN j.type IN ('integer', 'real') THEN j.value * ?1 END ORDER BY j.key)
                            FROM json_each(frames.v) j)`,
  )
    .bind(factor)
    .run();
  const scale = (x: number | null) => (x === null ? null : x * factor);
  const { results } = await env.DB.prepare("SELECT metric_type, part, data, latest FROM sums").all<{
    metric_type: string;
    part: number;
    data: string;
    latest: string;
  }>();
  for (const row of results) {
    const tuples = (JSON.parse(row.data) as ([string, number, number, number, number, number | null] | null)[]).map(
      (t) => t && [t[0], t[1], t[2] * factor, t[3] * factor * factor, t[4] * factor, scale(t[5])],
    );
    const latest = (JSON.parse(row.latest) as ([string, number, number] | null)[]).map((t) => t && [t[0], t[1], scale(t[2])]);
    await env.DB.prepare("UPDATE sums SET data = ?3, latest = ?4 WHERE metric_type = ?1 AND part = ?2")
      .bind(row.metric_type, row.part, JSON.stringify(tuples), JSON.stringify(latest))
      .run();
  }
}

describe("the API", () => {
  it("GET /metric_types lists both types with their descriptions", async () => {
    const { status, body } = await getJson("/metric_types");
    expect(status).toBe(200);
    expect(body).toEqual({
      metric_types: [
        { metric_type: "price", description: "Average price across all markets a symbol is traded on." },
        { metric_type: "volume", description: "Volume of a symbol in the last 24 hours, totalled over all markets." },
      ],
    });
  });

  it("GET /metric_types/{type}", async () => {
    expect((await getJson("/metric_types/volume")).body).toEqual({
      metric_type: "volume",
      description: "Volume of a symbol in the last 24 hours, totalled over all markets.",
    });
  });

  it("GET /metric_types/{type}/metrics lists metrics with a point in the last 24 h, by symbol", async () => {
    expect((await getJson("/metric_types/price/metrics")).body).toEqual({
      metrics: [
        { metric_type: "price", symbol: "adausd" },
        { metric_type: "price", symbol: "btceur" },
      ],
    });
    setNow(T0 + 24 * 60 * MINUTE); // the T0 points are exactly 24 h old: gone
    expect((await getJson("/metric_types/price/metrics")).body).toEqual({ metrics: [{ metric_type: "price", symbol: "btceur" }] });
  });

  it("GET .../history is every point of the last 24 h, ascending, keyed by ISO time", async () => {
    const { body } = await getJson("/metric_types/price/metrics/btceur/history");
    expect(Object.entries(body.history)).toEqual([
      ["2026-11-29T12:00:00.000Z", 50000],
      ["2026-11-29T12:01:00.000Z", 50100],
    ]);
  });

  it("GET .../{symbol} adds the latest value and its time; upper case is read as lower case", async () => {
    expect((await getJson("/metric_types/price/metrics/BTCEUR")).body).toEqual({
      metric_type: "price",
      symbol: "btceur",
      // 24 h figures over 50000 (12:00) and 50100 (12:01): +0.2 %.
      latest: { time: "2026-11-29T12:01:00.000Z", value: 50100, change_24h: 0.002, min_24h: 50000, max_24h: 50100 },
    });
  });

  it("GET .../rank and /ranking", async () => {
    // btceur: 50000, 50100 -> std 50; adausd: one point -> 0.
    expect((await getJson("/metric_types/price/metrics/btceur/rank")).body).toEqual({ rank: 1, total: 2 });
    expect((await getJson("/metric_types/price/metrics/adausd/rank")).body).toEqual({ rank: 2, total: 2 });
    expect((await getJson("/metric_types/price/ranking")).body).toEqual({
      metric_type: "price",
      total: 2,
      ranking: [
        { rank: 1, symbol: "btceur", stddev: 50 },
        { rank: 2, symbol: "adausd", stddev: 0 },
      ],
    });
  });

  it("GET / tells the last tick", async () => {
    expect((await getJson("/")).body).toMatchObject({
      status: "ok",
      last_tick: "2026-11-29T12:01:00.000Z",
      last_tick_age_seconds: 13,
    });
  });

  describe("errors are JSON with the right status, never a 500", () => {
    it.each([
      ["/metric_types/foo", 404, 'Metric type "foo" does not exist'],
      ["/metric_types/foo/metrics", 404, 'Metric type "foo" does not exist'],
      ["/metric_types/foo/metrics/btceur/history", 404, 'Metric type "foo" does not exist'],
      ["/metric_types/price/metrics/dogeeur", 404, 'Metric "dogeeur" of type "price" does not exist'],
      ["/metric_types/price/metrics/dogeeur/history", 404, '"dogeeur"'],
      ["/metric_types/price/metrics/dogeeur/rank", 404, '"dogeeur"'],
      ["/metric_types/volume/metrics/btceur", 404, '"btceur" of type "volume"'],
      ["/nope", 404, "Not found: /nope"],
      ["/metric_types/price/metrics/btceur/nope", 404, "Not found"],
      ["/metric_types/price/metrics/btc%20eur", 400, "Malformed symbol"],
      ["/metric_types/price/metrics/%E0%A4%A", 400, "Malformed symbol in the path"],
      ["/metric_types/%ZZ", 400, "Malformed metric type"],
      [`/metric_types/price/metrics/${"a".repeat(65)}`, 400, "Malformed symbol"],
      ["/metric_types/price/metrics/%3Cscript%3E/history", 400, "Malformed symbol"],
    ])("GET %s -> %i", async (path, status, message) => {
      const response = await get(path);
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      const body = (await response.json()) as { status: number; error: string };
      expect(body.status).toBe(status);
      expect(body.error).toContain(message);
    });

    it("other methods get a 405", async () => {
      const response = await request("/metric_types", { method: "POST", body: "{}" });
      expect(response.status).toBe(405);
      expect(await response.json()).toEqual({ status: 405, error: "Method POST is not allowed: the API is read-only (GET)" });
    });

    it("a database failure is a JSON 503, logged", async () => {
      vi.spyOn(env.DB, "withSession").mockImplementation(() => {
        throw new Error("D1_ERROR: Network connection lost.");
      });
      const error = vi.spyOn(console, "error").mockImplementation(() => {});
      const response = await request("/metric_types");
      expect(response.status).toBe(503);
      expect(((await response.json()) as { error: string }).error).toMatch(/temporarily unavailable/);
      expect(response.headers.get("retry-after")).toBe("10");
      expect(error).toHaveBeenCalledWith(expect.objectContaining({ msg: "request failed", url: "http://tracker.test/metric_types" }));
    });
  });

  describe("HTTP behaviour", () => {
    it("allows cross-origin GET and answers preflights", async () => {
      const response = await get("/metric_types", { origin: "https://example.com" });
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
      const preflight = await request("/metric_types", {
        method: "OPTIONS",
        headers: { origin: "https://example.com", "access-control-request-method": "GET" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-methods")).toContain("GET");
    });

    it("every GET may be kept but must be revalidated with its ETag before reuse", async () => {
      // A max-age to the next minute would let a client reuse an answer computed
      // at 12:05:03, before the 12:05 tick landed, until 12:06:00.
      const response = await get("/metric_types/price/metrics");
      expect(response.headers.get("cache-control")).toBe("public, no-cache");
      expect(response.headers.get("etag")).toMatch(/^W\/".+"$/);
      const notFound = await get("/metric_types/price/metrics/zzz");
      expect(notFound.headers.get("cache-control")).toBe("no-store");
    });

    it("answers If-None-Match with 304 until a tick or the minute changes", async () => {
      const first = await get("/metric_types/price/metrics/btceur/history");
      const etag = first.headers.get("etag")!;
      const again = await get("/metric_types/price/metrics/btceur/history", { "if-none-match": etag });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("etag")).toBe(etag);
      expect(again.headers.get("cache-control")).toBe("public, no-cache");

      // A new tick changes the data, so the ETag.
      await insertTick(env.DB, { ts: T0 + 2 * MINUTE, storedAt: T0, markets: 1, points: [{ metric_type: "price", symbol: "btceur", value: 1 }] });
      const afterTick = await get("/metric_types/price/metrics/btceur/history", { "if-none-match": etag });
      expect(afterTick.status).toBe(200);

      // So does the next minute: the 24 h window moved.
      const current = afterTick.headers.get("etag")!;
      setNow(T0 + 3 * MINUTE);
      expect((await get("/metric_types/price/metrics/btceur/history", { "if-none-match": current })).status).toBe(200);
    });

    it("answers HEAD like GET, without a body", async () => {
      const response = await request("/metric_types", { method: "HEAD" });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await response.text()).toBe("");
    });

    it("serves a repeated read of the same data and minute from the edge cache", async () => {
      const ranking = () => getJson("/metric_types/price/ranking");
      const first = await ranking();
      expect(first.body.ranking[0]).toEqual({ rank: 1, symbol: "btceur", stddev: 50 });
      // Change the points behind the tracker's back (no version bump): a
      // cached answer cannot see it; a computed one would.
      await scaleBehindTheBack(10);
      const again = await ranking();
      expect(again.body).toEqual(first.body);
      expect(again.response.headers.get("access-control-allow-origin")).toBe("*");
      expect(again.response.headers.get("etag")).toBe(first.response.headers.get("etag"));

      // A tick bumps the version: the next answer is computed afresh.
      await insertTick(env.DB, { ts: T0 + 2 * MINUTE, storedAt: T0, markets: 1, points: [{ metric_type: "price", symbol: "btceur", value: 501000 }] });
      const fresh = await ranking();
      // btceur in the window (the new tick is a minute ahead): 500000, 501000: std 500.
      expect(fresh.body.ranking[0]).toEqual({ rank: 1, symbol: "btceur", stddev: 500 });
      // So does the next minute, with the same data: 50000, 50100, 50100 now.
      await scaleBehindTheBack(0.1);
      setNow(T0 + 2 * MINUTE + 10_000);
      expect((await ranking()).body.ranking[0].stddev).toBeCloseTo(47.14045207910317, 9);
    });

    it("reads through a D1 session so read replicas can serve it", async () => {
      const session = vi.spyOn(env.DB, "withSession");
      await get("/metric_types/price/metrics");
      expect(session).toHaveBeenCalledWith("first-unconstrained");
    });
  });
});

describe("the HTTP edge", () => {
  describe("the edge-cache key is the route's canonical URL", () => {
    it("ignores query parameters the route does not read, and the symbol's case", async () => {
      const ranking = (query: string) => getJson(`/metric_types/price/ranking${query}`);
      const first = await ranking("?r=1");
      expect(first.body.ranking[0]).toEqual({ rank: 1, symbol: "btceur", stddev: 50 });
      // Behind the tracker's back (no version bump): only a computed answer sees it.
      await scaleBehindTheBack(10);
      expect((await ranking("?r=2")).body).toEqual(first.body);
      expect((await ranking("")).body).toEqual(first.body);
      expect((await ranking("?r=3&utm_source=x")).body).toEqual(first.body);

      const history = await getJson("/metric_types/price/metrics/btceur/history?r=1");
      await scaleBehindTheBack(10);
      expect((await getJson("/metric_types/price/metrics/BTCEUR/history?r=2")).body).toEqual(history.body);
      // A path the cache has not seen is computed: it sees the changed points.
      expect((await getJson("/metric_types/price/metrics/btceur/rank?r=1")).body).toEqual({ rank: 1, total: 2 });
      expect((await getJson("/metric_types/price/latest")).body.latest[0].value).toBeCloseTo(1.1122 * 100, 9);
    });

    it("canonicalises the parameters a route reads: order, defaults, spelling; other values get their own entry", async () => {
      // A probe route on the production stages, which counts its computations.
      let computed = 0;
      const probe = Router<IRequest, ApiArgs>({ catch: renderError, finally: [json, apiHeaders, toEdgeCache] }).get(
        ...endpoint({ path: "/probe/:symbol", query: ["since", "limit"], freshness: "tick", edgeCache: true }, (_, { symbol, since, limit }) => ({
          symbol,
          since,
          limit,
          computation: ++computed,
        })),
      );
      const ask = async (path: string) => {
        const ctx = createExecutionContext();
        const response = await probe.fetch(new Request(`http://tracker.test${path}`), env, ctx);
        await waitOnExecutionContext(ctx); // the cache put
        return (await response.json()) as { symbol: string; since?: number; limit: number; computation: number };
      };
      expect(await ask("/probe/abc?limit=5&since=7")).toEqual({ symbol: "abc", since: 7, limit: 5, computation: 1 });
      for (const same of ["/probe/ABC?since=7&limit=5", "/probe/abc?r=1&limit=05&since=7", "/probe/%61bc?since=0007&limit=5&x=y"]) {
        expect((await ask(same)).computation, same).toBe(1);
      }
      // The default limit (100) is the same answer whether written or not.
      expect((await ask("/probe/abc?since=7")).computation).toBe(2);
      expect((await ask("/probe/abc?since=7&limit=100&r=2")).computation).toBe(2);
      // A value the route reads varies the entry.
      expect((await ask("/probe/abc?limit=6&since=7")).computation).toBe(3);
      expect((await ask("/probe/abc?limit=5&since=8")).computation).toBe(4);
      expect((await ask("/probe/abd?limit=5&since=7")).computation).toBe(5);
      expect((await ask("/probe/abc?limit=5")).computation).toBe(6);
      // ... and so does the data: a tick is a new entry.
      await insertTick(env.DB, { ts: T0 + 2 * MINUTE, storedAt: T0, markets: 1, points: [{ metric_type: "price", symbol: "btceur", value: 1 }] });
      expect((await ask("/probe/abc?limit=5&since=7")).computation).toBe(7);
    });
  });

  it("a conditional request to an unknown path, type or metric, or with a malformed symbol, is answered as without one", async () => {
    const etag = (await get("/metric_types/price/ranking")).headers.get("etag")!;
    for (const ifNoneMatch of ["*", etag, `W/"x", ${etag}`]) {
      const cases: [string, number][] = [
        ["/nope", 404],
        ["/metric_types/price/metrics/btceur/nope", 404],
        ["/metric_types/foo/ranking", 404],
        ["/metric_types/price/metrics/b%20c", 400],
        ["/metric_types/price/metrics/%E0%A4%A/history", 400],
        [`/metric_types/price/metrics/${"a".repeat(65)}/rank`, 400],
      ];
      for (const [path, status] of cases) {
        const response = await get(path, { "if-none-match": ifNoneMatch });
        expect(response.status, `${path} ${ifNoneMatch}`).toBe(status);
        expect(((await response.json()) as { status: number }).status).toBe(status);
      }
    }
    // `*` asks whether the resource exists: a metric without points does not.
    expect((await get("/metric_types/price/metrics/dogeeur", { "if-none-match": "*" })).status).toBe(404);
    expect((await get("/metric_types/price/metrics/btceur", { "if-none-match": "*" })).status).toBe(304);
    expect((await get("/metric_types/price/metrics/btceur", { "if-none-match": etag })).status).toBe(304);
    expect((await get("/metric_types/price/metrics/btceur", { "if-none-match": 'W/"other"' })).status).toBe(200);
  });

  it("/openapi.json answers without D1, with its own validator", async () => {
    const withSession = vi.spyOn(env.DB, "withSession").mockImplementation(() => {
      throw new Error("D1_ERROR: Network connection lost.");
    });
    const first = await get("/openapi.json");
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("public, no-cache");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{8}"$/);
    expect((await get("/openapi.json", { "if-none-match": etag })).status).toBe(304);
    expect(withSession).not.toHaveBeenCalled();
    // ... while the reads that need D1 are a 503 with Retry-After.
    vi.spyOn(console, "error").mockImplementation(() => {});
    const down = await get("/metric_types/price/ranking");
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("10");
    expect(down.headers.get("cache-control")).toBe("no-store");
  });

  it("every answer is nosniff and exposes its ETag to cross-origin scripts, cached or not", async () => {
    const origin = { origin: "https://example.com" };
    for (const path of ["/metric_types/price/ranking", "/metric_types/price/ranking", "/alerts", "/nope", "/metric_types/price/metrics/b%20c"]) {
      const response = await get(path, origin);
      expect(response.headers.get("x-content-type-options"), path).toBe("nosniff");
      expect(response.headers.get("access-control-allow-origin"), path).toBe("*");
      expect(response.headers.get("access-control-expose-headers"), path).toMatch(/\bETag\b/);
    }
    const etag = (await get("/metric_types")).headers.get("etag")!;
    const notModified = await get("/metric_types", { ...origin, "if-none-match": etag });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("access-control-expose-headers")).toMatch(/\bETag\b/);
  });
});
