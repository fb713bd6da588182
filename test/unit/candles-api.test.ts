/**
 * The read side of the candles (docs/candles.md, "Reading") and its API:
 * GET .../candles and the ranking's window=7d|30d. The stored rows are written
 * here directly, in the documented format (candles rows, sums.hour and
 * sums.windows, the tracker_state cursors), from raw minute values generated
 * by the test; every expected figure is computed from those raw values by a
 * plain two-pass method, never by the code under test.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Point } from "../../src/domain/point";
import { candles, rankWindow } from "../../src/storage/candle-queries";
import { BLOCK_SLOTS, candleTuple, hourTuple, PART_SLOTS, variancesTuple, windowsTuple } from "../../src/storage/layout";
import { insertTick } from "../../src/storage/ticks";
import { DAY, get, getJson, HOUR, MINUTE, random, resetDatabase, setNow, T0 } from "./helpers";
import { metered } from "./metered";

/** Now: 12:30:15 on 2026-11-29; the open hour is 12:00 (T0), today began 12 h before. */
const NOW = T0 + 30 * MINUTE + 15_000;
const TODAY = T0 - 12 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

/** The textbook figures of a list of minute values: two passes, deviations taken from the first value (exact near it). */
function reference(values: readonly number[]) {
  const n = values.length;
  const x0 = values[0]!;
  const d = values.map((x) => x - x0);
  const dMean = d.reduce((a, b) => a + b, 0) / n;
  const m2 = d.reduce((a, x) => a + (x - dMean) * (x - dMean), 0);
  return {
    open: values[0]!,
    high: Math.max(...values),
    low: Math.min(...values),
    close: values[n - 1]!,
    n,
    mean: x0 + dMean,
    k: x0,
    d: dMean,
    m2,
    std: Math.sqrt(m2 / n),
  };
}

/** A stored cell, as the roll-up writes it: [symbol, open, high, low, close, n, mean, m2]. */
const cellOf = (symbol: string, values: readonly number[]) => candleTuple(symbol, reference(values));

/** Expect the API's candle to be the reference of these values (std and mean to `relative`). */
function expectCandle(actual: any, time: number, values: readonly number[], complete: boolean, relative = 1e-12) {
  const want = reference(values);
  expect(actual.time).toBe(iso(time));
  expect({ open: actual.open, high: actual.high, low: actual.low, close: actual.close, n: actual.n, complete: actual.complete }).toEqual({
    open: want.open,
    high: want.high,
    low: want.low,
    close: want.close,
    n: want.n,
    complete,
  });
  expect(Math.abs(actual.mean - want.mean)).toBeLessThanOrEqual(relative * Math.abs(want.mean) + 1e-300);
  expect(Math.abs(actual.std - want.std), `std ${actual.std} vs ${want.std} at ${iso(time)}`).toBeLessThanOrEqual(relative * want.std + 1e-300);
}

/** A metric's generated minute values, by hour start: a random walk, some hours empty. */
class Series {
  readonly hours = new Map<number, number[]>();
  constructor(
    readonly metricType: string,
    readonly symbol: string,
    readonly slot: number,
  ) {}

  static walk(metricType: string, symbol: string, slot: number, seed: number, from: number, to: number, base = 100, step = 1, gaps = true) {
    const series = new Series(metricType, symbol, slot);
    const draw = random(seed);
    let x = base;
    for (let h = from; h <= to; h += HOUR) {
      if (gaps && draw() < 0.03) continue; // an hour without values
      const values: number[] = [];
      const count = 20 + Math.floor(draw() * 41);
      for (let i = 0; i < count; i++) values.push((x += (draw() - 0.5) * step));
      series.hours.set(h, values);
    }
    return series;
  }

  /** The values of the hours in [from, to). */
  between(from: number, to: number): number[] {
    return [...this.hours].filter(([h]) => h >= from && h < to).flatMap(([, values]) => values);
  }
}

/** Each slot gets the next free one: create the metrics with a tick at T0 and read their slots. */
async function metricsAt(points: Point[]): Promise<Map<string, number>> {
  await insertTick(env.DB, { ts: T0, storedAt: T0, markets: points.length, points });
  const { results } = await env.DB.prepare("SELECT metric_type, symbol, slot FROM metrics").all<{ metric_type: string; symbol: string; slot: number }>();
  return new Map(results.map((row) => [`${row.metric_type}/${row.symbol}`, row.slot]));
}

/** Start empty, candles included; the roll-up's state as written by this test only. */
async function resetCandles() {
  await resetDatabase();
  await env.DB.batch([
    env.DB.prepare("DELETE FROM candles"),
    env.DB.prepare("UPDATE tracker_state SET hour_ts = NULL, candles_until = NULL, days_until = NULL, windows_block = 0"),
  ]);
}

interface Rolled {
  /** candles_until: hours before it have their rows. */
  C: number | null;
  /** days_until: days before it have their rows. */
  D: number | null;
  /** hour_ts: the hour sums.hour describes. */
  hourTs: number | null;
}

type Cell = unknown[] | null;

