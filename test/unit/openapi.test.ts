import { exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openApiDocument } from "../../src/api/openapi";
import { router } from "../../src/api/router";
import { fakeCryptowatch, get, getJson, jsonResponse, MINUTE, request, resetDatabase, runCron, setNow, summariesBody, T0 } from "./helpers";
import { checkAgainstOpenApi, document, documentedPath, examples, schemaErrors } from "./openapi-check";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const routed = () =>
  router.routes
    .filter(([method]) => method === "GET")
    .map(([, , , path]) => (path || "/").replace(/:([a-z_]+)/g, "{$1}"))
    .sort();

describe("the OpenAPI document", () => {
  it("is served at /openapi.json as written in src/api/openapi.ts", async () => {
    const { status, body, response } = await getJson("/openapi.json");
    expect(status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
    expect(body.openapi).toBe("3.1.0");
  });

  it("documents exactly the routes of the router", () => {
    expect(Object.keys(document.paths).sort()).toEqual(routed());
    expect(routed()).toContain("/metric_types/{metric_type}/metrics/{symbol}/history");
  });

  it("documents every path parameter it uses, and uses every one it declares", () => {
    for (const [template, item] of Object.entries<any>(document.paths)) {
      const inPath = [...template.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const declared = (item.parameters ?? []).map((p: any) => (p.$ref ? p.$ref.split("/").pop() : p.name)).sort();
      expect(declared, template).toEqual(inPath);
    }
  });

  it("has examples (bodies, parameters, headers) that are valid against their own schemas", () => {
    const all = examples();
    expect(all.length).toBeGreaterThan(15);
    for (const { where, schema, example } of all) expect(schemaErrors(example, schema), where).toEqual([]);
    // ... and the check can fail: a wrong example would be reported.
    expect(schemaErrors({ rank: 0, total: 1 }, document.components.schemas.Rank)).not.toEqual([]);
  });

  describe("the response checker fails when the code and the document disagree", () => {
    const ok = { "content-type": "application/json", "cache-control": "public, no-cache", etag: 'W/"1-2"', "access-control-allow-origin": "*" };
    const check = (path: string, status: number, body: unknown, headers: Record<string, string> = ok) =>
      checkAgainstOpenApi(new Request(`http://tracker.test${path}`), new Response(JSON.stringify(body), { status, headers }));

    it("accepts a documented answer", async () => {
      await expect(check("/metric_types/volume/metrics/btc/rank", 200, { rank: 1, total: 6 })).resolves.toBeUndefined();
    });
    it("rejects a body of the wrong shape", async () => {
      await expect(check("/metric_types/volume/metrics/btc/rank", 200, { rank: "1", total: 6 })).rejects.toThrow(/rank/);
      await expect(check("/metric_types/volume/metrics/btc/rank", 200, { rank: 1, total: 6, extra: 1 })).rejects.toThrow(/extra/);
      await expect(check("/metric_types/price/metrics/btceur/history", 200, { history: { "2026-11-29T12:00:30Z": 1 } })).rejects.toThrow(
        /history/,
      );
    });
    it("rejects an undocumented status or path", async () => {
      await expect(check("/metric_types", 404, { status: 404, error: "x" })).rejects.toThrow(/not documented to answer 404/);
      await expect(check("/nowhere", 200, { status: "ok" })).rejects.toThrow(/not documented/);
    });
    it("rejects a missing or malformed cache header", async () => {
      const { etag: _, ...noEtag } = ok;
      await expect(check("/health", 200, { status: "ok" }, noEtag)).rejects.toThrow(/ETag is missing/);
      await expect(check("/health", 200, { status: "ok" }, { ...ok, "cache-control": "public, max-age=30" })).rejects.toThrow(/Cache-Control/);
    });
    it("rejects an error body on a 404", async () => {
      await expect(check("/metric_types/foo", 404, { error: "x" })).rejects.toThrow(/status/);
    });
  });

  it("every documented path matches its own template", () => {
    for (const template of Object.keys(document.paths)) {
      const concrete = template.replace("{metric_type}", "price").replace("{symbol}", "btceur");
      expect(documentedPath(concrete)).toBe(template);
    }
  });
});

describe("every documented answer, received through the checking helper", () => {
  beforeEach(async () => {
    fakeCryptowatch();
    await runCron(T0);
    setNow(T0 + 30_000);
  });

  it("200 on every path", async () => {
    for (const template of Object.keys(document.paths)) {
      const path = template.replace("{metric_type}", "price").replace("{symbol}", "btceur");
      expect((await get(path)).status, path).toBe(200);
    }
  });

  it("404 for an unknown metric type on every path that takes one, and for unknown symbols and paths", async () => {
    for (const template of Object.keys(document.paths).filter((t) => t.includes("{metric_type}"))) {
      const path = template.replace("{metric_type}", "foo").replace("{symbol}", "btceur");
      const { status, body } = await getJson(path);
      expect(status, path).toBe(404);
      expect(body.error).toBe('Metric type "foo" does not exist');
    }
    expect((await getJson("/metric_types/price/metrics/nosuch/rank")).status).toBe(404);
    expect((await getJson("/no/such/path")).status).toBe(404);
  });

  it("400 for a malformed symbol, 405 for a write, 304 on a matching ETag, HEAD without a body", async () => {
    expect((await getJson("/metric_types/price/metrics/b%20c")).status).toBe(400);
    expect((await getJson("/metric_types/price/metrics/%E0%A4%A/history")).status).toBe(400);
    expect((await request("/metric_types", { method: "POST", body: "{}" })).status).toBe(405);
    expect((await request("/metric_types/price/metrics", { method: "DELETE" })).status).toBe(405);

    const first = await get("/metric_types/price/ranking");
    const etag = first.headers.get("etag")!;
    const again = await get("/metric_types/price/ranking", { "if-none-match": etag });
    expect(again.status).toBe(304);

    const head = await request("/metric_types/price/latest", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("a request outside the helper is caught too: the checker sees what exports.default.fetch answers", async () => {
    const raw = await exports.default.fetch(new Request("http://tracker.test/metric_types/volume/metrics/btc"));
    await expect(checkAgainstOpenApi(new Request("http://tracker.test/metric_types/volume/metrics/btc"), raw)).resolves.toBeUndefined();
  });
});

describe("GET /metric_types/{metric_type}/latest", () => {
  it("lists the newest point of each metric with a point in the window, by symbol", async () => {
    const upstream = fakeCryptowatch({ summaries: () => jsonResponse(summariesBody({ "kraken:btceur": [100, 1, 100], "kraken:ethbtc": [0.05, 2, 0.1] })) });
    await runCron(T0);
    upstream.summaries = () => jsonResponse(summariesBody({ "kraken:btceur": [102, 1, 102] }));
    await runCron(T0 + MINUTE);
    setNow(T0 + MINUTE + 5_000);
    expect((await getJson("/metric_types/price/latest")).body).toEqual({
      metric_type: "price",
      latest: [
        { symbol: "btceur", time: "2026-11-29T12:01:00.000Z", value: 102 },
        { symbol: "ethbtc", time: "2026-11-29T12:00:00.000Z", value: 0.05 },
      ],
    });
    // btc: 1 (btceur base, 12:01) ; eur: 102 (quote) ; eth only at 12:00
    expect((await getJson("/metric_types/volume/latest")).body.latest).toEqual([
      { symbol: "btc", time: "2026-11-29T12:01:00.000Z", value: 1 },
      { symbol: "eth", time: "2026-11-29T12:00:00.000Z", value: 2 },
      { symbol: "eur", time: "2026-11-29T12:01:00.000Z", value: 102 },
    ]);

    // 24 h after the first tick, ethbtc (no newer point) has left the window.
    setNow(T0 + 24 * 60 * MINUTE);
    expect((await getJson("/metric_types/price/latest")).body.latest).toEqual([
      { symbol: "btceur", time: "2026-11-29T12:01:00.000Z", value: 102 },
    ]);
    // ... and the point at 12:01 is what counts for btceur, not a newer one outside the window.
    setNow(T0 + 30_000);
    expect((await getJson("/metric_types/price/latest")).body.latest[0]).toEqual({
      symbol: "btceur",
      time: "2026-11-29T12:00:00.000Z",
      value: 100,
    });
  });

  it("is empty before the first tick", async () => {
    expect((await getJson("/metric_types/volume/latest")).body).toEqual({ metric_type: "volume", latest: [] });
  });
});
