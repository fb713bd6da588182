/**
 * The candles' roll-up (src/storage/candles.ts, docs/candles.md) through the
 * tracker's own writers (insertTick, maintainStorage), checked against a
 * recomputation from every value the test stored (candles-check.ts): steady
 * minutes, gaps, a late tick into a closed hour, outages of 3 and 30 hours,
 * an upgrade of a tracker holding minutes and no candles, retention, and a
 * price near 100,000 that moves by 1e-6.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Point } from "../../src/domain/point";
import { combine, momentsOf, remove, stdOf, type Moments } from "../../src/lib/moments";
import { candleRetention, ConfigError } from "../../src/config";
import { DEFAULT_RETENTION, ROLLUP_MAX_HOURS } from "../../src/storage/candles";
import { insertTick, maintainStorage } from "../../src/storage/ticks";
import { expectCandlesMatchValues, expected, record, type Record_ } from "./candles-check";
import { count, DAY, expectSumsMatchStoredValues, HOUR, MINUTE, random, resetDatabase } from "./helpers";

beforeEach(resetDatabase);

/** 2026-11-29T10:00Z. */
const START = Date.UTC(2026, 10, 29, 10, 0, 0);
const PRICES = 52; // two blocks of price metrics
const next = random(18);

interface Walk {
  values: Record_;
  level: Map<string, number>;
}
const newWalk = (): Walk => ({ values: new Map(), level: new Map() });

/** One minute's points: random walks; each metric misses a minute now and then, `tiny` moves by 1e-6 around 100,000. */
function pointsAt(walk: Walk, ts: number, only?: (symbol: string) => boolean): Point[] {
  const points: Point[] = [];
  const add = (metric_type: Point["metric_type"], symbol: string, start: number, step: number) => {
    if (only && !only(symbol)) return;
    if (next() < 0.08) return;
    const key = `${metric_type}/${symbol}`;
    const value = (walk.level.get(key) ?? start) + (next() - 0.5) * step;
    walk.level.set(key, value);
    points.push({ metric_type, symbol, value });
    record(walk.values, metric_type, symbol, ts, value);
  };
  for (let i = 0; i < PRICES; i++) add("price", `p${i}usd`, 10 + i, 0.3);
  add("price", "tiny", 100_000, 2e-6);
  add("volume", "btc", 500, 20);
  add("volume", "eth", 9000, 100);
  return points;
}

async function tick(walk: Walk, ts: number, only?: (symbol: string) => boolean) {
  const points = pointsAt(walk, ts, only);
  await insertTick(env.DB, { ts, storedAt: ts, markets: points.length, points });
}

async function state() {
  return (await env.DB.prepare("SELECT candles_until, days_until, hour_ts, lo, purged_until FROM tracker_state").first<{
    candles_until: number | null;
    days_until: number | null;
    hour_ts: number | null;
    lo: number;
    purged_until: number;
  }>())!;
}

describe("candles: the moments", () => {
  it("combine and remove agree with two passes, for a price near 100,000 moving by 1e-6", () => {
    const r = random(7);
    const xs = Array.from({ length: 5000 }, () => 100_000 + (r() - 0.5) * 2e-6);
    const parts = Array.from({ length: 50 }, (_, i) => momentsOf(xs.slice(i * 100, (i + 1) * 100)));
    const all = parts.reduce<Moments>((a, b) => combine(a, b), { n: 0, k: 0, d: 0, m2: 0 });
    const twoPass = expected(new Map(xs.map((x, i) => [i, x])), 0, xs.length)!;
    expect(all.n).toBe(5000);
    expect(Math.abs(stdOf(all)! / Math.sqrt(twoPass.m2 / twoPass.n) - 1)).toBeLessThan(1e-9);
    // The naive formula loses every digit here: that is what the shifted moments avoid.
    const naive = xs.reduce((a, x) => a + x * x, 0) / xs.length - (xs.reduce((a, x) => a + x, 0) / xs.length) ** 2;
    expect(Math.abs(naive / (twoPass.m2 / twoPass.n) - 1)).toBeGreaterThan(1e-3);
    // Taking the first 10 parts out again leaves the last 40.
    const rest = parts.slice(0, 10).reduce((a, p) => remove(a, p), all);
    const want = expected(new Map(xs.slice(1000).map((x, i) => [i, x])), 0, 4000)!;
    expect(rest.n).toBe(4000);
    expect(Math.abs(stdOf(rest)! / Math.sqrt(want.m2 / want.n) - 1)).toBeLessThan(1e-9);
  });
});