async function insertRows(metricType: string, span: number, rows: Map<string, Cell[]>) {
  const statements = [...rows].map(([key, cells]) => {
    const [block, ts] = key.split("/").map(Number) as [number, number];
    return env.DB.prepare("INSERT INTO candles (metric_type, span, block, ts, c) VALUES (?1, ?2, ?3, ?4, ?5)").bind(
      metricType,
      span,
      block,
      ts,
      JSON.stringify(cells),
    );
  });
  for (let i = 0; i < statements.length; i += 500) await env.DB.batch(statements.slice(i, i + 500));
}

function putCell(rows: Map<string, Cell[]>, slot: number, ts: number, cell: Cell) {
  const key = `${Math.floor(slot / BLOCK_SLOTS)}/${ts}`;
  const cells = rows.get(key) ?? Array<Cell>(BLOCK_SLOTS).fill(null);
  cells[slot % BLOCK_SLOTS] = cell;
  rows.set(key, cells);
}

/**
 * Write what the roll-up would have written for these series of one type:
 * hourly rows for the hours before C (from `hourlyFrom` on), daily rows for
 * the days before D (from `dailyFrom` on), sums.hour for the hour hourTs,
 * sums.windows of the closed hours before C; then the state (and a new version).
 */
async function store(series: Series[], { C, D, hourTs }: Rolled, { hourlyFrom = -Infinity, dailyFrom = -Infinity } = {}) {
  const metricType = series[0]!.metricType;
  const hourly = new Map<string, Cell[]>();
  const daily = new Map<string, Cell[]>();
  for (const s of series) {
    for (const [h, values] of s.hours) if (C !== null && h < C && h >= hourlyFrom) putCell(hourly, s.slot, h, cellOf(s.symbol, values));
    if (D !== null) {
      const days = new Set([...s.hours.keys()].map((h) => Math.floor(h / DAY) * DAY));
      for (const d of days) if (d < D && d >= dailyFrom) putCell(daily, s.slot, d, cellOf(s.symbol, s.between(d, d + DAY)));
    }
  }
  await insertRows(metricType, HOUR, hourly);
  await insertRows(metricType, DAY, daily);
  const parts = new Map<number, { hour: Cell[]; windows: Cell[]; variances: Cell[] }>();
  for (const s of series) {
    const part = parts.get(Math.floor(s.slot / PART_SLOTS)) ?? { hour: [], windows: [], variances: [] };
    parts.set(Math.floor(s.slot / PART_SLOTS), part);
    const i = s.slot % PART_SLOTS;
    const open = hourTs === null ? undefined : s.hours.get(hourTs);
    part.hour[i] = open ? hourTuple({ ...reference(open), openTs: hourTs!, closeTs: hourTs! + (open.length - 1) * MINUTE }) : null;
    if (C !== null) {
      const week = reference(s.between(C - 168 * HOUR, C));
      const month = reference(s.between(C - 720 * HOUR, C));
      const moments = (m: ReturnType<typeof reference>) => (m.n > 0 ? { n: m.n, k: m.k, d: m.d, m2: m.m2 } : { n: 0, k: 0, d: 0, m2: 0 });
      part.windows[i] = windowsTuple([moments(week), moments(month)]);
    }
    // What the ledger writes for the rankings: each window's values with the open hour's (once it is after C), as a variance.
    const withOpen = (values: number[]) => [...values, ...(open && (C === null || hourTs! >= C) ? open : [])];
    const variance = (values: number[]) => (values.length > 0 ? reference(values).m2 / values.length : null);
    part.variances[i] =
      C === null && !open
        ? null
        : variancesTuple({
            symbol: s.symbol,
            week: variance(withOpen(C === null ? [] : s.between(C - 168 * HOUR, C))),
            month: variance(withOpen(C === null ? [] : s.between(C - 720 * HOUR, C))),
          });
  }
  for (const [part, { hour, windows, variances }] of parts) {
    const fill = (cells: Cell[]) => JSON.stringify(Array.from(cells, (cell) => cell ?? null));
    await env.DB.prepare("UPDATE sums SET hour = ?3, windows = ?4, variances = ?5 WHERE metric_type = ?1 AND part = ?2")
      .bind(metricType, part, fill(hour), fill(windows), fill(variances))
      .run();
  }
  await setCursors({ C, D, hourTs });
}

/** The roll-up's cursors, and a new version (so no answer cached at the edge is reused). */
async function setCursors({ C, D, hourTs }: Rolled) {
  await env.DB.prepare("UPDATE tracker_state SET candles_until = ?1, days_until = ?2, hour_ts = ?3, version = version + 1")
    .bind(C, D, hourTs)
    .run();
}

afterEach(() => vi.restoreAllMocks());

