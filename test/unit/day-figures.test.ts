/**
 * The 24 h figures (src/storage/day.ts): each metric's oldest value in the
 * window, min and max, checked after every run against a plain scan of the
 * stored frames (expectFiguresMatchStoredValues) and, through the API, against
 * a model of every point stored.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Point } from "../../src/domain/point";
import { maintain } from "../../src/ingest/tick";
import { readDayState, SEGMENT_MS, type DayState } from "../../src/storage/day";
import { insertTick } from "../../src/storage/ticks";
import { DAY, expectFiguresMatchStoredValues, getJson, HOUR, MINUTE, random, resetDatabase, setNow, T0 } from "./helpers";

beforeEach(resetDatabase);

const dayState = () => readDayState(env.DB);

/** Store a tick and run the scheduled maintenance, as the cron does. */
async function tick(ts: number, points: Point[]) {
  await insertTick(env.DB, { ts, storedAt: ts, markets: points.length, points });
  await maintain(env.DB, ts);
}

describe("24 h figures", () => {
  it("stay exact through front switches, chunked builds, a late tick, an outage and its rebuild", { timeout: 900_000 }, async () => {
    expect(T0 % SEGMENT_MS).toBe(0); // the scenario's times are chosen around segment boundaries
    const next = random(7);
    // 12 blocks of 48 (500 prices, 30 volumes): building reads ~500 minutes of frames a run, so a
    // segment's suffix rows take two runs and a rebuild of the day three.
    const symbols: Record<Point["metric_type"], string[]> = {
      price: Array.from({ length: 500 }, (_, i) => `p${i}usd`),
      volume: Array.from({ length: 30 }, (_, i) => `v${i}`),
    };
    const walk = new Map<string, number>();
    const pointsAt = (ts: number): Point[] =>
      (Object.entries(symbols) as [Point["metric_type"], string[]][]).flatMap(([type, list]) =>
        list.flatMap((symbol, i): Point[] => {
          if (symbol === "p7usd") return [{ metric_type: type, symbol, value: 42 }]; // constant
          if (symbol === "p9usd" && ts < T0 + 20 * MINUTE) return []; // appears late
          if (next() < 0.15) return []; // gaps
          const key = `${type}/${symbol}`;
          const value = (walk.get(key) ?? 100 + i) * (1 + (next() - 0.5) / 50);
          walk.set(key, value);
          return [{ metric_type: type, symbol, value }];
        }),
      );

    // A day of ticks 7 minutes apart (lo moves several minutes a run, across step and segment edges).
    const states: DayState[] = [];
    for (let ts = T0 - 26 * HOUR + 3 * MINUTE; ts <= T0 + 10 * MINUTE; ts += 7 * MINUTE) {
      // Checked after the tick's own run and after the maintenance run that follows it.
      for (const run of [() => insertTick(env.DB, { ts, storedAt: ts, markets: 1, points: pointsAt(ts) }), () => maintain(env.DB, ts)]) {
        await run();
        const ok = await expectFiguresMatchStoredValues();
        states.push(await dayState());
        // The first run finds nothing to rebuild from; the rebuild then reads ~500 minutes of frames a
        // run (3 runs for the day); from then on the figures stay exact.
        expect(ok || (states.length <= 5 && !states.some((s) => s.ok)), `run ${states.length}: ${JSON.stringify(states.at(-1))}`).toBe(true);
      }
    }
    // The front moved into each next segment as lo reached it, from suffix rows built in chunks.
    const fronts = new Set(states.filter((s) => s.ok).map((s) => s.front));
    expect(fronts.size, "fronts").toBeGreaterThanOrEqual(2);
    expect(states.some((s) => s.build !== null), "chunked build").toBe(true);

    // Minute ticks: the common slide, one minute at a time.
    let ts = Math.ceil((T0 + 10 * MINUTE) / MINUTE) * MINUTE + MINUTE;
    for (let i = 0; i < 25; i++, ts += MINUTE) {
      await tick(ts, pointsAt(ts));
      expect(await expectFiguresMatchStoredValues(), `minute ${i}: ${JSON.stringify(await dayState())}`).toBe(true);
    }

    // A late tick: minute ts + 1 lands before minute ts.
    await tick(ts + MINUTE, pointsAt(ts + MINUTE));
    await tick(ts, pointsAt(ts));
    expect(await expectFiguresMatchStoredValues(), `late tick: ${JSON.stringify(await dayState())}`).toBe(true);
    ts += 2 * MINUTE;

    // Ticks 10 minutes apart up to the minute before a segment boundary (lo then is a minute before one too).
    for (; ts < T0 + 12 * HOUR - MINUTE; ts += 10 * MINUTE) {
      await tick(ts, pointsAt(ts));
      expect(await expectFiguresMatchStoredValues(), `10-minute ticks: ${JSON.stringify(await dayState())}`).toBe(true);
    }
    ts = T0 + 12 * HOUR - MINUTE;
    await tick(ts, pointsAt(ts));
    // An outage of 12 h 5 min: lo skips a whole segment, so the suffix rows of the new front were never
    // built (they are built once a segment is complete, and it was not); the figures are rebuilt from
    // the frames (null meanwhile), then exact again.
    ts += 12 * HOUR + 5 * MINUTE;
    const rebuilding: boolean[] = [];
    for (let i = 0; i < 4; i++, ts += MINUTE) {
      for (const run of [() => insertTick(env.DB, { ts, storedAt: ts, markets: 1, points: pointsAt(ts) }), () => maintain(env.DB, ts)]) {
        await run();
        rebuilding.push(!(await expectFiguresMatchStoredValues()));
        // /health says so; /latest serves no figures meanwhile, and never wrong ones.
        setNow(ts + 5_000);
        expect((await getJson("/health")).body.figures_24h).toBe(rebuilding.at(-1) ? "rebuilding" : "exact");
        const latest = (await getJson("/metric_types/volume/latest")).body.latest as { min_24h: number | null }[];
        expect(latest.every((row) => (row.min_24h === null) === rebuilding.at(-1))).toBe(true);
      }
    }
    // (The catch-up slides lo an hour of stored ticks a run, so the front may first move one segment.)
    expect(rebuilding.some(Boolean), "rebuilt after the outage").toBe(true);
    expect(rebuilding.slice(-4), "exact again after the rebuild").toEqual([false, false, false, false]);
  });

  it("stay exact under random ticks, gaps, late ticks, outages and runs without a tick", { timeout: 900_000 }, async () => {
    const next = random(2026);
    // 12 blocks (so building and rebuilding take several runs), a few always-present metrics and many gappy ones.
    const prices = Array.from({ length: 520 }, (_, i) => `r${i}usd`);
    const volumes = Array.from({ length: 40 }, (_, i) => `r${i}`);
    const walk = new Map<string, number>();
    const pointsAt = (): Point[] =>
      [...prices.map((symbol) => ["price", symbol] as const), ...volumes.map((symbol) => ["volume", symbol] as const)].flatMap(([type, symbol], i): Point[] => {
        if (i % 5 !== 0 && next() < 0.3) return [];
        const value = (walk.get(symbol) ?? 50 + i) * (1 + (next() - 0.5) / 20);
        walk.set(symbol, value);
        return [{ metric_type: type, symbol, value }];
      });
    let ts = T0 - 3 * HOUR;
    const skipped: number[] = [];
    let exact = 0;
    let stale = 0;
    for (let run = 0; run < 260; run++) {
      const roll = next();
      if (roll < 0.55) ts += MINUTE;
      else if (roll < 0.8) {
        // A gap; the minutes skipped may come later, late.
        const gap = 1 + Math.floor(next() * 120);
        for (let m = 1; m < Math.min(gap, 4); m++) skipped.push(ts + m * MINUTE);
        ts += gap * MINUTE;
      } else if (roll < 0.85) ts += Math.floor((6 + next() * 24) * 60) * MINUTE; // an outage of 6 to 30 h
      else if (roll < 0.93 && skipped.length > 0) {
        // A late tick, for a minute skipped a while ago.
        const late = skipped.splice(Math.floor(next() * skipped.length), 1)[0]!;
        await insertTick(env.DB, { ts: late, storedAt: ts, markets: 1, points: pointsAt() }).catch(() => undefined);
        (await expectFiguresMatchStoredValues()) ? exact++ : stale++;
        continue;
      } else {
        // A run without a tick, some minutes on (lo follows the clock).
        ts += Math.floor(next() * 30) * MINUTE;
        await maintain(env.DB, ts);
        (await expectFiguresMatchStoredValues()) ? exact++ : stale++;
        continue;
      }
      await tick(ts, pointsAt());
      (await expectFiguresMatchStoredValues()) ? exact++ : stale++;
    }
    // Whatever happened, a few regular minutes make them exact again.
    for (let i = 0; i < 5; i++) {
      ts += MINUTE;
      await tick(ts, pointsAt());
    }
    expect(await expectFiguresMatchStoredValues()).toBe(true);
    expect(exact).toBeGreaterThan(stale);
  });

  it("keep a state that does not grow over a month of ticks, and stay exact", { timeout: 900_000 }, async () => {
    const next = random(30);
    const symbols = ["btcusd", "ethusd", "solusd", "usdcusd", "btc", "eth"];
    const walk = new Map<string, number>();
    const pointsAt = (): Point[] =>
      symbols.flatMap((symbol, i): Point[] => {
        if (next() < 0.1) return [];
        const value = (walk.get(symbol) ?? 10 + i) * (1 + (next() - 0.5) / 20);
        walk.set(symbol, value);
        return [{ metric_type: symbol.endsWith("usd") ? "price" : "volume", symbol, value }];
      });
    // A tick every 1 to 2 hours, now and then a few minute ticks or a run without a tick.
    let ts = T0 + 7 * MINUTE;
    const end = ts + 30 * DAY;
    const sizes: { ts: number; built: number; text: number }[] = [];
    let exact = 0;
    let runs = 0;
    while (ts < end) {
      const roll = next();
      if (roll < 0.1) {
        for (let i = 0; i < 5; i++) await tick((ts += MINUTE), pointsAt());
      } else if (roll < 0.2) await maintain(env.DB, (ts += Math.floor(next() * 20) * MINUTE));
      else await tick((ts += (60 + Math.floor(next() * 61)) * MINUTE), pointsAt());
      runs++;
      if (await expectFiguresMatchStoredValues()) exact++;
      const text = (await env.DB.prepare("SELECT day FROM tracker_state").first<{ day: string }>())!.day;
      const day = await dayState();
      const { hi } = (await env.DB.prepare("SELECT hi FROM tracker_state").first<{ hi: number }>())!;
      // The window (lo, hi] spans at most three segments: the front, one whole, the current one.
      if (day.ok) expect(day.built.every((k) => k > day.front && k <= Math.ceil(hi / SEGMENT_MS)), JSON.stringify(day)).toBe(true);
      sizes.push({ ts, built: day.built.length, text: text.length });
    }
    expect(Math.max(...sizes.map((s) => s.built))).toBeLessThanOrEqual(2);
    // No longer in the last week than in the first two days.
    const early = Math.max(...sizes.filter((s) => s.ts < T0 + 2 * DAY).map((s) => s.text));
    const late = Math.max(...sizes.filter((s) => s.ts > end - 7 * DAY).map((s) => s.text));
    expect(late).toBeLessThanOrEqual(early);
    expect(late).toBeLessThan(200);
    expect(exact).toBeGreaterThan(0.95 * runs);
  });

  it("at the window's edge: a value exactly 24 h older than the latest is out, one a minute younger is in", async () => {
    const at = (value: number, symbol = "btcusd"): Point[] => [{ metric_type: "price", symbol, value }];
    await tick(T0, at(100));
    await tick(T0 + MINUTE, [...at(80), ...at(7, "ethusd")]);
    await tick(T0 + 30 * MINUTE, at(120));
    await tick(T0 + DAY, at(90));
    expect(await expectFiguresMatchStoredValues()).toBe(true);
    setNow(T0 + DAY + 5_000);

    // Window (T0, T0 + 24 h]: 80, 120, 90. The 100 at T0 is out.
    const one = await getJson("/metric_types/price/metrics/btcusd");
    expect(one.status).toBe(200);
    expect(one.body.latest).toEqual({ time: new Date(T0 + DAY).toISOString(), value: 90, change_24h: (90 - 80) / 80, min_24h: 80, max_24h: 120 });
    const latest = await getJson("/metric_types/price/latest");
    expect(latest.body.latest).toEqual([
      { symbol: "btcusd", time: new Date(T0 + DAY).toISOString(), value: 90, change_24h: 0.125, min_24h: 80, max_24h: 120 },
      // One point in the window: no change, its own min and max.
      { symbol: "ethusd", time: new Date(T0 + MINUTE).toISOString(), value: 7, change_24h: null, min_24h: 7, max_24h: 7 },
    ]);

    // A minute later the 80 has left too: the oldest is now the 120.
    await tick(T0 + DAY + MINUTE, at(60));
    setNow(T0 + DAY + MINUTE + 5_000);
    expect((await getJson("/metric_types/price/metrics/btcusd")).body.latest).toEqual({
      time: new Date(T0 + DAY + MINUTE).toISOString(),
      value: 60,
      change_24h: (60 - 120) / 120,
      min_24h: 60,
      max_24h: 120,
    });
    expect((await getJson("/metric_types/price/latest")).body.latest.map((row: { symbol: string }) => row.symbol)).toEqual(["btcusd"]);
  });
});
