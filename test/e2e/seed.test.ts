/**
 * `npm run seed -- --days 8`: the candles before the seeded minutes, read back
 * from the local D1's SQLite file and checked against the minute values
 * regenerated here (scripts/seed-data.mjs draws them) with plain two-pass
 * arithmetic: 60 values an hour, each daily candle the merge of its hours, the
 * windows of sums.windows, and tracker_state's cursors.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DAY, HOUR, MINUTE, minuteDay, pastWalk, type SeedType } from "../../scripts/seed-data.mjs";
import layout from "../../src/storage/layout.json";
import { startCryptowatch, startTracker } from "./harness";

const METRICS = 100; // 52 price (a full block of 48 and a partial one) and 48 volume
const DAYS = 8; // more than a week: the 7 d window starts inside the seeded past, the 30 d one before it
const SEED = new URL("../../scripts/seed.mjs", import.meta.url).pathname;

/** A candle cell by field name (layout.json's "candle" gives each field's position). */
interface Cell {
  symbol: string;
  open: number;
  high: number;
  low: number;
  close: number;
  n: number;
  /** mean - open */
  d: number;
  m2: number;
}
const meanOf = (c: Cell) => c.open + c.d;
interface Row {
  metric_type: SeedType;
  span: number;
  block: number;
  ts: number;
  c: string;
}

/** Mean and m2 the textbook way: the mean, then the squared deviations from it. */
function twoPass(values: readonly number[]) {
  const mean = values.reduce((a, x) => a + x, 0) / values.length;
  return { n: values.length, mean, m2: values.reduce((a, x) => a + (x - mean) ** 2, 0) };
}
const std = ({ n, m2 }: { n: number; m2: number }) => Math.sqrt(m2 / n);
/** Equal to rounding: relative to the values' scale (a std is compared to the mean's magnitude too). */
const close = (actual: number, expected: number, scale: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-11 * scale);