describe("candles(): a metric's hourly candles", () => {
  let slots: Map<string, number>;
  beforeEach(async () => {
    await resetCandles();
    slots = await metricsAt([
      { metric_type: "price", symbol: "btceur", value: 1 },
      { metric_type: "price", symbol: "etheur", value: 1 },
      { metric_type: "price", symbol: "adausd", value: 1 },
    ]);
  });

  it("720 closed hours from their rows and the open hour from sums.hour, each the two-pass figures of its values, ~1 row read a candle", async () => {
    const from = T0 - 720 * HOUR;
    const btc = Series.walk("price", "btceur", slots.get("price/btceur")!, 1, from, T0, 50000, 40);
    const eth = Series.walk("price", "etheur", slots.get("price/etheur")!, 2, from, T0, 2500, 3);
    await store([btc, eth], { C: T0, D: TODAY, hourTs: T0 });

    const { reader, rowsRead } = metered(env.DB);
    const found = (await candles(reader, "price", "btceur", "1h", from, NOW, NOW))!;
    const hours = [...btc.hours.keys()];
    expect(found.map((c) => c.time)).toEqual(hours.map(iso));
    expect(found.length).toBeGreaterThan(680);
    found.forEach((candle, i) => expectCandle(candle, hours[i]!, btc.hours.get(hours[i]!)!, hours[i]! < T0));
    expect(found.at(-1)).toMatchObject({ time: iso(T0), complete: false });
    // The metric lookup, the state, the sums row of the open hour, one row per stored hour of the block
    // (an hour where only etheur had values has a row, with a null cell for btceur), and the step that
    // ends the range scan (D1 counts it: 5 rows in a range read 6).
    const rows = new Set([...btc.hours.keys(), ...eth.hours.keys()].filter((h) => h < T0)).size;
    console.log(`hourly: ${found.length} candles, ${rows} stored rows in range, ${rowsRead()} rows read`);
    expect(rowsRead()).toBeLessThanOrEqual(1.1 * found.length);
    expect(rowsRead()).toBeLessThanOrEqual(rows + 4);
  });

  it("a cell of another symbol in the slot (reused) is not the metric's; an hour without a row or with a null cell has no candle", async () => {
    const slot = slots.get("price/btceur")!;
    const btc = Series.walk("price", "btceur", slot, 3, T0 - 6 * HOUR, T0 - HOUR, 100, 1, false);
    await store([btc], { C: T0, D: TODAY, hourTs: null });
    const rows = new Map<string, Cell[]>();
    // 11:00 and 10:00 belonged to a metric forgotten since (same slot, other symbol): replaced.
    await env.DB.prepare("DELETE FROM candles WHERE ts IN (?1, ?2)").bind(T0 - HOUR, T0 - 2 * HOUR).run();
    putCell(rows, slot, T0 - HOUR, cellOf("oldcoin", [1, 2, 3]));
    // 10:00: the row holds only a neighbour's cell.
    putCell(rows, slot + 1, T0 - 2 * HOUR, cellOf("etheur", [5, 6]));
    await insertRows("price", HOUR, rows);
    // 09:00 has no row at all.
    await env.DB.prepare("DELETE FROM candles WHERE ts = ?1").bind(T0 - 3 * HOUR).run();

    const found = (await candles(env.DB, "price", "btceur", "1h", T0 - 6 * HOUR, NOW, NOW))!;
    const kept = [T0 - 6 * HOUR, T0 - 5 * HOUR, T0 - 4 * HOUR];
    expect(found.map((c) => c.time)).toEqual(kept.map(iso));
    found.forEach((candle, i) => expectCandle(candle, kept[i]!, btc.hours.get(kept[i]!)!, true));
  });

  it("the open hour counts only while not rolled: after the roll-up its row is read; a row at or after candles_until is not", async () => {
    const slot = slots.get("price/btceur")!;
    const btc = Series.walk("price", "btceur", slot, 4, T0 - 3 * HOUR, T0, 100, 1, false);
    // The roll-up has just closed 12:00 (C = 13:00) but sums.hour still describes 12:00 (hour_ts < C): the row wins.
    await store([btc], { C: T0 + HOUR, D: TODAY, hourTs: T0 });
    await env.DB.prepare("UPDATE sums SET hour = json_array(json_array(1, 1, 1, 1, 1, 1, 0, 0, 0))").run();
    let found = (await candles(env.DB, "price", "btceur", "1h", T0 - 3 * HOUR, T0 + HOUR + 5 * MINUTE, T0 + HOUR + 5 * MINUTE))!;
    expect(found.map((c) => c.time)).toEqual([T0 - 3 * HOUR, T0 - 2 * HOUR, T0 - HOUR, T0].map(iso));
    expectCandle(found[3], T0, btc.hours.get(T0)!, true);

    // The roll-up is behind (C = 11:00): 11:00 has a row, yet it is not read; the open hour is 12:00.
    await store([btc], { C: T0 - HOUR, D: TODAY, hourTs: T0 }, { hourlyFrom: Infinity });
    found = (await candles(env.DB, "price", "btceur", "1h", T0 - 3 * HOUR, NOW, NOW))!;
    expect(found.map((c) => c.time)).toEqual([T0 - 3 * HOUR, T0 - 2 * HOUR, T0].map(iso));
    expectCandle(found[2], T0, btc.hours.get(T0)!, false);

    // Before the first roll-up (no cursor): the open hour alone.
    await store([btc], { C: null, D: null, hourTs: T0 });
    found = (await candles(env.DB, "price", "btceur", "1h", T0 - 3 * HOUR, NOW, NOW))!;
    expect(found.map((c) => c.time)).toEqual([iso(T0)]);
  });

  it("range: from the interval holding since to the last one starting at or before until", async () => {
    const btc = Series.walk("price", "btceur", slots.get("price/btceur")!, 5, T0 - 10 * HOUR, T0, 100, 1, false);
    await store([btc], { C: T0, D: TODAY, hourTs: T0 });
    const times = async (since: number, until: number) =>
      (await candles(env.DB, "price", "btceur", "1h", since, until, NOW))!.map((c) => (Date.parse(c.time) - T0) / HOUR);
    expect(await times(T0 - 5 * HOUR + 59 * MINUTE, T0 - 2 * HOUR)).toEqual([-5, -4, -3, -2]);
    expect(await times(T0 - 5 * HOUR, T0 - 2 * HOUR - 1)).toEqual([-5, -4, -3]);
    expect(await times(T0 - HOUR, T0)).toEqual([-1, 0]);
    expect(await times(T0 - HOUR, T0 - 1)).toEqual([-1]);
    expect(await times(T0 + HOUR, T0 + 5 * HOUR)).toEqual([]);
    expect(await times(T0 - 30 * HOUR, T0 - 20 * HOUR)).toEqual([]);
  });

  it("prices near 100,000 moving by 1e-6 keep their std: hourly to 1e-9 of the two-pass figure, merged into a day too", async () => {
    const draw = random(6);
    const btc = new Series("price", "btceur", slots.get("price/btceur")!);
    for (let h = TODAY; h <= T0; h += HOUR) {
      btc.hours.set(
        h,
        Array.from({ length: 60 }, () => 100000 + Math.round((draw() - 0.5) * 20) * 1e-6),
      );
    }
    await store([btc], { C: T0, D: TODAY, hourTs: T0 });
    const hourly = (await candles(env.DB, "price", "btceur", "1h", TODAY, NOW, NOW))!;
    expect(hourly).toHaveLength(13);
    hourly.forEach((candle, i) => {
      expect(candle.std).toBeGreaterThan(1e-6);
      expectCandle(candle, TODAY + i * HOUR, btc.hours.get(TODAY + i * HOUR)!, i < 12, 1e-9);
    });
    // Every digit of the stored cells survives the SQL extraction (17 significant digits: 100000.00000123457).
    // A day is merged from its hours' moments, each mean kept as its open plus an offset (d ~ 1e-6 with all its
    // digits): were the means stored as doubles near 100,000 (rounded by up to 7.3e-12) the merged std would be
    // exact to ~1e-7 only.
    const [day] = (await candles(env.DB, "price", "btceur", "1d", TODAY, NOW, NOW))!;
    expectCandle(day, TODAY, btc.between(TODAY, T0 + HOUR), false, 1e-9);
    // What sum(x²) - n·mean² would give is far off: the check can fail.
    const values = btc.between(TODAY, T0 + HOUR);
    const naive = Math.sqrt(Math.max(0, values.reduce((a, x) => a + x * x, 0) / values.length - (values.reduce((a, x) => a + x, 0) / values.length) ** 2));
    expect(Math.abs(naive - day!.std)).toBeGreaterThan(0.01 * day!.std);
  });

  it("an unknown metric is null", async () => {
    expect(await candles(env.DB, "price", "dogeeur", "1h", TODAY, NOW, NOW)).toBeNull();
    expect(await candles(env.DB, "volume", "btceur", "1d", TODAY, NOW, NOW)).toBeNull();
  });
});

