/**
 * The dashboard and /docs in a real browser: `npm start` against a local
 * Cryptowatch, with 23 h of history seeded into the local D1 first
 * (scripts/seed.mjs), and ticks triggered through /__scheduled.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cryptowatchInBrowser, launchChromium } from "./browser";
import { freePort, LIVE_SOURCES, startCryptowatch, startServer, startTracker, type LocalServer, type Tracker } from "./harness";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
interface RankingAnswer {
  metric_type: string;
  total: number;
  ranking: { rank: number; symbol: string; stddev: number }[];
}

const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;
/**
 * 23 h, not 24: no seeded point leaves the 24 h window in the next hour, so
 * history counts and the ranking stay put while minutes pass during the tests
 * (only the tests' own ticks change them), however slow the machine.
 */
const SEEDED_MINUTES = 23 * 60;
/** Waits for the page only catch a hang: they are no speed assertion. */
const PATIENCE = { timeout: 60_000 };

describe("the dashboard in Chromium", () => {
  let upstream: LocalServer;
  let tracker: Tracker;
  let browser: Browser;
  let state: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    upstream = await startCryptowatch();
    state = mkdtempSync(join(tmpdir(), "tracker-dashboard-"));
    // And 30 days of candles before them: the week, month, year and all ranges have history to draw.
    const seed = spawnSync("npm", ["run", "seed", "--", "--persist-to", state, "--minutes", String(SEEDED_MINUTES), "--days", "30"], {
      encoding: "utf8",
    });
    expect(seed.status, seed.stdout + seed.stderr).toBe(0);
    tracker = await startTracker({ persistTo: state, vars: { SOURCES: "cryptowatch", CRYPTOWATCH_API_URL: upstream.url } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await tracker?.stop();
    await upstream?.close();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  /** A fresh page on the tracker; records every request it makes and every uncaught error. */
  async function open(
    path: string,
    viewport = { width: 1400, height: 900 },
    prepare?: (page: Page) => Promise<unknown>,
  ): Promise<{ page: Page; requests: string[] }> {
    const page = await browser.newPage({ viewport });
    await prepare?.(page);
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    page.on("pageerror", (err) => pageErrors.push(`${path}: ${err.message}`));
    const response = await page.goto(`${tracker.url}${path}`);
    expect(response?.status()).toBe(200);
    await page.waitForSelector("body[data-ready=true]", PATIENCE);
    return { page, requests };
  }

  const chartLength = (page: Page) => page.evaluate(() => (window as any).trackerDashboard.chart?.data[0].length ?? 0);
  const historyCount = async (type: string, symbol: string) =>
    Object.keys((await tracker.get(`/metric_types/${type}/metrics/${symbol}/history`)).body.history).length;

  it("refreshes itself after a tick: new latest values, one more point on the chart", async () => {
    const { page } = await open("/?poll=1#/price/btcusd");
    const before = await historyCount("price", "btcusd");
    expect(before).toBe(SEEDED_MINUTES);
    expect(await chartLength(page)).toBe(before);
    const seeded = Number(await page.getAttribute('#metrics a[data-symbol="btcusd"]', "data-value"));
    expect(seeded).not.toBe(55000);

    await tracker.tick(); // the fixture: btcusd at 55000, this minute
    const { last_tick } = (await tracker.get("/")).body;
    await page.waitForFunction((tick) => document.querySelector("#status")?.getAttribute("data-last-tick") === tick, last_tick, PATIENCE);
    await page.waitForFunction(() => document.querySelector('#metrics a[data-symbol="btcusd"]')?.getAttribute("data-value") === "55000", null, PATIENCE);
    await page.waitForFunction((n) => (window as any).trackerDashboard.chart.data[0].length === n, await historyCount("price", "btcusd"), PATIENCE);
    expect(await page.evaluate(() => (window as any).trackerDashboard.chart.data[1].at(-1))).toBe(55000);

    // Source health, as /sources tells it after that tick.
    const sources = (await tracker.get("/sources")).body.sources as { source: string; status: string; markets: number }[];
    expect(sources.map((s) => [s.source, s.status])).toEqual([["cryptowatch", "ok"]]);
    await page.waitForSelector('#sources-table tr[data-source="cryptowatch"]', PATIENCE);
    expect(await page.isVisible("#sources-panel")).toBe(true);
    const row = await page.$$eval("#sources-table tbody tr", (rows) => rows.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent)));
    expect(row).toEqual([["cryptowatch", "ok", String(sources[0]!.markets), expect.stringMatching(/^\d+ ms$/), expect.stringMatching(/^\d\d:\d\d UTC$/)]]);
    expect(await page.textContent("#status")).toContain("sources 1/1 ok");
    await page.close();
  });

  it("lists the metrics of each type with their latest value, and searches them", async () => {
    const { page, requests } = await open("/");
    for (const type of ["price", "volume"]) {
      if (type === "volume") {
        await page.click("#types button:text('volume')");
        await page.waitForFunction(() => location.hash.startsWith("#/volume/"));
        await page.waitForFunction(() => document.querySelector("#metrics-count")?.textContent?.includes("volume"));
      }
      const api = (await tracker.get(`/metric_types/${type}/latest`)).body.latest as { symbol: string; value: number }[];
      expect(api.length).toBeGreaterThan(10);
      const shown = await page.$$eval("#metrics a", (links) => links.map((a) => ({ symbol: a.getAttribute("data-symbol"), value: Number(a.getAttribute("data-value")), text: a.textContent })));
      expect(shown.map(({ symbol, value }) => ({ symbol, value }))).toEqual(api.map(({ symbol, value }) => ({ symbol, value })));
      expect(shown.every((row) => row.text!.startsWith(row.symbol!))).toBe(true);
    }

    await page.fill("#search", "us");
    const filtered = await page.$$eval("#metrics a", (links) => links.map((a) => a.getAttribute("data-symbol")));
    const volumeSymbols = ((await tracker.get("/metric_types/volume/latest")).body.latest as { symbol: string }[]).map((r) => r.symbol);
    expect(filtered).toEqual(volumeSymbols.filter((symbol) => symbol.includes("us")));
    expect(filtered).toContain("usd");
    await page.press("#search", "Enter"); // opens the first match
    await page.waitForFunction((symbol) => location.hash === `#/volume/${symbol}`, filtered[0]);

    // Everything came from the Worker: no CDN, no other origin.
    expect(requests.filter((url) => !url.startsWith(tracker.url) && !url.startsWith("data:"))).toEqual([]);
    await page.close();
  });

  it("draws the chart with every point the API returns, with a value tooltip", async () => {
    const { page } = await open("/#/price/btceur");
    const expected = await historyCount("price", "btceur");
    const chart = await page.evaluate(() => {
      const u = (window as any).trackerDashboard.chart;
      return { xs: u.data[0].length, ys: u.data[1].length, idxs: u.series[1].idxs, label: u.series[1].label };
    });
    expect(chart).toEqual({ xs: expected, ys: expected, idxs: [0, expected - 1], label: "price btceur" });
    expect(await page.textContent("#chart-caption")).toBe(`${expected} points in the last 24 h`);

    // The line is drawn: the canvas has coloured pixels.
    const painted = await page.$eval("#chart canvas", (canvas: HTMLCanvasElement) => {
      const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 2]! > 150 && data[i]! < 100) count++; // the blue line
      return count;
    });
    expect(painted).toBeGreaterThan(500);

    // Hover: the tooltip shows the value of the point under the cursor.
    const box = (await page.locator("#chart .u-over").boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
    await page.waitForSelector("#tooltip:not([hidden])");
    const { tooltip, value } = await page.evaluate(() => {
      const u = (window as any).trackerDashboard.chart;
      return { tooltip: document.querySelector("#tooltip")!.textContent, value: u.data[1][u.cursor.idx] as number };
    });
    const shown = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 }).format(value);
    expect(tooltip).toContain(shown);
    expect(tooltip).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard.png") });
    await page.close();
  });

  it("shows the ranking of /ranking and /rank, sortable, with the chosen metric highlighted", async () => {
    const { page } = await open("/#/price/ethbtc");
    const ranking = (await tracker.get("/metric_types/price/ranking")).body.ranking as { rank: number; symbol: string; stddev: number }[];
    const table = () =>
      page.$$eval("#ranking tbody tr", (rows) =>
        rows.map((tr) => {
          const cells = tr.querySelectorAll("td");
          return { rank: Number(cells[0]!.textContent), symbol: cells[1]!.textContent!, stddev: Number(cells[2]!.getAttribute("title")) };
        }),
      );
    expect(await table()).toEqual(ranking);

    const selected = await page.$$eval("#ranking tr.selected", (rows) => rows.map((tr) => tr.getAttribute("data-symbol")));
    expect(selected).toEqual(["ethbtc"]);
    const rank = (await tracker.get("/metric_types/price/metrics/ethbtc/rank")).body;
    expect(await page.textContent("#ranking tr.selected td")).toBe(String(rank.rank));
    expect(await page.textContent("#selected-meta")).toContain(`volatility rank ${rank.rank} of ${rank.total}`);

    await page.click("#ranking th[data-key=stddev] button");
    expect(await page.getAttribute("#ranking th[data-key=stddev]", "aria-sort")).toBe("descending");
    const byStddev = [...ranking].sort((a, b) => b.stddev - a.stddev || b.symbol.localeCompare(a.symbol));
    expect((await table()).map((r) => r.stddev)).toEqual(byStddev.map((r) => r.stddev));
    await page.click("#ranking th[data-key=stddev] button");
    expect((await table()).map((r) => r.stddev)).toEqual(byStddev.map((r) => r.stddev).reverse());
    await page.click("#ranking th[data-key=symbol] button");
    expect((await table()).map((r) => r.symbol)).toEqual(ranking.map((r) => r.symbol).sort((a, b) => a.localeCompare(b)));
    expect(await page.$$eval("#ranking tr.selected", (rows) => rows.map((tr) => tr.getAttribute("data-symbol")))).toEqual(["ethbtc"]);

    // A click on a row opens that metric.
    await page.click('#ranking tr[data-symbol="adausd"]');
    await page.waitForFunction(() => document.querySelector("#selected")?.firstChild?.textContent === "adausd");
    expect(await page.$$eval("#ranking tr.selected", (rows) => rows.map((tr) => tr.getAttribute("data-symbol")))).toEqual(["adausd"]);
    await page.close();
  });

  it("opens the metric a deep link names", async () => {
    const { page } = await open("/#/volume/btc");
    expect(await page.textContent("#selected")).toBe("btcvolume");
    expect(await page.getAttribute("#types button:text('volume')", "aria-pressed")).toBe("true");
    expect(await page.$$eval('#metrics a[aria-current="true"]', (links) => links.map((a) => a.getAttribute("data-symbol")))).toEqual(["btc"]);
    expect(await chartLength(page)).toBe(await historyCount("volume", "btc"));

    // Upper case is read as lower case, like the API does; and the link is followed in place.
    await page.goto(`${tracker.url}/#/price/BTCEUR`);
    await page.waitForFunction(() => document.querySelector("#selected")?.firstChild?.textContent === "btceur");
    expect(await page.evaluate(() => (window as any).trackerDashboard.chart.series[1].label)).toBe("price btceur");
    await page.close();
  });

  it("shows the chosen metric's 24 h change as the API gives it, the same in the header and the list, whatever history the chart draws", async () => {
    // The chart's history covers the 24 h before the request, the API's change_24h the 24 h
    // ending at the latest tick. Here the history lacks its oldest point, as when it is asked
    // a minute after the tick: the header must still show the API's figure.
    const dropOldest = (page: Page) =>
      page.route("**/metric_types/price/metrics/btcusd/history", async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { history: Record<string, number> };
        delete body.history[Object.keys(body.history)[0]!];
        await route.fulfill({ response, json: body });
      });
    // Run alone, this test makes the tick the first test makes (it builds the 24 h figures).
    if ((await tracker.get("/metric_types/price/metrics/btcusd")).body.latest.change_24h === null) await tracker.tick();
    const { page } = await open("/#/price/btcusd", undefined, dropOldest);
    const shortened = (await historyCount("price", "btcusd")) - 1;
    await page.waitForFunction((n) => (window as any).trackerDashboard.chart?.data[0].length === n, shortened, PATIENCE);
    const { change_24h } = (await tracker.get("/metric_types/price/metrics/btcusd")).body.latest as { change_24h: number | null };
    expect(change_24h).not.toBeNull();
    const header = await page.$eval("#selected-meta .change", (span) => ({ change: span.getAttribute("data-change"), className: span.className, text: span.textContent }));
    const listed = await page.getAttribute('#metrics a[data-symbol="btcusd"] .change', "data-change");
    expect(header.change).toBe(String(change_24h));
    expect(listed).toBe(String(change_24h));
    expect(header.className).toBe(`change ${change_24h! > 0 ? "up" : change_24h! < 0 ? "down" : "flat"}`);
    expect(header.text).toMatch(/^[+−]?\d+(\.\d+)?%$/);
    await page.close();
  });

  it("shows every metric's 24 h change in the list as /latest gives it, coloured by direction, and the chosen one's range", async () => {
    for (const type of ["price", "volume"]) {
      const { page } = await open(`/#/${type}`);
      const api = (await tracker.get(`/metric_types/${type}/latest`)).body.latest as { symbol: string; change_24h: number | null; min_24h: number | null; max_24h: number | null }[];
      // Seeded 23 h before the first test's tick: every metric has a change (the tick rebuilt the figures).
      expect(api.filter((row) => row.change_24h !== null).length).toBeGreaterThan(10);
      const shown = await page.$$eval("#metrics a", (links) =>
        links.map((a) => {
          const badge = a.querySelector(".change")!;
          return { symbol: a.getAttribute("data-symbol"), change: badge.getAttribute("data-change"), className: badge.className };
        }),
      );
      expect(shown).toEqual(
        api.map((row) => ({
          symbol: row.symbol,
          change: row.change_24h === null ? null : String(row.change_24h),
          className: row.change_24h === null ? "change" : `change ${row.change_24h > 0 ? "up" : row.change_24h < 0 ? "down" : "flat"}`,
        })),
      );
      const chosen = api.find((row) => row.change_24h !== null)!;
      await page.click(`#metrics a[data-symbol="${chosen.symbol}"]`);
      await page.waitForFunction((symbol) => location.hash.endsWith(`/${symbol}`), chosen.symbol, PATIENCE);
      await page.waitForFunction(
        (want) => document.querySelector("#selected-meta .range")?.getAttribute("data-min") === want,
        String(chosen.min_24h),
        PATIENCE,
      );
      expect(await page.getAttribute("#selected-meta .range", "data-max")).toBe(String(chosen.max_24h));
      await page.close();
    }
  });

  it("works at phone width", async () => {
    const { page } = await open("/#/price/btcusd", { width: 390, height: 844 });
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      chart: document.querySelector("#chart canvas")!.getBoundingClientRect().width,
      list: document.querySelector("#metrics-panel")!.getBoundingClientRect().width,
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(390);
    expect(layout.chart).toBeGreaterThan(250);
    expect(layout.chart).toBeLessThanOrEqual(390);
    expect(layout.list).toBeLessThanOrEqual(390);
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone.png"), fullPage: true });
    await page.close();
  });

  it("is light: page weight and load time", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const started = Date.now();
    await page.goto(`${tracker.url}/#/price/btcusd`);
    await page.waitForSelector("body[data-ready=true]");
    const loaded = Date.now() - started;
    const weight = await page.evaluate(() => {
      const entries = [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")] as PerformanceResourceTiming[];
      const isData = (e: PerformanceResourceTiming) => /^\/(metric_types|sources|alerts)?(\/|$)/.test(new URL(e.name).pathname) && e.initiatorType === "fetch";
      const total = (list: PerformanceResourceTiming[], key: "encodedBodySize" | "decodedBodySize") => list.reduce((n, e) => n + e[key], 0);
      const page = entries.filter((e) => !isData(e));
      const data = entries.filter(isData);
      return {
        files: page.length,
        page: total(page, "decodedBodySize"),
        pageOnWire: total(page, "encodedBodySize"),
        data: total(data, "decodedBodySize"),
        dataOnWire: total(data, "encodedBodySize"),
      };
    });
    const measured = (
      `dashboard: ready in ${loaded} ms; ${weight.files} files, ${weight.page} B (${weight.pageOnWire} B on the wire); ` +
        `API data ${weight.data} B (${weight.dataOnWire} B on the wire)`
    );
    console.log(measured);
    writeFileSync(join(ARTIFACTS, "dashboard-weight.txt"), `${measured}\n`);
    expect(weight.files).toBe(5); // the page, its script and style sheet, uPlot's script and style sheet
    expect(weight.page).toBeGreaterThan(50_000); // uPlot is in it
    expect(weight.page).toBeLessThan(120_000);
    await page.close();
  });

  it("serves an interactive API reference at /docs from its own assets, rendered from /openapi.json", async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    page.on("pageerror", (err) => pageErrors.push(`/docs: ${err.message}`));
    await page.goto(`${tracker.url}/docs`);
    await page.waitForSelector(".opblock", PATIENCE);
    const document = (await tracker.get("/openapi.json")).body;
    const operations = Object.values(document.paths as Record<string, object>).reduce((n, item) => n + ("get" in item ? 1 : 0), 0);
    expect(await page.locator(".opblock").count()).toBe(operations);

    // Try it out: the reference calls the API and shows its answer.
    await page.click("#operations-status-health .opblock-summary");
    await page.click("#operations-status-health .execute"); // tryItOutEnabled: no "Try it out" click needed
    const status = "#operations-status-health .live-responses-table tbody td.response-col_status";
    await page.waitForSelector(status);
    expect((await page.textContent(status))?.trim()).toBe("200");
    expect(requests.filter((url) => !url.startsWith(tracker.url) && !url.startsWith("data:"))).toEqual([]);
    // Swagger UI lists resolver and parser errors of the document here.
    expect(await page.locator(".errors-wrapper").count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "docs.png") });
    await page.close();
  });

  it("lists recent alerts from /alerts, each linking to its metric", async () => {
    // The real endpoint: no alert yet (the alert window needs an hour of live ticks).
    expect((await tracker.get("/alerts?limit=20")).body).toEqual({ alerts: [] });
    const empty = await open("/#/price/btcusd");
    expect(await empty.page.isVisible("#alerts-panel")).toBe(true);
    expect(await empty.page.textContent("#alerts")).toBe("No alert in the last 30 days.");
    await empty.page.close();

    // An alert as the OpenAPI document describes it, through a routed /alerts.
    const example = (await tracker.get("/openapi.json")).body.paths["/alerts"].get.responses["200"].content["application/json"].example;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.route(/\/alerts\?limit=20$/, (route) => route.fulfill({ json: example }));
    await page.goto(`${tracker.url}/#/price/btcusd`);
    await page.waitForSelector("#alerts-table");
    const rows = await page.$$eval("#alerts-table tbody tr", (trs) => trs.map((tr) => Array.from(tr.querySelectorAll("td"), (td) => td.textContent)));
    const alert = example.alerts[0];
    expect(rows).toEqual([
      [`${alert.time.slice(0, 10)} ${alert.time.slice(11, 16)} UTC`, `${alert.metric_type} ${alert.symbol}`, "200,200", "50,050", alert.delivery.state],
    ]);
    await page.click("#alerts-table a");
    await page.waitForFunction(() => document.querySelector("#selected")?.firstChild?.textContent === "btceur");
    await page.close();
  });

  it("bounds ?poll= to 1-300 s (default 15 s for none, 0, negative or not a number)", async () => {
    for (const [poll, seconds] of [
      [null, 15],
      ["30", 30],
      ["1e10", 300], // unbounded, 1e13 ms overflows setTimeout's 32-bit delay: a poll every millisecond
      ["Infinity", 300],
      ["0.2", 1],
      ["0", 15],
      ["-5", 15],
      ["abc", 15],
    ] as const) {
      const page = await browser.newPage();
      page.on("pageerror", (err) => pageErrors.push(`?poll=${poll}: ${err.message}`));
      // Record the delay the dashboard asks for its next poll of /.
      await page.addInitScript(() => {
        const original = window.setTimeout;
        (window as any).pollDelays = [];
        window.setTimeout = ((handler: TimerHandler, ms?: number, ...rest: unknown[]) => {
          if (typeof handler === "function" && handler.name === "poll") (window as any).pollDelays.push(ms);
          return original(handler, ms, ...rest);
        }) as typeof window.setTimeout;
      });
      await page.goto(`${tracker.url}/${poll === null ? "" : `?poll=${poll}`}#/price/btcusd`);
      await page.waitForFunction(() => (window as any).pollDelays.length > 0, null, PATIENCE);
      expect(await page.evaluate(() => (window as any).pollDelays[0]), `?poll=${poll}`).toBe(seconds * 1000);
      await page.close();
    }
  });

  it("keeps refreshing when the hash holds a malformed % escape", async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on("pageerror", (err) => pageErrors.push(`malformed hash: ${err.message}`));
    const polls = () => page.waitForRequest((request) => request.url() === `${tracker.url}/`, PATIENCE);
    await page.goto(`${tracker.url}/?poll=1#/price/%E0%A4%A`);
    await page.waitForSelector("body[data-ready=true]");
    // Read as nothing chosen: the most volatile metric is shown, with a valid link.
    const ranking = (await tracker.get("/metric_types/price/ranking")).body.ranking as { symbol: string }[];
    await page.waitForFunction((hash) => location.hash === hash, `#/price/${ranking[0]!.symbol}`);
    expect(await page.evaluate(() => (window as any).trackerDashboard.chart?.series[1].label)).toBe(`price ${ranking[0]!.symbol}`);
    await polls();
    await polls();

    // The same when the hash changes to one later.
    await page.evaluate(() => (location.hash = "#/%ZZ/%"));
    await polls();
    await polls();
    expect(await page.textContent("#status")).toMatch(/^Last tick /);
    expect(await page.textContent("#selected")).not.toBe("");
    await page.close();
  });

  // --- Candles and volatility windows ---------------------------------------------------------

  const DESKTOP = { width: 1400, height: 900 };
  const PHONE = { width: 375, height: 812 };
  /** Each candle range: its interval, and how far back `since` must reach (at most 2,000 intervals). */
  const CANDLE_RANGES = [
    { range: "7d", during: "in the last 7 days", interval: "1h", back: 7 * DAY },
    { range: "30d", during: "in the last 30 days", interval: "1h", back: 30 * DAY },
    { range: "1y", during: "in the last year", interval: "1d", back: 365 * DAY },
    { range: "all", during: "kept \\(up to 2,000 days\\)", interval: "1d", back: 2000 * DAY },
  ] as const;
  const isCandles = (url: string) => new URL(url).pathname.endsWith("/candles");
  const isRanking = (url: string) => new URL(url).pathname.endsWith("/ranking");

  /** What the page shows on its chart: the x values (s) and each series. */
  const plotted = (page: Page) =>
    page.evaluate(() => {
      const u = (window as any).trackerDashboard.chart;
      return u ? { kind: u.series.length === 4 ? "candles" : "line", label: u.series[1].label, data: u.data.map((series: number[]) => Array.from(series)), bands: u.bands?.length ?? 0 } : null;
    });

  /** Clicks a range and returns the candles answer the page fetched for it (null for 24 h). */
  async function chooseRange(page: Page, range: string): Promise<{ url: URL; status: number; body: any } | null> {
    const fetched = range === "24h" ? null : page.waitForResponse((response) => isCandles(response.url()), PATIENCE);
    await page.click(`#ranges button[data-range="${range}"]`);
    const response = await fetched;
    await page.waitForSelector(`#chart[data-range="${range}"]`, PATIENCE);
    return response && { url: new URL(response.url()), status: response.status(), body: await response.json() };
  }

  /** The ranking table as shown: rank, symbol and the exact std dev (the cell's title). */
  const rankingTable = (page: Page) =>
    page.$$eval("#ranking tbody tr", (rows) =>
      rows.map((tr) => {
        const cells = tr.querySelectorAll("td");
        return { rank: Number(cells[0]!.textContent), symbol: cells[1]!.textContent!, stddev: Number(cells[2]!.getAttribute("title")) };
      }),
    );

  /** At phone width nothing overflows sideways and the pills of both selectors are whole on screen, at least 32 px tall. */
  async function expectPhoneLayout(page: Page) {
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      chart: document.querySelector("#chart")!.getBoundingClientRect().width,
      buttons: Array.from(document.querySelectorAll("#ranges button, #windows button"), (button) => {
        const box = button.getBoundingClientRect();
        return { left: box.left, right: box.right, height: box.height };
      }),
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(PHONE.width);
    expect(layout.chart).toBeLessThanOrEqual(PHONE.width);
    expect(layout.buttons).toHaveLength(8);
    for (const button of layout.buttons) {
      expect(button.left).toBeGreaterThanOrEqual(0);
      expect(button.right).toBeLessThanOrEqual(PHONE.width);
      expect(button.height).toBeGreaterThanOrEqual(32);
    }
  }

  for (const [name, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    it(`draws each range as the API gives it: 24 h of minutes, candles' closes with their high–low band (${name})`, async () => {
      const { page } = await open("/#/price/btcusd", viewport);
      expect(await page.getAttribute('#ranges button[data-range="24h"]', "aria-pressed")).toBe("true");
      for (const { range, during, interval, back } of CANDLE_RANGES) {
        const fetched = (await chooseRange(page, range))!;
        expect(await page.evaluate(() => location.hash)).toBe(`#/price/btcusd?range=${range}`);
        expect(await page.$$eval("#ranges button[aria-pressed=true]", (buttons) => buttons.map((b) => b.getAttribute("data-range")))).toEqual([range]);

        // The request: the range's interval, since at an interval boundary `back` before now, within the API's 2,000 intervals.
        const length = interval === "1h" ? HOUR : DAY;
        const since = Number(fetched.url.searchParams.get("since"));
        expect(fetched.url.searchParams.get("interval")).toBe(interval);
        expect(since % length).toBe(0);
        const reach = Date.now() - since;
        expect(reach).toBeGreaterThan(back - (range === "all" ? DAY : 0) - 60_000);
        expect(reach).toBeLessThan(back + (range === "all" ? 0 : length) + 60_000);
        expect(Math.ceil(reach / length)).toBeLessThanOrEqual(2000);

        // The chart: one point per candle the page received, its close, high and low.
        expect(fetched.status).toBe(200);
        const candles = fetched.body.candles as { time: string; close: number; high: number; low: number }[];
        // 30 days of seeded candles: a week or a month of hours, a month of days.
        expect(candles.length).toBeGreaterThan(interval === "1h" ? 100 : 25);
        const direct = (await tracker.get(fetched.url.pathname + fetched.url.search)).body.candles as typeof candles;
        expect(direct.map(({ time, close, high, low }) => ({ time, close, high, low }))).toEqual(candles.map(({ time, close, high, low }) => ({ time, close, high, low })));
        expect(await plotted(page)).toEqual({
          kind: "candles",
          label: "price btcusd",
          data: [candles.map((c) => Date.parse(c.time) / 1000), candles.map((c) => c.close), candles.map((c) => c.high), candles.map((c) => c.low)],
          bands: 1,
        });
        const kind = interval === "1h" ? "hourly" : "daily";
        expect(await page.textContent("#chart-caption")).toMatch(new RegExp(`^${candles.length} ${kind} candles? ${during}: the closes and the high–low band`));
        if (viewport === PHONE) await expectPhoneLayout(page);
      }

      // Hover on the candles: the tooltip gives the close, high and low under the cursor.
      if (!(await plotted(page))) return; // against the real endpoint, "all" may have no candle yet
      const box = (await page.locator("#chart .u-over").boundingBox())!;
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
      await page.waitForSelector("#tooltip:not([hidden])", PATIENCE);
      const hovered = await page.evaluate(() => {
        const u = (window as any).trackerDashboard.chart;
        return { tooltip: document.querySelector("#tooltip")!.textContent!, close: u.data[1][u.cursor.idx] as number, day: new Date(u.data[0][u.cursor.idx] * 1000).toISOString().slice(0, 10) };
      });
      const shown = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 }).format(hovered.close);
      expect(hovered.tooltip).toMatch(new RegExp(`^close ${shown.replace(/[.,]/g, "\\$&")} · high .+ · low .+ · ${hovered.day} UTC$`));
      const tip = (await page.locator("#tooltip").boundingBox())!;
      expect(tip.x).toBeGreaterThanOrEqual(0);
      expect(tip.x + tip.width).toBeLessThanOrEqual(viewport.width);
      await page.screenshot({ path: join(ARTIFACTS, `dashboard-candles-${name}.png`), fullPage: viewport === PHONE });

      // And back to the minute history, as before.
      expect(await chooseRange(page, "24h")).toBeNull();
      expect(await page.evaluate(() => location.hash)).toBe("#/price/btcusd");
      const line = (await plotted(page))!;
      expect({ kind: line.kind, points: line.data[0].length }).toEqual({ kind: "line", points: await historyCount("price", "btcusd") });
      expect(await page.textContent("#chart-caption")).toBe(`${line.data[0].length} points in the last 24 h`);
      if (viewport === PHONE) await expectPhoneLayout(page);
      await page.close();
    });

    it(`ranks by the chosen window's volatility: the table is /ranking?window= (${name})`, async () => {
      const { page } = await open("/#/price/ethbtc", viewport);
      const day = (await tracker.get("/metric_types/price/ranking")).body as RankingAnswer;
      expect(await rankingTable(page)).toEqual(day.ranking);
      for (const window of ["7d", "30d", "24h"]) {
        const fetched = page.waitForResponse((response) => isRanking(response.url()), PATIENCE);
        await page.click(`#windows button[data-window="${window}"]`);
        const response = await fetched;
        const url = new URL(response.url());
        expect(url.searchParams.get("window")).toBe(window === "24h" ? null : window); // 24 h: the default, unnamed
        const answer = (await response.json()) as RankingAnswer;
        const title = `Volatility, last ${window.replace(/(\d+)/, "$1 ")}`;
        await page.waitForFunction((text) => document.querySelector("#ranking-title")?.textContent === text, title, PATIENCE);
        expect(await rankingTable(page)).toEqual(answer.ranking);
        if (window === "24h") expect(answer.ranking).toEqual(day.ranking);
        else expect(answer.ranking).not.toEqual(day.ranking); // a week of seeded history is not the last day
        expect((await tracker.get(url.pathname + url.search)).body).toEqual(answer);
        expect(await page.evaluate(() => location.hash)).toBe(window === "24h" ? "#/price/ethbtc" : `#/price/ethbtc?window=${window}`);
        expect(await page.$$eval("#windows button[aria-pressed=true]", (buttons) => buttons.map((b) => b.getAttribute("data-window")))).toEqual([window]);
        // The chosen metric keeps its highlighted row, and the header gives its rank in that window.
        const rank = answer.ranking.find((row) => row.symbol === "ethbtc")!;
        expect(await page.$$eval("#ranking tr.selected", (rows) => rows.map((tr) => tr.getAttribute("data-symbol")))).toEqual(["ethbtc"]);
        const meta = `volatility rank ${rank.rank} of ${answer.ranking.length}${window === "24h" ? " (" : ` over ${window.replace(/(\d+)/, "$1 ")}`}`;
        await page.waitForFunction((text) => document.querySelector("#selected-meta")?.textContent?.includes(text), meta, PATIENCE);
        if (viewport === PHONE) await expectPhoneLayout(page);
      }
      await page.close();
    });
  }

  it("keeps the range and the window in the link: restored on load, kept across metrics and types, back and forward", async () => {
    const { page, requests } = await open("/#/price/ethbtc?range=30d&window=7d", DESKTOP);
    const candleRequests = () => requests.filter(isCandles).map((url) => new URL(url));
    const lastCandles = () => candleRequests().at(-1)!;
    expect(lastCandles().pathname).toBe("/metric_types/price/metrics/ethbtc/candles");
    expect(lastCandles().searchParams.get("interval")).toBe("1h");
    expect(Date.now() - Number(lastCandles().searchParams.get("since"))).toBeGreaterThan(30 * DAY - 60_000);
    expect(requests.filter(isRanking).map((url) => new URL(url).search)).toEqual(["?window=7d"]);
    const choices = () =>
      page.evaluate(() => ({
        hash: location.hash,
        range: document.querySelector("#ranges button[aria-pressed=true]")?.getAttribute("data-range"),
        window: document.querySelector("#windows button[aria-pressed=true]")?.getAttribute("data-window"),
        chart: document.querySelector("#chart")!.getAttribute("data-range"),
        title: document.querySelector("#ranking-title")!.textContent,
        metric: `${document.querySelector("#chart")!.getAttribute("data-type")} ${document.querySelector("#chart")!.getAttribute("data-symbol")}`,
      }));
    // The chart (or its empty state: the real endpoint may have no candle yet) shows that metric and range.
    const settled = (hash: string, range: string, symbol: string) =>
      page.waitForFunction(
        ([hash, range, symbol]) => {
          const chart = document.querySelector("#chart")!;
          return location.hash === hash && chart.getAttribute("data-range") === range && chart.getAttribute("data-symbol") === symbol;
        },
        [hash, range, symbol] as const,
        PATIENCE,
      );
    expect(await choices()).toEqual({ hash: "#/price/ethbtc?range=30d&window=7d", range: "30d", window: "7d", chart: "30d", title: "Volatility, last 7 d", metric: "price ethbtc" });

    // Another metric, from the ranking or the list: the same range and window.
    await page.click('#ranking tr[data-symbol="adausd"]');
    await settled("#/price/adausd?range=30d&window=7d", "30d", "adausd");
    expect(lastCandles().pathname).toBe("/metric_types/price/metrics/adausd/candles");
    expect(await page.getAttribute('#metrics a[data-symbol="btcusd"]', "href")).toBe("#/price/btcusd?range=30d&window=7d");
    await chooseRange(page, "1y");
    await settled("#/price/adausd?range=1y&window=7d", "1y", "adausd");
    await page.click('#windows button[data-window="30d"]');
    await page.waitForFunction(() => document.querySelector("#ranking-title")?.textContent === "Volatility, last 30 d", null, PATIENCE);
    expect(await choices()).toMatchObject({ hash: "#/price/adausd?range=1y&window=30d", range: "1y", window: "30d" });

    // Back and forward step through those choices.
    await page.goBack();
    await page.waitForFunction(() => document.querySelector("#ranking-title")?.textContent === "Volatility, last 7 d", null, PATIENCE);
    expect(await choices()).toEqual({ hash: "#/price/adausd?range=1y&window=7d", range: "1y", window: "7d", chart: "1y", title: "Volatility, last 7 d", metric: "price adausd" });
    await page.goBack();
    await settled("#/price/adausd?range=30d&window=7d", "30d", "adausd");
    expect(await page.getAttribute("#ranges button[data-range='30d']", "aria-pressed")).toBe("true");
    await page.goBack();
    await settled("#/price/ethbtc?range=30d&window=7d", "30d", "ethbtc");
    await page.goForward();
    await settled("#/price/adausd?range=30d&window=7d", "30d", "adausd");
    expect(lastCandles().searchParams.get("interval")).toBe("1h");

    // Another type keeps them too; and a reload restores what the link says.
    await page.click("#types button:text('volume')");
    await page.waitForFunction(() => /^#\/volume\/[a-z0-9]+\?range=30d&window=7d$/.test(location.hash), null, PATIENCE);
    await page.waitForFunction(() => document.querySelector("#chart")?.getAttribute("data-type") === "volume", null, PATIENCE);
    expect(lastCandles().pathname).toMatch(/^\/metric_types\/volume\/metrics\/[a-z0-9]+\/candles$/);
    expect(requests.filter(isRanking).map((url) => new URL(url)).at(-1)!.pathname).toBe("/metric_types/volume/ranking");
    await page.goto(`${tracker.url}/#/price/btcusd?range=all&window=30d`);
    await page.reload();
    await page.waitForSelector("body[data-ready=true]", PATIENCE);
    expect(await choices()).toEqual({ hash: "#/price/btcusd?range=all&window=30d", range: "all", window: "30d", chart: "all", title: "Volatility, last 30 d", metric: "price btcusd" });
    expect(lastCandles().searchParams.get("interval")).toBe("1d");

    // A range or window the page does not know reads as the default.
    await page.goto(`${tracker.url}/#/price/btcusd?range=5y&window=1h`);
    await settled("#/price/btcusd?range=5y&window=1h", "24h", "btcusd");
    expect(await choices()).toMatchObject({ range: "24h", window: "24h", title: "Volatility, last 24 h" });
    await page.close();
  });

  it("says so when a range has no candle yet, or its candles cannot be read", async () => {
    // These answers are the point of the test: routed whether or not the tracker serves candles.
    const empty = (page: Page) =>
      page.route(
        (url) => url.pathname.endsWith("/candles"),
        (route) => {
          const url = new URL(route.request().url());
          return url.searchParams.get("interval") === "1h"
            ? route.fulfill({ json: { metric_type: "price", symbol: "btcusd", interval: "1h", candles: [] } })
            : route.fulfill({ status: 400, json: { error: "The span holds more than 2000 intervals of 1d" } });
        },
      );
    for (const viewport of [DESKTOP, PHONE]) {
      const { page } = await open("/#/price/btcusd?range=7d", viewport, empty);
      expect(await plotted(page)).toBeNull();
      expect(await page.$$eval("#chart canvas", (canvases) => canvases.length)).toBe(0);
      expect(await page.textContent("#chart .chart-empty")).toMatch(/^No hourly candle in the last 7 days yet: /);
      expect(await page.textContent("#chart-caption")).toBe("");
      // The header still gives the latest value (/latest's) and the metric's rank.
      const latest = ((await tracker.get("/metric_types/price/latest")).body.latest as { symbol: string; value: number }[]).find((row) => row.symbol === "btcusd")!;
      expect(await page.textContent("#selected-meta")).toContain(`Latest ${new Intl.NumberFormat("en-US", { maximumSignificantDigits: 6 }).format(latest.value)} at `);

      await chooseRange(page, "1y");
      expect(await page.textContent("#chart .chart-empty")).toBe("The daily candles could not be loaded: The span holds more than 2000 intervals of 1d");
      if (viewport === PHONE) await expectPhoneLayout(page);
      await chooseRange(page, "24h");
      expect((await plotted(page))?.data[0].length).toBe(await historyCount("price", "btcusd"));
      expect(await page.$$eval("#chart .chart-empty", (nodes) => nodes.length)).toBe(0);
      await page.close();
    }
  });

  it("raised no uncaught error on any page", () => {
    expect(pageErrors).toEqual([]);
  });
});

