/**
 * `npm run smoke -- <url>` (scripts/smoke.mjs) against `npm start` reading a
 * local Cryptowatch: healthy after a tick; failing once its ticks have stopped
 * (the last tick stored 10 minutes ago); and against a server that answers the
 * documented paths with wrong shapes and bare headers.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../src/api/openapi";
import { startCryptowatch, startServer, startTracker, type LocalServer, type Tracker } from "./harness";

const repo = new URL("../..", import.meta.url).pathname;
const LONG = 300_000;

function smoke(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repo, "scripts/smoke.mjs"), ...args], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

/** The report's lines for checks whose name starts with `name`. */
const lines = (stdout: string, name: string) => stdout.split("\n").filter((line) => line.slice(6).startsWith(name));

// The paths of the OpenAPI document, by hand (src/api/endpoints.ts and the document's own path).
const PATHS = [
  "/",
  "/health",
  "/sources",
  "/alerts",
  "/metric_types",
  "/metric_types/{metric_type}",
  "/metric_types/{metric_type}/metrics",
  "/metric_types/{metric_type}/latest",
  "/metric_types/{metric_type}/ranking",
  "/metric_types/{metric_type}/metrics/{symbol}",
  "/metric_types/{metric_type}/metrics/{symbol}/history",
  "/metric_types/{metric_type}/metrics/{symbol}/candles",
  "/metric_types/{metric_type}/metrics/{symbol}/rank",
  "/metric_types/{metric_type}/metrics/{symbol}/markets",
  "/metric_types/{metric_type}/metrics/{symbol}/alerts",
  "/openapi.json",
];

describe("npm run smoke", () => {
  let upstream: LocalServer;
  let tracker: Tracker | undefined;
  let state: string;

  beforeAll(async () => {
    upstream = await startCryptowatch();
    state = mkdtempSync(join(tmpdir(), "smoke-e2e-"));
  }, LONG);

  afterAll(async () => {
    await tracker?.stop();
    await upstream?.close();
    rmSync(state, { recursive: true, force: true });
  }, LONG);

  const start = () => startTracker({ persistTo: state, vars: { SOURCES: "cryptowatch", CRYPTOWATCH_API_URL: upstream.url } });

  it(
    "passes against npm start after a tick: every check ok, the edge cache hit on the second request",
    async () => {
      tracker = await start();
      await tracker.tick();
      const result = await smoke(tracker.url);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      expect(result.stdout).not.toMatch(/^FAIL/m);
      expect(lines(result.stdout, "health")).toEqual([expect.stringMatching(/^ok {4}health: \/health fresh: last tick /)]);
      const shapes = lines(result.stdout, "shapes: GET ").map((line) => line.match(/GET (\S+):/)![1]);
      expect([...shapes].sort()).toEqual([...PATHS].sort());
      expect(lines(result.stdout, "conditional")).toHaveLength(2);
      expect(lines(result.stdout, "conditional").every((line) => line.startsWith("ok") && line.includes("304"))).toBe(true);
      expect(lines(result.stdout, "edge cache")).toEqual([expect.stringMatching(/^ok .*HIT on the second request/)]);
      expect(lines(result.stdout, "headers")).toHaveLength(4);
      expect(result.stdout).toMatch(/^healthy: \d+ passed, 0 failed/m);
    },
    LONG,
  );

  it(
    "fails against a tracker whose ticks stopped: /health is stale, the rest still checked",
    async () => {
      // The tracker of the test above, or one with a tick when this test runs alone.
      if (!tracker) {
        tracker = await start();
        await tracker.tick();
      }
      await tracker.stop();
      tracker = undefined;
      // The last tick stored 10 minutes ago, and no ticker (the harness runs npm start with AUTO_TICK=0).
      const executed = spawnSync(
        "npx",
        ["wrangler", "d1", "execute", "DB", "--local", "--persist-to", state, "--command", "UPDATE tracker_state SET last_tick_stored_at = last_tick_stored_at - 600000"],
        { cwd: repo, encoding: "utf8", env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" } },
      );
      expect(executed.status, executed.stderr).toBe(0);
      tracker = await start();

      const result = await smoke(tracker.url);
      expect(result.status).toBe(1);
      expect(lines(result.stdout, "health")).toEqual([expect.stringMatching(/^FAIL {2}health: .* stored \d+ s ago, more than 180 s: ticks have stopped/)]);
      expect(lines(result.stdout, "shapes: GET ").every((line) => line.startsWith("ok"))).toBe(true);
      expect(result.stdout).toMatch(/^NOT HEALTHY: \d+ passed, 1 failed/m);
    },
    LONG,
  );

  it(
    "fails against a server answering wrong shapes without the headers, naming each failing check",
    async () => {
      const now = Date.now();
      const minute = new Date(Math.floor(now / 60_000) * 60_000).toISOString();
      const wrong = await startServer((_, url) => {
        switch (url.pathname) {
          case "/health":
            return { body: { status: "ok", reason: null, last_tick: minute, last_tick_age_seconds: 5, sums_lag_seconds: 0, purge_lag_seconds: 0, figures_24h: "exact" } };
          case "/openapi.json":
            return { body: openApiDocument };
          case "/metric_types":
            return { body: { metric_types: [{ metric_type: "price", description: "Average price" }] } };
          case "/metric_types/price/metrics":
            return { body: { metrics: [{ metric_type: "price", symbol: "btcusd" }] } };
          default:
            return { body: { unexpected: true } };
        }
      });
      try {
        const result = await smoke(wrong.url);
        expect(result.status).toBe(1);
        expect(lines(result.stdout, "health")[0]).toMatch(/^ok/);
        const failing = lines(result.stdout, "shapes: GET ").filter((line) => line.startsWith("FAIL"));
        // Every path: wrong bodies, and the right ones lack their documented headers.
        expect(failing.map((line) => line.match(/GET (\S+):/)![1]).sort()).toEqual([...PATHS].sort());
        const latest = lines(result.stdout, "shapes: GET /metric_types/{metric_type}/latest:")[0];
        expect(latest).toMatch(/does not match GET \/metric_types\/\{metric_type\}\/latest 200.*body/);
        const listed = lines(result.stdout, "shapes: GET /metric_types:")[0];
        expect(listed).toMatch(/header etag is missing/i);
        expect(listed).not.toMatch(/body/);
        expect(lines(result.stdout, "headers: JSON")[0]).toMatch(/^FAIL .*missing X-Content-Type-Options: nosniff, ETag/);
        expect(lines(result.stdout, "conditional").every((line) => line.startsWith("FAIL"))).toBe(true);
        expect(lines(result.stdout, "edge cache")[0]).toMatch(/^FAIL/);
      } finally {
        await wrong.close();
      }
    },
    LONG,
  );

  it("refuses a missing or non-HTTP URL with status 2", async () => {
    expect((await smoke()).status).toBe(2);
    expect((await smoke("ftp://example.com")).status).toBe(2);
  });
});