describe("candles(): a metric's daily candles", () => {
  let slots: Map<string, number>;
  beforeEach(async () => {
    await resetCandles();
    slots = await metricsAt([
      { metric_type: "price", symbol: "btceur", value: 1 },
      { metric_type: "price", symbol: "etheur", value: 1 },
    ]);
  });

  it("365 days from their rows and today merged from its closed hours and the open hour, ~1 row read a candle", async () => {
    const from = TODAY - 365 * DAY;
    const btc = Series.walk("price", "btceur", slots.get("price/btceur")!, 7, from, T0, 50000, 40);
    const eth = Series.walk("price", "etheur", slots.get("price/etheur")!, 8, from, T0, 2500, 3);
    // Hourly rows are kept 30 days; daily rows for every day before today.
    await store([btc, eth], { C: T0, D: TODAY, hourTs: T0 }, { hourlyFrom: TODAY - 30 * DAY });

    const { reader, rowsRead } = metered(env.DB);
    const found = (await candles(reader, "price", "btceur", "1d", from, NOW, NOW))!;
    expect(found).toHaveLength(366);
    found.forEach((candle, i) => {
      const day = from + i * DAY;
      expectCandle(candle, day, btc.between(day, day + DAY), day < TODAY);
    });
    // Today: 00:00-11:00 from the hourly rows, 12:00 from sums.hour.
    expectCandle(found.at(-1), TODAY, btc.between(TODAY, T0 + HOUR), false);
    console.log(`daily: ${found.length} candles, ${rowsRead()} rows read`);
    expect(rowsRead()).toBeLessThanOrEqual(1.1 * found.length);
    // 365 daily rows, today's 12 hourly rows, the metric, the state, the sums row, the end of each of the two scans.
    expect(rowsRead()).toBeLessThanOrEqual(365 + 12 + 3 + 2);
  });

  it("days_until behind: the days from it on are merged from their hours, whatever daily rows exist for them", async () => {
    const slot = slots.get("price/btceur")!;
    const btc = Series.walk("price", "btceur", slot, 9, TODAY - 5 * DAY, T0, 100, 1);
    await store([btc], { C: T0, D: TODAY - 2 * DAY, hourTs: T0 });
    // A stale daily row of a day at or after days_until is not read.
    const rows = new Map<string, Cell[]>();
    putCell(rows, slot, TODAY - DAY, cellOf("btceur", [7, 7, 7]));
    await insertRows("price", DAY, rows);
    const found = (await candles(env.DB, "price", "btceur", "1d", TODAY - 5 * DAY, NOW, NOW))!;
    expect(found).toHaveLength(6);
    found.forEach((candle, i) => {
      const day = TODAY - 5 * DAY + i * DAY;
      expectCandle(candle, day, btc.between(day, day + DAY), day < TODAY);
    });
  });

  it("before any roll-up today is its open hour alone; a day without any value has no candle", async () => {
    const btc = Series.walk("price", "btceur", slots.get("price/btceur")!, 10, T0, T0, 100, 1, false);
    await store([btc], { C: null, D: null, hourTs: T0 });
    const found = (await candles(env.DB, "price", "btceur", "1d", TODAY - 3 * DAY, NOW, NOW))!;
    expect(found).toHaveLength(1);
    expectCandle(found[0], TODAY, btc.hours.get(T0)!, false);
  });

  it("a day until falls in is whole: its hours after until count", async () => {
    const btc = Series.walk("price", "btceur", slots.get("price/btceur")!, 11, TODAY - 2 * DAY, T0, 100, 1, false);
    await store([btc], { C: T0, D: TODAY - DAY, hourTs: T0 });
    // Yesterday (merged from hours) with until at its 06:00: every hour of it.
    const found = (await candles(env.DB, "price", "btceur", "1d", TODAY - 2 * DAY, TODAY - DAY + 6 * HOUR, NOW))!;
    expect(found).toHaveLength(2);
    expectCandle(found[1], TODAY - DAY, btc.between(TODAY - DAY, TODAY), true);
  });
});

