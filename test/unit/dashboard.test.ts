import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { prefersHtml } from "../../src/api/dashboard";
import { fakeCryptowatch, get, request, resetDatabase, runCron, setNow, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

// What Chromium and Firefox send for a page load.
const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

describe("content negotiation on /", () => {
  beforeEach(async () => {
    fakeCryptowatch();
    await runCron(T0);
    setNow(T0 + 30_000);
  });

  it("a browser gets the dashboard page", async () => {
    for (const accept of [BROWSER, "text/html"]) {
      const response = await get("/", { accept });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("vary")).toMatch(/Accept/);
      const page = await response.text();
      expect(page).toContain("<title>Crypto Data Tracker</title>");
      expect(page).toContain('src="/dashboard.js"');
    }
  });

  it("a JSON client, curl (*/*) and a client sending no Accept get the status JSON", async () => {
    for (const accept of ["application/json", "*/*", "application/json, text/html;q=0.9", "text/html;q=0.5, */*", undefined]) {
      const response = await get("/", accept === undefined ? {} : { accept });
      expect(response.status, String(accept)).toBe(200);
      expect(response.headers.get("content-type"), String(accept)).toMatch(/^application\/json/);
      expect(response.headers.get("vary")).toMatch(/Accept/);
      expect(await response.json()).toMatchObject({ status: "ok", last_tick: "2026-11-29T12:00:00.000Z" });
    }
  });

  it("/health and every other path answer JSON even to a browser", async () => {
    const health = await get("/health", { accept: BROWSER });
    expect(health.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const missing = await get("/metric_types/nope", { accept: BROWSER });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it("HEAD / from a browser: the page's headers, no body", async () => {
    const response = await request("/", { method: "HEAD", headers: { accept: BROWSER } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await response.text()).toBe("");
  });

  it("falls back to the status JSON when the page is missing from the assets", async () => {
    vi.spyOn(env.ASSETS, "fetch").mockResolvedValue(new Response("Not found", { status: 404 }));
    const response = await get("/", { accept: BROWSER });
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });
});

describe("prefersHtml", () => {
  it.each([
    [BROWSER, true],
    ["text/html", true],
    ["text/html;q=0.9, application/json;q=0.8", true],
    ["application/json", false],
    ["*/*", false],
    ["application/json, text/html", false], // a tie keeps the API's JSON
    ["text/html;q=0", false],
    ["text/html;q=abc", false],
    ["", false],
    [null, false],
  ])("%s -> %s", (accept, expected) => {
    expect(prefersHtml(accept)).toBe(expected);
  });
});
