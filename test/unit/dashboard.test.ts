import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PAGE_HEADERS, prefersHtml } from "../../src/api/dashboard";
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

describe("the pages' security headers", () => {
  const expectPageHeaders = (response: Response, what: string) => {
    for (const [name, value] of Object.entries(PAGE_HEADERS)) expect(response.headers.get(name), `${what}: ${name}`).toBe(value);
  };

  it("the Worker's dashboard at / carries them", async () => {
    fakeCryptowatch();
    await runCron(T0);
    const response = await get("/", { accept: BROWSER });
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expectPageHeaders(response, "/");
    expect(PAGE_HEADERS["Content-Security-Policy"]).toMatch(/script-src 'self';/);
    expect(PAGE_HEADERS["Content-Security-Policy"]).toMatch(/frame-ancestors 'none'/);
    expect(PAGE_HEADERS["Content-Security-Policy"]).not.toMatch(/unsafe|\*|https?:/);
  });

  it("public/_headers gives the static assets the same (the pages and what they load)", async () => {
    for (const path of ["/dashboard", "/docs", "/dashboard.html", "/docs.html", "/dashboard.js", "/docs.js", "/docs.css"]) {
      const response = await env.ASSETS.fetch(new Request(`http://tracker.test${path}`));
      expect(response.status, path).toBe(200);
      expectPageHeaders(response, path);
    }
  });

  it("the pages have no inline script, style or event handler, which the policy would block", async () => {
    for (const path of ["/dashboard", "/docs"]) {
      const page = await (await env.ASSETS.fetch(new Request(`http://tracker.test${path}`))).text();
      expect(page, path).toMatch(/<script src=/);
      expect(page.match(/<script(?![^>]*\bsrc=)[^>]*>/g), path).toBeNull();
      expect(page.match(/<style|\sstyle=|\son[a-z]+=|javascript:/gi), path).toBeNull();
    }
  });
});