describe("rankWindow(): the ranking over 7 and 30 days", () => {
  it("ranks the closed hours' moments with the open hour; ties share a rank; metrics without values are left out; ~1 row a sums row", async () => {
    await resetCandles();
    // 600 price metrics: two sums rows.
    const symbols = Array.from({ length: 600 }, (_, i) => `p${String(i).padStart(3, "0")}`);
    const slots = await metricsAt(symbols.map((symbol) => ({ metric_type: "price", symbol, value: 1 })));
    const from = T0 - 720 * HOUR;
    const series = symbols.slice(0, 40).map((symbol, i) =>
      Series.walk("price", symbol, slots.get(`price/${symbol}`)!, 100 + i, from, T0, 100, 1 + (i % 7)),
    );
    // Two constant metrics (std 0, a tie), one with values only 10 days ago (none in the 7 d), one of the second part.
    const constant = (symbol: string, value: number) => {
      const s = new Series("price", symbol, slots.get(`price/${symbol}`)!);
      for (let h = T0 - 48 * HOUR; h <= T0; h += HOUR) s.hours.set(h, [value, value]);
      return s;
    };
    const old = Series.walk("price", "p100", slots.get("price/p100")!, 7, T0 - 240 * HOUR, T0 - 230 * HOUR, 100, 1, false);
    const far = Series.walk("price", "p599", slots.get("price/p599")!, 8, T0 - 100 * HOUR, T0, 100, 500, false);
    const all = [...series, constant("p200", 5), constant("p201", 7), old, far];
    // Two metrics with the very same values: a tie above zero.
    const twin = new Series("price", "p300", slots.get("price/p300")!);
    for (const [h, values] of series[0]!.hours) twin.hours.set(h, values);
    all.push(twin);
    await store(all, { C: T0, D: TODAY, hourTs: T0 });

    const expected = (hours: number) => {
      const stds = all
        .map((s) => ({ symbol: s.symbol, values: s.between(T0 - hours * HOUR, T0 + HOUR) }))
        .filter((s) => s.values.length > 0)
        .map((s) => ({ symbol: s.symbol, stddev: reference(s.values).std }));
      return stds;
    };
    for (const [window, hours] of [["7d", 168], ["30d", 720]] as const) {
      const { reader, rowsRead } = metered(env.DB);
      const ranking = await rankWindow(reader, "price", window);
      console.log(`rankWindow ${window}: ${ranking.length} metrics, ${rowsRead()} rows read`);
      // The two sums rows and the state.
      expect(rowsRead()).toBeLessThanOrEqual(3);
      const want = expected(hours);
      expect(ranking).toHaveLength(want.length);
      expect(ranking.map((r) => r.symbol).includes("p100")).toBe(window === "30d");
      for (const row of ranking) {
        const w = want.find((x) => x.symbol === row.symbol)!;
        expect(Math.abs(row.stddev - w.stddev), `${row.symbol} ${window}: ${row.stddev} vs ${w.stddev}`).toBeLessThanOrEqual(1e-9 * w.stddev);
        // Rank: 1 + how many are more volatile (by a margin beyond rounding).
        expect(row.rank, row.symbol).toBe(1 + want.filter((x) => x.stddev > w.stddev * (1 + 1e-9)).length);
        expect(row.total).toBe(want.length);
      }
      const ranks = Object.fromEntries(ranking.map((r) => [r.symbol, r]));
      expect(ranks.p200!.stddev).toBe(0);
      expect(ranks.p200!.rank).toBe(ranks.p201!.rank);
      expect(ranks.p200!.rank).toBe(want.length - 1);
      expect(ranks.p300!.rank).toBe(ranks.p000!.rank);
      expect(ranking[0]!.symbol).toBe("p599");
      // Ordered by rank, then symbol.
      const order = [...ranking].sort((a, b) => a.rank - b.rank || (a.symbol < b.symbol ? -1 : 1));
      expect(ranking).toEqual(order);
    }
    // Whether the open hour counts (only once it is after candles_until) is the ledger's to decide when it
    // writes sums.variances: test/unit/candles.test.ts checks it against the stored values (candles-check.ts).
  });
});