/** The local D1's SQLite file under a --persist-to directory. */
function sqliteFile(state: string): string {
  const dir = join(state, "v3", "d1", "miniflare-D1DatabaseObject");
  return join(dir, readdirSync(dir).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite")!);
}

describe("npm run seed -- --days", () => {
  let state: string;
  let db: DatabaseSync;

  beforeAll(() => {
    state = mkdtempSync(join(tmpdir(), "tracker-seed-"));
    const seed = spawnSync("npm", ["run", "seed", "--", "--persist-to", state, "--metrics", String(METRICS), "--days", String(DAYS)], {
      encoding: "utf8",
    });
    expect(seed.status, seed.stdout + seed.stderr).toBe(0);
    db = new DatabaseSync(sqliteFile(state), { readOnly: true });
  });

  afterAll(() => {
    db?.close();
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it("writes the candles a tracker would have rolled up from a value every minute, and says where it takes over", () => {
    const trackerState = db.prepare("SELECT hi, candles_until, days_until, hour_ts FROM tracker_state").get() as Record<string, number | null>;
    const end = trackerState.hi!;
    const first = (db.prepare("SELECT min(ts) AS ts FROM frames").get() as { ts: number }).ts;
    expect(first).toBe(end - 1439 * MINUTE);
    // The hour of the first seeded minute is the seed's (completed by the past), the next ones the tracker's.
    const candlesUntil = Math.ceil(first / HOUR) * HOUR;
    const daysUntil = Math.floor(candlesUntil / DAY) * DAY;
    const from = daysUntil - DAYS * DAY;
    expect(trackerState).toEqual({ hi: end, candles_until: candlesUntil, days_until: daysUntil, hour_ts: null });

    // The minute values, regenerated: the seeded day as stored, its past continued back to `from`.
    const { metrics, series, states } = minuteDay(METRICS, 1440);
    const valueAt = new Map<string, Map<number, number>>();
    for (const type of ["price", "volume"] as const) {
      metrics[type].forEach((metric, slot) => {
        const values = new Map<number, number>();
        series[type][slot]!.forEach((v, i) => values.set(first + i * MINUTE, v));
        const previous = pastWalk(type, metric, states[type][slot]!);
        for (let ts = first - MINUTE; ts >= from; ts -= MINUTE) values.set(ts, previous());
        valueAt.set(`${type}:${metric[0]}`, values);
        const block = Math.floor(slot / layout.blockSlots);
        const stored = db.prepare("SELECT v FROM frames WHERE metric_type = ? AND block = ? AND ts = ?").get(type, block, first) as { v: string };
        expect(JSON.parse(stored.v)[slot % layout.blockSlots]).toBe(values.get(first));
      });
    }
    const minutesOf = (type: string, symbol: string, ts: number, span: number) =>
      Array.from({ length: span / MINUTE }, (_, i) => valueAt.get(`${type}:${symbol}`)!.get(ts + i * MINUTE)!);

    const rows = db.prepare("SELECT metric_type, span, block, ts, c FROM candles ORDER BY metric_type, span, block, ts").all() as unknown as Row[];
    const cells = (row: Row) =>
      (JSON.parse(row.c) as unknown[][]).map((cell) => Object.fromEntries(layout.candle.map((field, i) => [field, cell[i]])) as unknown as Cell);
    const hourly = rows.filter((row) => row.span === HOUR);
    const daily = rows.filter((row) => row.span === DAY);
    const hours = (candlesUntil - from) / HOUR;
    const blocks = [metrics.price, metrics.volume].reduce((a, list) => a + Math.ceil(list.length / layout.blockSlots), 0);
    expect(blocks).toBe(3);
    expect(hourly.length).toBe(blocks * hours);
    // The days before daysUntil, and the day of candlesUntil so far (its hours before it) when it has begun.
    const today = candlesUntil > daysUntil ? 1 : 0;
    expect(daily.length).toBe(blocks * (DAYS + today));
    expect(Math.min(...rows.map((row) => row.ts))).toBe(from);
    expect(Math.max(...hourly.map((row) => row.ts))).toBe(candlesUntil - HOUR);
    expect(Math.max(...daily.map((row) => row.ts))).toBe(today ? daysUntil : daysUntil - DAY);

    // Every hourly cell: its metric's 60 values, their std by two passes.
    for (const row of hourly) {
      const list = metrics[row.metric_type].slice(row.block * layout.blockSlots, (row.block + 1) * layout.blockSlots);
      const candles = cells(row);
      expect(candles.map((c) => c.symbol)).toEqual(list.map(([symbol]) => symbol));
      for (const c of candles) {
        const values = minutesOf(row.metric_type, c.symbol, row.ts, HOUR);
        expect(c.n).toBe(60);
        expect([c.open, c.high, c.low, c.close]).toEqual([values[0], Math.max(...values), Math.min(...values), values.at(-1)]);
        const expected = twoPass(values);
        close(meanOf(c), expected.mean, Math.abs(expected.mean));
        close(std(c), std(expected), Math.abs(expected.mean));
      }
    }

    // Every daily cell: the merge of its 24 hourly cells (the day of candlesUntil: its hours before it), and the two passes over its values.
    for (const row of daily) {
      const end = Math.min(row.ts + DAY, candlesUntil);
      const hoursOfDay = hourly.filter((h) => h.metric_type === row.metric_type && h.block === row.block && h.ts >= row.ts && h.ts < end);
      expect(hoursOfDay.map((h) => h.ts)).toEqual(Array.from({ length: (end - row.ts) / HOUR }, (_, i) => row.ts + i * HOUR));
      cells(row).forEach((c, j) => {
        const parts = hoursOfDay.map((h) => cells(h)[j]!);
        expect(c.symbol).toBe(parts[0]!.symbol);
        expect([c.open, c.high, c.low, c.close]).toEqual([
          parts[0]!.open,
          Math.max(...parts.map((p) => p.high)),
          Math.min(...parts.map((p) => p.low)),
          parts.at(-1)!.close,
        ]);
        // The merge as the sum of within- and between-hour parts (not Chan's sequential form).
        const n = parts.reduce((a, p) => a + p.n, 0);
        const mean = parts.reduce((a, p) => a + p.n * meanOf(p), 0) / n;
        const m2 = parts.reduce((a, p) => a + p.m2 + p.n * (meanOf(p) - mean) ** 2, 0);
        expect(c.n).toBe(n);
        close(meanOf(c), mean, Math.abs(mean));
        close(std(c), std({ n, m2 }), Math.abs(mean));
        const expected = twoPass(minutesOf(row.metric_type, c.symbol, row.ts, end - row.ts));
        expect(c.n).toBe(expected.n);
        close(std(c), std(expected), Math.abs(expected.mean));
      });
    }

    // sums.windows: per slot the closed hours of the last 7 d, and of the last 30 d (here all of the past).
    for (const type of ["price", "volume"] as const) {
      const windows = (db.prepare("SELECT windows FROM sums WHERE metric_type = ? ORDER BY part").all(type) as { windows: string }[]).flatMap(
        (row) => JSON.parse(row.windows) as [number, number, number, number][][],
      );
      expect(windows.length).toBe(metrics[type].length);
      metrics[type].forEach(([symbol], slot) => {
        for (const [w, span] of [[0, 168 * HOUR], [1, 720 * HOUR]] as const) {
          const start = Math.max(from, candlesUntil - span);
          const expected = twoPass(minutesOf(type, symbol, start, candlesUntil - start));
          const [n, k, d, m2] = windows[slot]![w]!;
          expect(n).toBe(expected.n);
          close(k! + d!, expected.mean, Math.abs(expected.mean));
          close(std({ n: n!, m2: m2! }), std(expected), Math.abs(expected.mean));
        }
      });
    }
  });

  it("npm start takes over: the next hours are rolled up from the seeded minutes, the day and the windows continue exactly", async () => {
    const trackerState = db.prepare("SELECT hi, candles_until FROM tracker_state").get() as { hi: number; candles_until: number };
    const first = trackerState.hi - 1439 * MINUTE;
    const from = Math.floor(trackerState.candles_until / DAY) * DAY - DAYS * DAY;
    const { metrics, series, states } = minuteDay(METRICS, 1440);
    const slot = metrics.price.findIndex(([symbol]) => symbol === "a0usd");
    const values = new Map<number, number>();
    series.price[slot]!.forEach((v, i) => values.set(first + i * MINUTE, v));
    const previous = pastWalk("price", metrics.price[slot]!, states.price[slot]!);
    for (let ts = first - MINUTE; ts >= from; ts -= MINUTE) values.set(ts, previous());
    const between = (a: number, b: number) => [...values].filter(([ts]) => ts >= a && ts < b).sort((x, y) => x[0] - y[0]).map(([, v]) => v);
    db.close();

    const upstream = await startCryptowatch();
    const tracker = await startTracker({ persistTo: state, vars: { SOURCES: "cryptowatch", CRYPTOWATCH_API_URL: upstream.url } });
    try {
      await tracker.tick();
      db = new DatabaseSync(sqliteFile(state), { readOnly: true });
      const after = db.prepare("SELECT candles_until, days_until, hour_ts FROM tracker_state").get() as Record<string, number>;
      // One run rolls up to six of the hours the seed left to the tracker, from its frames.
      expect(after.candles_until).toBeGreaterThan(trackerState.candles_until);
      const C = after.candles_until!;
      const hourly = await tracker.get(`/metric_types/price/metrics/a0usd/candles?interval=1h&since=${from}&until=${C - HOUR}`);
      expect(hourly.status).toBe(200);
      expect(hourly.body.candles.length).toBe((C - from) / HOUR);
      hourly.body.candles.forEach((c: { time: string; n: number; open: number; close: number; mean: number; std: number }, i: number) => {
        const h = from + i * HOUR;
        const want = twoPass(between(h, h + HOUR));
        expect(c.time).toBe(new Date(h).toISOString());
        expect([c.n, c.open, c.close]).toEqual([60, values.get(h), values.get(h + 59 * MINUTE)]);
        close(c.mean, want.mean, Math.abs(want.mean));
        close(c.std, std(want), Math.abs(want.mean));
      });
      // Every whole day before C, and the day of C so far, merged from the seed's hours and the tracker's alike.
      const daily = await tracker.get(`/metric_types/price/metrics/a0usd/candles?interval=1d&since=${from}&until=${after.days_until}`);
      const openHour = (d: number) => (Math.floor(after.hour_ts! / DAY) * DAY === d && after.hour_ts! >= C ? between(after.hour_ts!, after.hour_ts! + HOUR) : []);
      const days: (readonly [number, ReturnType<typeof twoPass>])[] = [];
      for (let d = from; d <= after.days_until!; d += DAY) {
        const dayValues = d < after.days_until! ? between(d, d + DAY) : [...between(d, C), ...openHour(d)];
        if (dayValues.length > 0) days.push([d, twoPass(dayValues)] as const);
      }
      expect(daily.body.candles.map((c: { time: string }) => c.time)).toEqual(days.map(([d]) => new Date(d).toISOString()));
      daily.body.candles.forEach((c: { n: number; mean: number; std: number }, i: number) => {
        const want = days[i]![1];
        expect(c.n).toBe(want.n);
        close(c.mean, want.mean, Math.abs(want.mean));
        close(c.std, std(want), Math.abs(want.mean));
      });
      // The week's volatility: the closed hours [C - 168 h, C) and the open hour's seeded minutes.
      const rank = await tracker.get("/metric_types/price/ranking?window=7d");
      expect(rank.status).toBe(200);
      const row = rank.body.ranking.find((r: { symbol: string }) => r.symbol === "a0usd");
      const week = twoPass([...between(C - 168 * HOUR, C), ...(after.hour_ts! >= C ? between(after.hour_ts!, after.hour_ts! + HOUR) : [])]);
      close(row.stddev, std(week), Math.abs(week.mean));
      expect(rank.body.total).toBeGreaterThanOrEqual(metrics.price.length);
    } finally {
      await tracker.stop();
      await upstream.close();
    }
  });

  it("refuses a --days that is not a whole number of days up to 3650, before touching the database", () => {
    for (const days of ["-1", "2.5", "x", "3651", "1e3"]) {
      const seed = spawnSync(process.execPath, [SEED, "--persist-to", state, "--days", days], { encoding: "utf8" });
      expect(seed.status).toBe(2);
      expect(seed.stderr).toContain(`--days must be a whole number of days from 0 to 3650 (got "${days}")`);
    }
  });
});
