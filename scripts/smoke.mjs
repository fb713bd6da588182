#!/usr/bin/env node
/**
 * `npm run smoke -- <url>`: is a deployed tracker healthy? Checks, one line each:
 *
 *   health        /health answers "ok" with a tick stored in the last 3 minutes
 *   shapes        every path of the tracker's own /openapi.json answers 200 with
 *                 its documented shape (headers and body), path parameters filled
 *                 with a real metric type and symbol
 *   headers       nosniff, ETag, Cache-Control and CORS on the JSON answers; a
 *                 Content-Security-Policy and nosniff on the pages
 *   conditional   If-None-Match with the ETag just received answers 304
 *   edge cache    a second request of the same minute is a cache HIT
 *                 (a warning on *.workers.dev, where the Cache API does nothing)
 *   browser       the dashboard and /docs load without a console error
 *                 (when Chromium is there: CHROMIUM_PATH, default /usr/bin/chromium)
 *
 * Exit status 1 when a check fails (warnings do not), 2 on a bad argument.
 * Shapes are checked by test/unit/openapi-check.ts, the same checker the tests
 * use, bundled here with esbuild against the document the tracker serves.
 */
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const MAX_TICK_AGE_SECONDS = 180;
const REQUEST_TIMEOUT_MS = 20_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const arg = process.argv[2];
let base;
try {
  base = new URL(arg);
  if (!/^https?:$/.test(base.protocol)) throw new Error("not http(s)");
} catch {
  console.error("usage: npm run smoke -- <url of the tracker, e.g. https://tracker.example.com>");
  process.exit(2);
}
const origin = base.origin;

const results = [];
function report(level, name, detail) {
  results.push(level);
  const mark = { ok: "ok  ", warn: "warn", fail: "FAIL" }[level];
  console.log(`${mark}  ${name}${detail ? `: ${detail}` : ""}`);
}

/** GET (or another request) with a timeout; never throws for an HTTP status. */
async function get(path, headers = {}) {
  const request = new Request(new URL(path, origin), { headers });
  const response = await fetch(request.clone(), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), redirect: "manual" });
  return { request, response };
}

/** Runs one check; an exception is that check's failure, not the run's end. */
async function check(name, body) {
  try {
    const outcome = await body();
    if (typeof outcome === "string") report("ok", name, outcome);
    else report(outcome.level, name, outcome.detail);
  } catch (err) {
    report("fail", name, (err?.cause?.message ?? err?.message ?? String(err)).replace(/\n\s*/g, "; "));
  }
}

/** The response checker of the tests, bound to `document` (the tracker's /openapi.json). */
async function openApiChecker(document) {
  const entry = fileURLToPath(new URL("../test/unit/openapi-check.ts", import.meta.url));
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "silent",
    plugins: [
      {
        name: "served-document",
        setup(esbuild) {
          // openapi-check.ts imports the document from the source; use the served one.
          esbuild.onResolve({ filter: /\/src\/api\/openapi$/ }, () => ({ path: "served", namespace: "smoke" }));
          esbuild.onLoad({ filter: /.*/, namespace: "smoke" }, () => ({
            contents: "export const openApiDocument = globalThis.smokeOpenApiDocument;",
            loader: "js",
          }));
        },
      },
    ],
  });
  globalThis.smokeOpenApiDocument = document;
  const code = bundle.outputFiles[0].text;
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

const json = async (path) => {
  const { response } = await get(path);
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  return response.json();
};

console.log(`smoke check of ${origin}`);

// health
await check("health: /health fresh", async () => {
  const body = await json("/health");
  const age = body.last_tick_age_seconds;
  if (age === null || age === undefined) throw new Error(`no tick stored yet (status ${body.status})`);
  if (age > MAX_TICK_AGE_SECONDS) throw new Error(`the last tick (${body.last_tick}) was stored ${age} s ago, more than ${MAX_TICK_AGE_SECONDS} s: ticks have stopped`);
  if (body.status !== "ok") throw new Error(`status ${body.status}: ${body.reason}`);
  return `last tick ${body.last_tick}, ${age} s ago`;
});

// shapes
let document;
let checker;
let metricType;
let symbol;
await check("shapes: /openapi.json", async () => {
  document = await json("/openapi.json");
  checker = await openApiChecker(document);
  return `${Object.keys(document.paths ?? {}).length} paths documented`;
});
await check("shapes: a metric to fill path parameters", async () => {
  metricType = (await json("/metric_types")).metric_types?.[0]?.metric_type;
  if (!metricType) throw new Error("/metric_types lists none");
  symbol = (await json(`/metric_types/${metricType}/metrics`)).metrics?.[0]?.symbol;
  if (!symbol) throw new Error(`/metric_types/${metricType}/metrics lists none: no tick stored in the last 24 h`);
  return `${metricType}/${symbol}`;
});
const pathOf = (template) => template.replace("{metric_type}", metricType).replace("{symbol}", symbol);
for (const template of document && checker && symbol ? Object.keys(document.paths) : []) {
  await check(`shapes: GET ${template}`, async () => {
    const { request, response } = await get(pathOf(template));
    await checker.checkAgainstOpenApi(request, response);
    if (response.status !== 200) throw new Error(`answered ${response.status} (documented, but not healthy): ${(await response.text()).slice(0, 200)}`);
    return `200, as documented`;
  });
}