describe("GET /metric_types/{type}/metrics/{symbol}/candles", () => {
  let btc: Series;
  beforeEach(async () => {
    await resetCandles();
    const slots = await metricsAt([
      { metric_type: "price", symbol: "btceur", value: 1 },
      { metric_type: "volume", symbol: "btc", value: 1 },
    ]);
    btc = Series.walk("price", "btceur", slots.get("price/btceur")!, 12, TODAY - 400 * DAY, T0, 50000, 40);
    await store([btc], { C: T0, D: TODAY, hourTs: T0 }, { hourlyFrom: TODAY - 100 * DAY });
    setNow(NOW);
  });

  const path = (query = "") => `/metric_types/price/metrics/btceur/candles${query}`;

  it("defaults: hourly, the 7 days before now", async () => {
    const { status, body } = await getJson(path());
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(["metric_type", "symbol", "interval", "candles"]);
    expect(body).toMatchObject({ metric_type: "price", symbol: "btceur", interval: "1h" });
    const hours = [...btc.hours.keys()].filter((h) => h >= T0 - 7 * DAY);
    expect(body.candles.map((c: any) => c.time)).toEqual(hours.map(iso));
    expect(hours[0]).toBe(T0 - 7 * DAY); // floor(now - 7 d) is 12:00 7 days ago
    body.candles.forEach((candle: any, i: number) => expectCandle(candle, hours[i]!, btc.hours.get(hours[i]!)!, hours[i]! < T0));
    expect(Object.keys(body.candles[0])).toEqual(["time", "open", "high", "low", "close", "n", "mean", "std", "complete"]);
  });

  it("interval=1d: the 365 days before now, today merged; since and until as ISO-8601 or epoch ms; BTCEUR is btceur", async () => {
    const { body } = await getJson(path("?interval=1d"));
    expect(body.interval).toBe("1d");
    expect(body.candles).toHaveLength(366);
    expect(body.candles[0].time).toBe(iso(TODAY - 365 * DAY));
    expectCandle(body.candles.at(-1), TODAY, btc.between(TODAY, T0 + HOUR), false);
    const iso8601 = await getJson(`/metric_types/price/metrics/BTCEUR/candles?interval=1d&since=2026-11-20&until=2026-11-22T00:00:00Z`);
    const epoch = await getJson(path(`?interval=1d&since=${Date.UTC(2026, 10, 20)}&until=${Date.UTC(2026, 10, 22)}`));
    expect(iso8601.body).toEqual(epoch.body);
    expect(epoch.body.candles.map((c: any) => c.time)).toEqual(["2026-11-20T00:00:00.000Z", "2026-11-21T00:00:00.000Z", "2026-11-22T00:00:00.000Z"]);
    epoch.body.candles.forEach((candle: any) => {
      const day = Date.parse(candle.time);
      expectCandle(candle, day, btc.between(day, day + DAY), true);
    });
  });

  it("an empty list for a known metric without candles in the range", async () => {
    // Its one value is in the open hour (T0): nothing in the days before.
    const { status, body } = await getJson(`/metric_types/volume/metrics/btc/candles?since=${T0 - 3 * DAY}&until=${T0 - 2 * DAY}`);
    expect(status).toBe(200);
    expect(body).toEqual({ metric_type: "volume", symbol: "btc", interval: "1h", candles: [] });
  });

  it("at most 2,000 intervals a request: exactly 2,000 is served, 2,001 is a 400 naming the limit", async () => {
    for (const [interval, span] of [["1h", HOUR], ["1d", DAY]] as const) {
      const until = interval === "1h" ? NOW : T0;
      const ok = await getJson(path(`?interval=${interval}&since=${until - 2000 * span}&until=${until}`));
      expect(ok.status, interval).toBe(200);
      const tooMany = await getJson(path(`?interval=${interval}&since=${until - 2000 * span - 1}&until=${until}`));
      expect(tooMany.status, interval).toBe(400);
      expect(tooMany.body.error).toContain("at most 2000");
      expect(tooMany.body.error).toContain("since");
    }
    // The hourly default (7 days) and the daily one (365 days) are inside it; 2,000 hours of them go back 83 days.
    const { body } = await getJson(path(`?since=${NOW - 2000 * HOUR}`));
    expect(body.candles[0].time).toBe(iso([...btc.hours.keys()].find((h) => h >= Math.floor((NOW - 2000 * HOUR) / HOUR) * HOUR)!));
  });

  it.each([
    ["?interval=1w", "interval"],
    ["?interval=", "interval"],
    ["?interval=1h&interval=1d", "interval"],
    ["?since=yesterday", "since"],
    ["?since=2026-13-45", "since"],
    ["?until=12:00", "until"],
    ["?until=-5", "until"],
    [`?since=${NOW}&until=${NOW - 1}`, "since"],
    [`?since=${NOW + DAY}`, "since"],
    ["?since=2026-11-29T12:00:00Z&until=2026-11-29T11:59:59Z", "since"],
  ])("%s is a 400 naming %s", async (query, name) => {
    const { status, body } = await getJson(path(query));
    expect(status).toBe(400);
    expect(body.status).toBe(400);
    expect(body.error).toContain(name);
  });

  it.each([
    ["/metric_types/foo/metrics/btceur/candles", 'Metric type "foo" does not exist'],
    ["/metric_types/price/metrics/dogeeur/candles", 'Metric "dogeeur" of type "price" does not exist'],
    ["/metric_types/volume/metrics/btceur/candles?interval=1d", 'Metric "btceur" of type "volume" does not exist'],
  ])("%s is a 404", async (url, message) => {
    const { status, body } = await getJson(url);
    expect(status).toBe(404);
    expect(body.error).toContain(message);
  });

  it("answers If-None-Match with 304; each range has its own ETag; a refused range is a 400 even with a matching ETag", async () => {
    const first = await get(path("?interval=1d"));
    const etag = first.headers.get("etag")!;
    expect(first.headers.get("cache-control")).toBe("public, no-cache");
    const again = await get(path("?interval=1d"), { "if-none-match": etag });
    expect(again.status).toBe(304);
    const hourly = await get(path());
    expect(hourly.headers.get("etag")).not.toBe(etag);
    // The default interval written or not: the same answer, the same validator.
    expect((await get(path("?interval=1h"), { "if-none-match": hourly.headers.get("etag")! })).status).toBe(304);
    expect((await get(path(`?since=${NOW}&until=${NOW - 1}`), { "if-none-match": "*" })).status).toBe(400);
    expect((await get("/metric_types/price/metrics/dogeeur/candles", { "if-none-match": "*" })).status).toBe(404);
    // A new tick (a new version) changes it.
    await setCursors({ C: T0, D: TODAY, hourTs: T0 });
    expect((await get(path("?interval=1d"), { "if-none-match": etag })).status).toBe(200);
  });

  it("is kept in the edge cache per canonical query", async () => {
    const first = await getJson(path("?interval=1d&since=2026-11-20&until=2026-11-22"));
    // Behind the tracker's back (no version bump): only a computed answer sees it.
    await env.DB.prepare("DELETE FROM candles").run();
    expect((await getJson(path(`?until=${Date.UTC(2026, 10, 22)}&since=${Date.UTC(2026, 10, 20)}&interval=1d&x=1`))).body).toEqual(first.body);
    expect((await getJson(path("?interval=1d&since=2026-11-19&until=2026-11-22"))).body.candles).toEqual([]);
  });
});

