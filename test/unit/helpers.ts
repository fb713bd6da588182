import { applyD1Migrations, createScheduledController, waitOnExecutionContext, createExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { slotFigures, type Figures } from "../../src/storage/day";
import { expect, vi } from "vitest";
import worker from "../../src/index";
import summariesFixture from "../fixtures/cryptowatch/summaries.json";
import pairsFixture from "../fixtures/cryptowatch/pairs.json";
import pairsPage2Fixture from "../fixtures/cryptowatch/pairs-page2.json";
import { checkAgainstOpenApi } from "./openapi-check";
import { BLOCK_SLOTS, DAY as DAY_ENTRY, PART_SLOTS, readLatestTuple, readSumsTuple } from "../../src/storage/layout";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** A fixed minute to run ticks at: 2026-11-29T12:00:00Z. */
export const T0 = Date.UTC(2026, 10, 29, 12, 0, 0);

export const fixtures = {
  summaries: summariesFixture,
  pairs: [pairsFixture, pairsPage2Fixture],
};

type Reply = Response | (() => Response | Promise<Response>);

export interface FakeUpstream {
  /** Reply to GET /markets/summaries. */
  summaries: Reply;
  /** Replies to GET /pairs, page by page (cursor "page2" is the second page...). */
  pairs: Reply[];
  requests: Request[];
}

export const jsonResponse = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** Plays Cryptowatch for the Worker's outbound fetch (same isolate). */
export function fakeCryptowatch(overrides: Partial<Omit<FakeUpstream, "requests">> = {}): FakeUpstream {
  const upstream: FakeUpstream = {
    summaries: () => jsonResponse(fixtures.summaries),
    pairs: fixtures.pairs.map((page) => () => jsonResponse(page)),
    requests: [],
    ...overrides,
  };
  const reply = async (r: Reply) => (typeof r === "function" ? r() : r.clone());
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    upstream.requests.push(request);
    const url = new URL(request.url);
    if (url.pathname === "/markets/summaries") return reply(upstream.summaries);
    if (url.pathname === "/pairs") {
      const cursor = url.searchParams.get("cursor");
      const page = cursor === null ? 0 : Number(cursor.replace("page", "")) - 1;
      const r = upstream.pairs[page];
      return r ? reply(r) : jsonResponse({ error: "bad cursor" }, 400);
    }
    return jsonResponse({ error: "Route not found" }, 404);
  });
  return upstream;
}

/** Build a /markets/summaries body from { "exchange:pair": [last, volume, volumeQuote] }. */
export function summariesBody(markets: Record<string, [unknown, unknown, unknown]>) {
  const result: Record<string, unknown> = {};
  for (const [key, [last, volume, volumeQuote]] of Object.entries(markets)) {
    result[key] = { price: { last, high: last, low: last, change: { percentage: 0, absolute: 0 } }, volume, volumeQuote };
  }
  return { result, allowance: { cost: 0.015, remaining: 9.9 } };
}

/** Run the cron handler for the given scheduled time, as Cloudflare would. */
export async function runCron(scheduledTime: number): Promise<void> {
  const controller = createScheduledController({ scheduledTime, cron: "* * * * *" });
  const ctx = createExecutionContext();
  await worker.scheduled(controller, env, ctx);
  await waitOnExecutionContext(ctx);
}

/**
 * Send a request to the Worker. Every response is checked against the OpenAPI
 * document (test/unit/openapi-check.ts): an undocumented path, status, header
 * or body shape fails the test that received it.
 */
export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const request = new Request(`http://tracker.test${path}`, init);
  const response = await exports.default.fetch(request.clone());
  await checkAgainstOpenApi(request, response);
  return response;
}

export async function get(path: string, headers: HeadersInit = {}): Promise<Response> {
  return request(path, { headers });
}

export async function getJson<T = any>(path: string): Promise<{ status: number; body: T; response: Response }> {
  const response = await get(path);
  return { status: response.status, body: (await response.json()) as T, response };
}

/** Storage is isolated per test file, not per test: start each test empty. */
export async function resetDatabase(): Promise<void> {
  await env.DB.batch([
    env.DB.prepare("DELETE FROM points"),
    env.DB.prepare("DELETE FROM frames"),
    env.DB.prepare("DELETE FROM sums"),
    env.DB.prepare("DELETE FROM metrics"),
    env.DB.prepare("UPDATE tick_lease SET ts = NULL, expires = 0"),
    env.DB.prepare("DELETE FROM ticks"),
    env.DB.prepare("DELETE FROM source_catalogs"),
    env.DB.prepare("DELETE FROM source_status"),
    env.DB.prepare("DELETE FROM alerts"),
    env.DB.prepare("DELETE FROM market_breakdowns"),
    env.DB.prepare("DELETE FROM day_steps"),
    env.DB.prepare("DELETE FROM candles"),
    env.DB.prepare(
      // A new epoch, as a new database would have: answers cached at the edge
      // by an earlier test can never match.
      "UPDATE tracker_state SET lo = 0, hi = 0, version = 0, epoch = lower(hex(randomblob(8))), last_tick = NULL, last_tick_stored_at = NULL, purged_until = 0, convert_until = NULL, day = '{\"ok\":false}', " +
        "hour_ts = NULL, candles_until = NULL, days_until = NULL, windows_block = 0",
    ),
  ]);
}