describe("a newcomer offline: every source fails", () => {
  // Cryptowatch answering 503 to everything: the tick reads no source and stores nothing.
  const rig = cryptowatchInBrowser(() => startServer(() => ({ status: 503, body: { error: "Service Unavailable" } })));

  it("says no source answered and points at npm run seed, instead of waiting for the first tick", async () => {
    const page = await rig.browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`${rig.tracker.url}/?poll=1`);
    await page.waitForSelector("body[data-ready=true]");
    expect(await page.textContent("#status")).toContain("Waiting for the first tick");

    await rig.tracker.tick();
    // What the API says: no tick stored, and the one source read failed.
    const status = (await rig.tracker.get("/")).body;
    expect(status.last_tick).toBeNull();
    const sources = (await rig.tracker.get("/sources")).body.sources as { source: string; status: string; tick: string }[];
    expect(sources.map((s) => [s.source, s.status])).toEqual([["cryptowatch", "error"]]);

    await page.waitForFunction(() => document.querySelector("#status")?.textContent?.startsWith("No source answered"), null, PATIENCE);
    const tick = sources[0]!.tick;
    expect(await page.textContent("#status")).toBe(`No source answered the latest tick (${tick.slice(0, 10)} ${tick.slice(11, 16)} UTC): no data yet`);
    expect(await page.textContent("#selected")).toBe("No data yet");
    expect(await page.textContent("#selected-meta")).toContain("npm run seed");
    expect(await page.textContent("#sources-table tbody tr .state")).toMatch(/^error: /);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("offline: no exchange can be reached", () => {
  // Every exchange source (the default) at a closed local port, and kraken at a name that
  // never resolves (RFC 6761 .invalid): what a developer without network sees.
  const NAMES = LIVE_SOURCES;
  let tracker: Tracker;
  let browser: Browser;
  let closed: string;

  beforeAll(async () => {
    closed = `127.0.0.1:${await freePort()}`;
    const url = (name: string) => (name === "kraken" ? "https://kraken.invalid" : `http://${closed}/${name}`);
    tracker = await startTracker({ vars: Object.fromEntries(NAMES.map((name) => [`${name.toUpperCase()}_API_URL`, url(name)])) });
    browser = await launchChromium();
    await tracker.tick();
  });

  afterAll(async () => {
    await browser?.close();
    await tracker?.stop();
  });

  it("each source says which host it could not reach, not the runtime's 'internal error; reference = ...'", async () => {
    const sources = (await tracker.get("/sources")).body.sources as { source: string; status: string; error: string }[];
    expect(sources.map((s) => [s.source, s.status, s.error])).toEqual(
      NAMES.map((name) => [
        name,
        "error",
        expect.stringContaining(
          name === "kraken" ? "could not reach kraken.invalid (no network, or its name does not resolve)" : `could not reach ${closed} (connection refused or lost)`,
        ),
      ]),
    );
  });

  it("at phone width (375 px) every column of the Sources table is on the screen", async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 812 } });
    await page.goto(`${tracker.url}/`);
    await page.waitForSelector("body[data-ready=true]", PATIENCE);
    await page.waitForFunction((n) => document.querySelectorAll("#sources-table tbody tr").length === n, NAMES.length, PATIENCE);
    const rows = await page.$$eval("#sources-table tbody tr", (trs) =>
      trs.map((tr) =>
        Array.from(tr.querySelectorAll("td"), (td) => {
          const box = td.getBoundingClientRect();
          return { text: td.textContent, left: box.left, right: box.right, width: box.width };
        }),
      ),
    );
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-phone-sources.png"), fullPage: true });
    // The row names its source once: its status says what failed.
    expect(rows.map((cells) => [cells[0]!.text, cells[1]!.text])).toEqual(NAMES.map((name) => [name, expect.stringMatching(/^error: could not reach /)]));
    // Source, status, markets, latency, last success: each cell seen without scrolling sideways.
    for (const cells of rows) {
      expect(cells).toHaveLength(5);
      for (const cell of cells) {
        expect(cell.width, `${cell.text}`).toBeGreaterThan(0);
        expect(cell.left, `${cell.text}`).toBeGreaterThanOrEqual(0);
        expect(cell.right, `${cell.text}`).toBeLessThanOrEqual(375);
      }
    }
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.close();
  });
});