describe("GET .../ranking and .../rank with window=24h|7d|30d", () => {
  beforeEach(async () => {
    await resetCandles();
    // The points of api.test.ts: btceur 50000 then 50100 (std 50), adausd one point (0).
    await insertTick(env.DB, {
      ts: T0,
      storedAt: T0 + 2_000,
      markets: 3,
      points: [
        { metric_type: "price", symbol: "btceur", value: 50000 },
        { metric_type: "price", symbol: "adausd", value: 1.1122 },
        { metric_type: "volume", symbol: "btc", value: 12.5 },
      ],
    });
    await insertTick(env.DB, { ts: T0 + MINUTE, storedAt: T0 + MINUTE + 2_000, markets: 1, points: [{ metric_type: "price", symbol: "btceur", value: 50100 }] });
    setNow(T0 + MINUTE + 15_000);
  });

  it("the default is the 24 h ranking, byte for byte as before, with or without window=24h", async () => {
    const before =
      '{"metric_type":"price","total":2,"ranking":[{"rank":1,"symbol":"btceur","stddev":50},{"rank":2,"symbol":"adausd","stddev":0}]}';
    const plain = await get("/metric_types/price/ranking");
    const explicit = await get("/metric_types/price/ranking?window=24h");
    expect(await plain.text()).toBe(before);
    expect(await explicit.text()).toBe(before);
    expect(explicit.headers.get("etag")).toBe(plain.headers.get("etag"));
    expect(await (await get("/metric_types/price/metrics/btceur/rank")).text()).toBe('{"rank":1,"total":2}');
    expect(await (await get("/metric_types/price/metrics/btceur/rank?window=24h")).text()).toBe('{"rank":1,"total":2}');
  });

  it("7d and 30d rank the candles' moments; the same body shape; their own ETag and cache entry", async () => {
    const slots = new Map(
      (await env.DB.prepare("SELECT symbol, slot FROM metrics WHERE metric_type = 'price'").all<{ symbol: string; slot: number }>()).results.map(
        (r) => [r.symbol, r.slot],
      ),
    );
    // adausd swings over the month, btceur only this week; the week's hours are those before 12:00 and 12:00 open.
    const btc = Series.walk("price", "btceur", slots.get("btceur")!, 20, T0 - 100 * HOUR, T0, 50000, 1, false);
    const ada = new Series("price", "adausd", slots.get("adausd")!);
    ada.hours.set(T0 - 400 * HOUR, [1, 3, 1, 3]);
    ada.hours.set(T0 - 2 * HOUR, [2, 2]);
    await store([btc, ada], { C: T0, D: TODAY, hourTs: T0 });
    const std = (values: number[]) => reference(values).std;

    const week = await getJson("/metric_types/price/ranking?window=7d");
    expect(week.body).toEqual({
      metric_type: "price",
      total: 2,
      ranking: [
        { rank: 1, symbol: "btceur", stddev: expect.any(Number) },
        { rank: 2, symbol: "adausd", stddev: 0 },
      ],
    });
    expect(Math.abs(week.body.ranking[0].stddev - std(btc.between(T0 - 168 * HOUR, T0 + HOUR)))).toBeLessThan(1e-9 * week.body.ranking[0].stddev);
    const month = await getJson("/metric_types/price/ranking?window=30d");
    expect(month.body.ranking.map((r: any) => r.symbol)).toEqual(["btceur", "adausd"]);
    expect(Math.abs(month.body.ranking[1].stddev - std([1, 3, 1, 3, 2, 2]))).toBeLessThan(1e-12);
    expect((await getJson("/metric_types/price/metrics/adausd/rank?window=30d")).body).toEqual({ rank: 2, total: 2 });

    const etags = await Promise.all(["", "?window=7d", "?window=30d"].map(async (q) => (await get(`/metric_types/price/ranking${q}`)).headers.get("etag")));
    expect(new Set(etags).size).toBe(3);
    expect((await get("/metric_types/price/ranking?window=7d", { "if-none-match": etags[1]! })).status).toBe(304);
    expect((await get("/metric_types/price/ranking?window=7d", { "if-none-match": etags[0]! })).status).toBe(200);
    // Each window its own cache entry: the 24 h answer is not served for 7d, nor the reverse.
    expect((await getJson("/metric_types/price/ranking")).body.ranking[0].stddev).toBe(50);
    expect((await getJson("/metric_types/price/ranking?window=7d")).body).toEqual(week.body);
  });

  it("a metric without values in the window is a 404 on rank and absent from the ranking; a bad window is a 400 naming it", async () => {
    // The volume metric as it is when its last value left the windows (kept 31 days before it is forgotten).
    await env.DB.prepare("UPDATE sums SET hour = '[]', windows = '[]', variances = '[]' WHERE metric_type = 'volume'").run();
    expect((await getJson("/metric_types/volume/ranking?window=7d")).body).toEqual({ metric_type: "volume", total: 0, ranking: [] });
    const missing = await getJson("/metric_types/volume/metrics/btc/rank?window=30d");
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain("30 days");
    for (const bad of ["1d", "", "7D", "24"]) {
      for (const url of [`/metric_types/price/ranking?window=${bad}`, `/metric_types/price/metrics/btceur/rank?window=${bad}`]) {
        const { status, body } = await getJson(url);
        expect(status, url).toBe(400);
        expect(body.error).toContain("window");
      }
    }
  });
});