/** Every stored value, from the frames (one row per metric type, block and minute). */
export async function storedValues(where = "true") {
  const { results } = await env.DB.prepare(
    `SELECT m.metric_type, m.symbol, f.ts, f.v ->> (m.slot % ${BLOCK_SLOTS}) AS value
     FROM metrics m JOIN frames f ON f.metric_type = m.metric_type AND f.block = m.slot / ${BLOCK_SLOTS}
     WHERE (f.v ->> (m.slot % ${BLOCK_SLOTS})) IS NOT NULL AND ${where}
     ORDER BY m.metric_type, m.symbol, f.ts`,
  ).all<{ metric_type: string; symbol: string; ts: number; value: number }>();
  return results;
}

export async function count(table: string): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table}`).first<{ n: number }>();
  return row!.n;
}

/** A small deterministic generator (mulberry32): the same draws for the same seed, so failures reproduce. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Freeze "now" for the API (the end of its 24 h window). */
export function setNow(ms: number) {
  vi.spyOn(Date, "now").mockReturnValue(ms);
}

/**
 * The invariant of src/storage/ledger.ts, checked from outside: each slot's
 * sums are those of its stored values in (lo, hi], recomputed here, and e is
 * the value at lo + 1 minute.
 */
export async function expectSumsMatchStoredValues() {
  const state = (await env.DB.prepare("SELECT lo, hi FROM tracker_state").first<{ lo: number; hi: number }>())!;
  const { results } = await env.DB.prepare(
    `SELECT s.metric_type, s.part * ${PART_SLOTS} + j.key AS slot, j.value AS t FROM sums s, json_each(s.data) j WHERE j.type = 'array'`,
  ).all<{ metric_type: string; slot: number; t: string }>();
  for (const row of results) {
    const { symbol, n, s1, s2, k, e } = readSumsTuple(JSON.parse(row.t) as unknown[]);
    const { results: values } = await env.DB.prepare(
      `SELECT ts, v ->> CAST(?3 AS INTEGER) AS value FROM frames WHERE metric_type = ?1 AND block = ?2 AND (v ->> CAST(?3 AS INTEGER)) IS NOT NULL`,
    )
      .bind(row.metric_type, Math.floor(row.slot / BLOCK_SLOTS), row.slot % BLOCK_SLOTS)
      .all<{ ts: number; value: number }>();
    const inRange = values.filter((v) => v.ts > state.lo && v.ts <= state.hi).map((v) => v.value - k);
    expect(n, symbol).toBe(inRange.length);
    const sum1 = inRange.reduce((a, d) => a + d, 0);
    const sum2 = inRange.reduce((a, d) => a + d * d, 0);
    expect(Math.abs(s1 - sum1), symbol).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.sqrt(sum2 * n)));
    expect(Math.abs(s2 - sum2), symbol).toBeLessThanOrEqual(1e-9 * Math.max(sum2, 1e-300));
    expect(e, symbol).toBe(values.find((v) => v.ts === state.lo + MINUTE)?.value ?? null);
  }
  await expectFiguresMatchStoredValues();
}

/**
 * The invariant of src/storage/day.ts, checked from outside: when the state
 * says the 24 h figures are exact, each slot's (and its `latest` entry's)
 * oldest value, min and max are those of its stored values in (lo, hi],
 * found here by a plain scan of the frames; otherwise no slot shows figures.
 * Returns whether they were exact.
 */
export async function expectFiguresMatchStoredValues(): Promise<boolean> {
  const state = (await env.DB.prepare("SELECT lo, hi, day FROM tracker_state").first<{ lo: number; hi: number; day: string }>())!;
  const ok = (JSON.parse(state.day) as { ok: boolean }).ok;
  const { results: frames } = await env.DB.prepare("SELECT metric_type, block, ts, v FROM frames WHERE ts > ?1 AND ts <= ?2 ORDER BY ts")
    .bind(state.lo, state.hi)
    .all<{ metric_type: string; block: number; ts: number; v: string }>();
  const expected = new Map<string, [number, number, number, number]>();
  for (const frame of frames) {
    (JSON.parse(frame.v) as (number | null)[]).forEach((value, i) => {
      if (value === null) return;
      const key = `${frame.metric_type}/${frame.block * BLOCK_SLOTS + i}`;
      const seen = expected.get(key);
      expected.set(key, seen ? [seen[0], seen[1], Math.min(seen[2], value), Math.max(seen[3], value)] : [frame.ts, value, value, value]);
    });
  }
  const { results: sums } = await env.DB.prepare("SELECT metric_type, part, latest, day FROM sums").all<{
    metric_type: string;
    part: number;
    latest: string;
    day: string;
  }>();
  for (const row of sums) {
    const latest = JSON.parse(row.latest) as (unknown[] | null)[];
    const days = JSON.parse(row.day) as (unknown[] | null)[];
    latest.forEach((entry, i) => {
      if (entry === null) return;
      const key = `${row.metric_type}/${row.part * PART_SLOTS + i}`;
      const { figures } = readLatestTuple(entry);
      if (!ok) return expect(figures, key).toBeNull();
      const want = expected.get(key) ?? null;
      const day = days[i];
      const slotDay = day && { front: day[DAY_ENTRY.front] as Figures | null, segments: day[DAY_ENTRY.segments] as [number, Figures][] };
      expect(slotDay ? slotFigures(slotDay) : null, key).toEqual(want);
      expect(figures, key).toEqual(want);
    });
  }
  return ok;
}

/** A database as deployed before migration 0005: the schema of 0001-0004 only. */
export async function databaseBefore0005() {
  const { results } = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  for (const { name } of results) await env.DB.prepare(`DROP TABLE IF EXISTS "${name}"`).run();
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS.filter((migration) => migration.name < "0005"));
}