describe("candles: the roll-up", () => {
  it("every closed hour and the day so far are candles of their minutes; the open hour and the windows too", async () => {
    const walk = newWalk();
    // 10:30 to 13:04, with one metric only in hour 11 and a gap of 5 minutes in hour 12.
    for (let ts = START + 30 * MINUTE; ts < START + 3 * HOUR + 5 * MINUTE; ts += MINUTE) {
      if (ts >= START + 2 * HOUR + 10 * MINUTE && ts < START + 2 * HOUR + 15 * MINUTE) continue;
      const inHour11 = ts >= START + HOUR && ts < START + 2 * HOUR;
      await tick(walk, ts, (s) => s !== "eth" || inHour11);
    }
    const s = await state();
    expect(s.candles_until).toBe(START + 3 * HOUR);
    expect(s.hour_ts).toBe(START + 3 * HOUR);
    const found = await expectCandlesMatchValues(walk.values, START);
    // Hours 10, 11, 12: 52 + 1 + 1 metrics each, eth only in 11.
    expect(found.hourly).toBe(3 * (PRICES + 2) + 1);
    expect(found.daily).toBe(PRICES + 3);
    await expectSumsMatchStoredValues();
  });

  it("a late tick into a closed hour rebuilds that hour's candle, its day's and the windows, in its own batch", async () => {
    const walk = newWalk();
    const late = START + 59 * MINUTE;
    for (let ts = START; ts <= START + HOUR + 5 * MINUTE; ts += MINUTE) if (ts !== late) await tick(walk, ts);
    await expectCandlesMatchValues(walk.values, START);
    const before = await env.DB.prepare("SELECT c FROM candles WHERE span = ?1 AND ts = ?2 AND block = 0 AND metric_type = 'price'")
      .bind(HOUR, START)
      .first<{ c: string }>();
    await tick(walk, late);
    const after = await env.DB.prepare("SELECT c FROM candles WHERE span = ?1 AND ts = ?2 AND block = 0 AND metric_type = 'price'")
      .bind(HOUR, START)
      .first<{ c: string }>();
    expect(after!.c).not.toBe(before!.c);
    await expectCandlesMatchValues(walk.values, START);
  });

  it("an outage of 3 hours: the hours without a tick are absent, the others exact", async () => {
    const walk = newWalk();
    for (let ts = START; ts < START + 90 * MINUTE; ts += MINUTE) await tick(walk, ts);
    // Nothing runs from 11:30 to 14:30 (the tracker was down).
    for (let ts = START + 4.5 * HOUR; ts < START + 5 * HOUR + 5 * MINUTE; ts += MINUTE) await tick(walk, ts);
    const s = await state();
    expect(s.candles_until).toBe(START + 5 * HOUR);
    const hours = await env.DB.prepare("SELECT DISTINCT ts FROM candles WHERE span = ?1 ORDER BY ts").bind(HOUR).all<{ ts: number }>();
    expect(hours.results.map((r) => (r.ts - START) / HOUR)).toEqual([0, 1, 4]);
    await expectCandlesMatchValues(walk.values, START);
  });

  it("an outage of 30 hours: the minutes before it are rolled up before they are purged, in bounded runs", async () => {
    const walk = newWalk();
    for (let ts = START; ts < START + 90 * MINUTE; ts += MINUTE) await tick(walk, ts);
    const back = START + 90 * MINUTE + 30 * HOUR;
    const summaries: Record<string, unknown>[] = [];
    // The first runs after the outage: maintenance each minute (every source failing), then ticks.
    for (let i = 0; i < 8; i++) summaries.push((await maintainStorage(env.DB, back + i * MINUTE)).summary);
    for (let ts = back + 8 * MINUTE; ts < back + 20 * MINUTE; ts += MINUTE) await tick(walk, ts);
    const s = await state();
    expect(s.candles_until).toBe(Math.floor((back + 19 * MINUTE) / HOUR) * HOUR);
    // Each run moved C by at most ROLLUP_MAX_HOURS hours.
    const moves = summaries.flatMap((m) => (m.candles ? [m.candles as { until: string }] : []));
    expect(moves.length).toBeGreaterThanOrEqual(Math.ceil(30 / ROLLUP_MAX_HOURS));
    const hours = await env.DB.prepare("SELECT DISTINCT ts FROM candles WHERE span = ?1 ORDER BY ts").bind(HOUR).all<{ ts: number }>();
    expect(hours.results.map((r) => r.ts)).toEqual([START, START + HOUR]);
    // The minutes of 10:00-11:29 are gone now; their candles stay.
    expect(s.purged_until).toBeGreaterThanOrEqual(START + 2 * HOUR - MINUTE);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM frames WHERE ts < ?1").bind(START + 2 * HOUR).first("n")).toBe(0);
    await expectCandlesMatchValues(walk.values, START);
    await expectSumsMatchStoredValues();
  });

  it("an upgrade: a tracker holding minutes and no candles gets the candles of every hour it holds, in bounded runs", async () => {
    const walk = newWalk();
    for (let ts = START; ts < START + 8 * HOUR + 3 * MINUTE; ts += 3 * MINUTE) await tick(walk, ts);
    // As migration 0009 leaves a deployed database: no candle, no cursor.
    await env.DB.batch([
      env.DB.prepare("DELETE FROM candles"),
      env.DB.prepare("UPDATE tracker_state SET candles_until = NULL, days_until = NULL, hour_ts = NULL, windows_block = 0"),
      env.DB.prepare("UPDATE sums SET hour = '[]', windows = '[]'"),
    ]);
    const now = START + 8 * HOUR + 4 * MINUTE;
    await maintainStorage(env.DB, now);
    const first = await state();
    expect(first.candles_until).toBe(START + ROLLUP_MAX_HOURS * HOUR);
    await maintainStorage(env.DB, now + MINUTE);
    expect((await state()).candles_until).toBe(START + 8 * HOUR);
    await expectCandlesMatchValues(walk.values, START);
  });

  it("retention deletes hourly candles older than HOURLY_CANDLE_DAYS once C moves, and keeps daily ones", async () => {
    const walk = newWalk();
    for (let ts = START; ts < START + 2 * HOUR; ts += 5 * MINUTE) await tick(walk, ts);
    // An hourly and a daily candle from 40 days ago.
    const old = START - 40 * DAY;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO candles VALUES ('price', ?1, 0, ?2, '[]')").bind(HOUR, old),
      env.DB.prepare("INSERT INTO candles VALUES ('price', ?1, 0, ?2, '[]')").bind(DAY, old - (old % DAY)),
    ]);
    const points = pointsAt(walk, START + 2 * HOUR);
    await insertTick(env.DB, { ts: START + 2 * HOUR, storedAt: 0, markets: 1, points }, { hourlyDays: 31, dailyDays: null });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM candles WHERE ts = ?1 AND span = ?2").bind(old, HOUR).first("n")).toBe(0);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM candles WHERE span = ?1 AND ts < ?2").bind(DAY, START - DAY).first("n")).toBe(1);
    await insertTick(env.DB, { ts: START + 3 * HOUR, storedAt: 0, markets: 1, points }, { hourlyDays: 31, dailyDays: 31 });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM candles WHERE span = ?1 AND ts < ?2").bind(DAY, START - DAY).first("n")).toBe(0);
    expect(await count("candles")).toBeGreaterThan(0);
  });
});