// headers
const reference = symbol ? `/metric_types/${metricType}/metrics` : "/metric_types";
await check(`headers: JSON (${reference})`, async () => {
  const { response } = await get(reference, { origin: "https://elsewhere.example" });
  const h = response.headers;
  const missing = [];
  if (h.get("x-content-type-options") !== "nosniff") missing.push("X-Content-Type-Options: nosniff");
  if (!h.get("etag")) missing.push("ETag");
  if (!/no-cache/.test(h.get("cache-control") ?? "")) missing.push("Cache-Control: ... no-cache");
  if (h.get("access-control-allow-origin") !== "*") missing.push("Access-Control-Allow-Origin: *");
  if (!/etag/i.test(h.get("access-control-expose-headers") ?? "")) missing.push("Access-Control-Expose-Headers: ETag");
  if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}`);
  return `nosniff, ETag ${h.get("etag")}, Cache-Control ${h.get("cache-control")}, CORS`;
});
for (const [path, accept] of [["/", "text/html"], ["/dashboard", "text/html"], ["/docs", "text/html"]]) {
  await check(`headers: page ${path}`, async () => {
    const { response } = await get(path, { accept });
    if (response.status !== 200) throw new Error(`answered ${response.status}`);
    const h = response.headers;
    const missing = [];
    if (!/html/.test(h.get("content-type") ?? "")) missing.push(`an HTML content-type (got ${h.get("content-type")})`);
    if (!/script-src 'self'/.test(h.get("content-security-policy") ?? "")) missing.push("Content-Security-Policy with script-src 'self'");
    if (h.get("x-content-type-options") !== "nosniff") missing.push("X-Content-Type-Options: nosniff");
    if (missing.length > 0) throw new Error(`missing ${missing.join(", ")}`);
    return "CSP, nosniff";
  });
}

// conditional requests
for (const path of [reference, "/openapi.json"]) {
  await check(`conditional: ${path} with If-None-Match`, async () => {
    // The ETag names the minute: retry once if a minute turned between the two requests.
    for (let attempt = 1; ; attempt++) {
      const { response: first } = await get(path);
      const etag = first.headers.get("etag");
      if (!etag) throw new Error("no ETag");
      const { response: second } = await get(path, { "if-none-match": etag });
      if (second.status === 304) return `304 for ${etag}`;
      if (attempt === 2) throw new Error(`answered ${second.status} to If-None-Match: ${etag}`);
    }
  });
}

// edge cache
await check(`edge cache: ${reference} twice`, async () => {
  for (let attempt = 1; ; attempt++) {
    await (await get(reference)).response.arrayBuffer();
    const { response } = await get(reference);
    const status = response.headers.get("cf-cache-status");
    if (status === "HIT") return "HIT on the second request";
    if (base.hostname.endsWith(".workers.dev")) {
      return { level: "warn", detail: `no cache hit (${status ?? "no CF-Cache-Status"}): the Cache API does nothing on *.workers.dev; serve the tracker on a custom domain (README, "Deploy")` };
    }
    // A new minute (or tick) between the two requests changes the key: try again once.
    if (attempt === 2) throw new Error(`the second request was not a cache hit (CF-Cache-Status: ${status ?? "absent"})`);
  }
});

// browser
if (!existsSync(CHROMIUM)) {
  report("warn", "browser", `skipped: no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
} else {
  let browser;
  await check("browser: Chromium", async () => {
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    return browser.version();
  });
  for (const [path, ready] of browser ? [["/dashboard", "body[data-ready=true]"], ["/docs", ".opblock"]] : []) {
    await check(`browser: ${path} loads without a console error`, async () => {
      const page = await browser.newPage();
      const errors = [];
      page.on("pageerror", (err) => errors.push(err.message));
      page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
      try {
        const response = await page.goto(new URL(path, origin).toString());
        if (response?.status() !== 200) throw new Error(`answered ${response?.status()}`);
        if (!/html/.test(response.headers()["content-type"] ?? "")) throw new Error(`not HTML: ${response.headers()["content-type"]}`);
        await page.waitForSelector(ready, { timeout: 30_000 });
        if (errors.length > 0) throw new Error(errors.join("; "));
        return "rendered";
      } finally {
        await page.close();
      }
    });
  }
  await browser?.close();
}

const failed = results.filter((level) => level === "fail").length;
const warned = results.filter((level) => level === "warn").length;
console.log(`${failed === 0 ? "healthy" : "NOT HEALTHY"}: ${results.length - failed - warned} passed, ${failed} failed, ${warned} warnings`);
process.exit(failed === 0 ? 0 : 1);