describe("no query of the new parameters gets a 500", () => {
  it("answers 600 generated candle and window queries with JSON below 500, and a 304 only for a current answer", async () => {
    await resetCandles();
    const slots = await metricsAt([{ metric_type: "price", symbol: "btceur", value: 1 }]);
    const btc = Series.walk("price", "btceur", slots.get("price/btceur")!, 30, TODAY - 3 * DAY, T0, 100, 1);
    await store([btc], { C: T0, D: TODAY, hourTs: T0 });
    setNow(NOW);
    const times = ["0", "1", String(NOW), String(NOW - DAY), "999999999999999", "9999999999999999", "0000-01-01", "9999-12-31T23:59:59Z",
      "2026-11-29", "2026-11-29T12:00:00+14:00", "2026-02-30", "2026-11-29 11:00", "", "%00", "-1", "1e3", "NaN", "2026-11-29T25:00Z"];
    const values = { since: times, until: times, interval: ["1h", "1d", "1H", "", "x", "1h%00"], window: ["24h", "7d", "30d", "7D", "", "1d"] };
    const next = random(7);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
    const statuses = new Set<number>();
    for (let i = 0; i < 600; i++) {
      const candle = next() < 0.7;
      const names = candle ? (["since", "until", "interval"] as const) : (["window"] as const);
      const query = names.filter(() => next() < 0.6).map((name) => `${name}=${pick(values[name])}`).join("&");
      const base = candle ? "/metric_types/price/metrics/btceur/candles" : pick(["/metric_types/price/ranking", "/metric_types/price/metrics/btceur/rank"]);
      const url = `${base}?${query}`;
      const response = await get(url);
      statuses.add(response.status);
      expect(response.status, url).toBeLessThan(500);
      expect(response.headers.get("content-type"), url).toMatch(/^application\/json/);
      const etag = response.headers.get("etag");
      const conditional = await get(url, { "if-none-match": etag ?? "*" });
      expect(conditional.status, url).toBe(response.status === 200 ? 304 : response.status);
    }
    expect([...statuses].sort()).toEqual([200, 400]);
  });
});