describe("a newcomer's first minute: npm start, open the dashboard, a tick", () => {
  const rig = cryptowatchInBrowser(() => startCryptowatch());

  it("waits for the first tick, then shows the market without a reload", async () => {
    const page = await rig.browser.newPage({ viewport: { width: 1200, height: 800 } });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`${rig.tracker.url}/?poll=1`);
    await page.waitForSelector("body[data-ready=true]");
    expect(await page.textContent("#status")).toContain("Waiting for the first tick");
    expect(await page.textContent("#selected")).toBe("No data yet");
    expect(await page.locator("#metrics a").count()).toBe(0);

    await rig.tracker.tick();
    await page.waitForFunction(() => document.querySelectorAll("#metrics a").length === 5, null, PATIENCE);
    expect(await page.$$eval("#metrics a", (links) => links.map((a) => a.getAttribute("data-symbol")))).toEqual([
      "1inchusd",
      "adausd",
      "btceur",
      "btcusd",
      "ethbtc",
    ]);
    // The most volatile metric is chosen; with one point each, every stddev is 0 and all tie at rank 1.
    await page.waitForFunction(() => (window as any).trackerDashboard.chart?.data[0].length === 1, null, PATIENCE);
    expect(await page.evaluate(() => location.hash)).toBe("#/price/1inchusd");
    expect(await page.$$eval("#ranking tbody tr td:first-child", (cells) => cells.map((td) => td.textContent))).toEqual(["1", "1", "1", "1", "1"]);
    expect(await page.textContent("#status")).toMatch(/^Last tick \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("the markets behind a value, in Chromium", () => {
  const rig = cryptowatchInBrowser(() => startCryptowatch(() => summaries));

  // Three BTC/USD markets, Coinbase's 60000 far above the median 50100 (an outlier with t = 0.1), and ETH/BTC.
  const summaries = {
    result: Object.fromEntries(
      ([
        ["kraken:btcusd", 50000, 10, 500000],
        ["bitstamp:btcusd", 50100, 5, 250500],
        ["coinbase-pro:btcusd", 60000, 20, 1200000],
        ["kraken:ethbtc", 0.05, 100, 5],
      ] as const).map(([key, last, volume, volumeQuote]) => [key, { price: { last, high: last, low: last, change: { percentage: 0, absolute: 0 } }, volume, volumeQuote }]),
    ),
    allowance: { cost: 0.015, remaining: 9.9 },
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await rig.tracker.tick();
  });

  const tableRows = (page: Page) =>
    page.$$eval("#markets-table tbody tr", (trs) =>
      trs.map((tr) => ({
        exchange: tr.getAttribute("data-exchange"),
        pair: tr.getAttribute("data-pair"),
        side: tr.getAttribute("data-side"),
        className: tr.className,
        cells: Array.from(tr.querySelectorAll("td"), (td) => td.textContent),
      })),
    );

  /** The dashboard at `hash`, ready and with its markets table drawn; uncaught errors go to `errors`. */
  async function openMarkets(hash: string, viewport = { width: 1400, height: 900 }, errors: string[] = []) {
    const page = await rig.browser.newPage({ viewport });
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`${rig.tracker.url}/${hash}`);
    await page.waitForSelector("body[data-ready=true]");
    await page.waitForSelector("#markets-table");
    return page;
  }

  it("lists a price's markets as /markets does, the outlier marked with its deviation", async () => {
    const errors: string[] = [];
    const page = await openMarkets("#/price/btcusd", undefined, errors);
    const api = (await rig.tracker.get("/metric_types/price/metrics/btcusd/markets")).body;
    expect(api.markets.map((m: { exchange: string; included: boolean }) => [m.exchange, m.included])).toEqual([
      ["kraken", true],
      ["bitstamp", true],
      ["coinbase-pro", false],
    ]);
    const rows = await tableRows(page);
    expect(rows.map((row) => row.exchange)).toEqual(api.markets.map((m: { exchange: string }) => m.exchange));
    const outlier = rows.find((row) => row.exchange === "coinbase-pro")!;
    expect(outlier.className).toBe("excluded outlier");
    // Exchange, last, counted, deviation (60000 / 50100 - 1 = +19.76 %), base volume, quote volume.
    expect(outlier.cells).toEqual(["coinbase-pro", "60,000", "outlier", "+19.76%", "20", "1.2M"]);
    expect(await page.$eval("#markets-table tr.outlier .reason", (td) => getComputedStyle(td, "::before").content)).toContain("⚠");
    expect(rows.filter((row) => row.className === "included").map((row) => row.cells[2])).toEqual(["included", "included"]);
    expect(await page.textContent("#markets-meta")).toContain("2 of 3 markets in the mean");
    expect(await page.textContent("#markets-meta")).toContain("median 50,100, tolerance ±10%");
    // The mean of the included lasts is the value shown.
    expect((50000 + 50100) / 2).toBe(api.value);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("lists a volume's market sides, base and quote, as /markets does", async () => {
    const page = await openMarkets("#/volume/btc");
    const api = (await rig.tracker.get("/metric_types/volume/metrics/btc/markets")).body;
    const rows = await tableRows(page);
    expect(rows.map(({ exchange, pair, side }) => ({ exchange, pair, side }))).toEqual(
      api.markets.map((m: { exchange: string; pair: string; side: string }) => ({ exchange: m.exchange, pair: m.pair, side: m.side })),
    );
    expect(rows.map((row) => [row.pair, row.side])).toEqual([
      ["btcusd", "base"],
      ["btcusd", "base"],
      ["btcusd", "base"],
      ["ethbtc", "quote"],
    ]);
    expect(rows.map((row) => row.cells[2])).toEqual(["base", "base", "base", "quote"]);
    expect(api.value).toBe(10 + 5 + 20 + 5);
    await page.close();
  });

  it("stays usable at phone width and from the keyboard", async () => {
    const page = await openMarkets("#/price/btcusd", { width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const region = await page.$eval("#markets", (div) => ({ width: div.getBoundingClientRect().width, tabindex: div.getAttribute("tabindex"), role: div.getAttribute("role") }));
    expect(region.width).toBeLessThanOrEqual(390);
    // The table scrolls sideways in its own region, which takes the keyboard focus.
    expect(region).toMatchObject({ tabindex: "0", role: "region" });
    await page.focus("#markets");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("markets");
    await page.screenshot({ path: join(ARTIFACTS, "dashboard-markets-phone.png"), fullPage: true });
    await page.close();
  });
});
