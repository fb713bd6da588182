import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { insertTick } from "../../src/storage/ticks";
import { random, resetDatabase, T0 } from "./helpers";

const pieces = [
  "metric_types", "price", "volume", "metrics", "btceur", "history", "rank", "ranking", "latest", "alerts",
  "sources", "health", "openapi.json", "docs", "", "..", ".", "%", "%2F", "%00", "%E2%82%AC", "%ZZ", "BTCEUR",
  "a".repeat(300), "'; DROP TABLE points; --", "<script>", "null", "undefined", "__proto__", "constructor",
  "%20", "+", "*", "?limit=-1", "?since=yesterday", "?metric_type=", "?symbol=%00", "#frag", "🙂",
];

beforeAll(async () => {
  await resetDatabase();
  await insertTick(env.DB, { ts: T0, storedAt: T0, markets: 1, points: [{ metric_type: "price", symbol: "btceur", value: 1 }] });
  // One minute throughout: the ETags (data + minute) stay current between a request and its conditional repeat.
  vi.spyOn(Date, "now").mockReturnValue(T0 + 30_000);
});

describe("no request gets a 500 or an HTML error page", () => {
  it("answers 2,000 generated paths and methods with JSON below 500", async () => {
    const next = random(2026);
    const methods = ["GET", "GET", "GET", "HEAD", "OPTIONS", "POST", "DELETE"];
    const statuses = new Set<number>();
    const conditionals = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const depth = 1 + Math.floor(next() * 6);
      const path = Array.from({ length: depth }, () => pieces[Math.floor(next() * pieces.length)]).join("/");
      const method = methods[Math.floor(next() * methods.length)]!;
      let url: string;
      try {
        url = new URL(`http://tracker.test/${path}`).toString();
      } catch {
        continue;
      }
      const response = await exports.default.fetch(new Request(url, { method, headers: { accept: next() < 0.5 ? "application/json" : "*/*" } }));
      const body = await response.text();
      expect(response.status, `${method} ${url}`).toBeLessThan(500);
      statuses.add(response.status);
      if (response.status >= 400) {
        expect(response.headers.get("content-type"), `${method} ${url}`).toMatch(/^application\/json/);
        if (method !== "HEAD") expect(JSON.parse(body).status, `${method} ${url}`).toBe(response.status);
      }
      // The same request made conditional: a 304 only where there is a current answer with a validator.
      if (next() < 0.3) {
        const etag = response.headers.get("etag");
        const ifNoneMatch = next() < 0.5 || etag === null ? "*" : etag;
        const conditional = await exports.default.fetch(new Request(url, { method, headers: { "if-none-match": ifNoneMatch } }));
        await conditional.arrayBuffer();
        const expected = response.status === 200 && etag !== null ? 304 : response.status;
        expect(conditional.status, `${method} ${url} If-None-Match: ${ifNoneMatch}`).toBe(expected);
        conditionals.add(conditional.status);
      }
    }
    // ... which reached both answers.
    expect([...conditionals]).toEqual(expect.arrayContaining([304, 400, 404]));
    // The generator reached real routes as well as errors.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 204, 400, 404, 405]));
  });
});