describe("candles: retention vars", () => {
  it("HOURLY_CANDLE_DAYS and DAILY_CANDLE_DAYS: whole days from 31 to 36,500, blank for the default", () => {
    expect(candleRetention({})).toEqual(DEFAULT_RETENTION);
    expect(DEFAULT_RETENTION).toEqual({ hourlyDays: 31, dailyDays: null });
    expect(candleRetention({ HOURLY_CANDLE_DAYS: " ", DAILY_CANDLE_DAYS: "" })).toEqual({ hourlyDays: 31, dailyDays: null });
    expect(candleRetention({ HOURLY_CANDLE_DAYS: "90", DAILY_CANDLE_DAYS: " 365 " })).toEqual({ hourlyDays: 90, dailyDays: 365 });
    expect(candleRetention({ HOURLY_CANDLE_DAYS: "31", DAILY_CANDLE_DAYS: "36500" })).toEqual({ hourlyDays: 31, dailyDays: 36500 });
    for (const bad of ["30", "0", "-40", "45.5", "1e2", "ninety", "36501"]) {
      expect(() => candleRetention({ HOURLY_CANDLE_DAYS: bad }), bad).toThrow(ConfigError);
      expect(() => candleRetention({ HOURLY_CANDLE_DAYS: bad }), bad).toThrow(`HOURLY_CANDLE_DAYS must be a whole number of days from 31 to 36500, got "${bad}"`);
      expect(() => candleRetention({ DAILY_CANDLE_DAYS: bad }), bad).toThrow(`DAILY_CANDLE_DAYS must be a whole number of days from 31 to 36500 (or blank: for ever), got "${bad}"`);
    }
  });
});
