/**
 * The candles' invariants (docs/candles.md), checked from outside against the
 * test's own record of every value it stored, recomputed here by the plainest
 * method: sort the values by time, two passes for the mean and m2.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { meanOf, type Candle, type Moments } from "../../src/lib/moments";
import { PART_SLOTS, readCandleTuple, readHourTuple, readSumsTuple, readVariancesTuple, readWindowsTuple } from "../../src/storage/layout";
import { DAY, HOUR } from "./helpers";

/** Every value a test stored: "type/symbol" -> ts -> value. */
export type Record_ = Map<string, Map<number, number>>;

export function record(into: Record_, type: string, symbol: string, ts: number, value: number) {
  const key = `${type}/${symbol}`;
  const m = into.get(key) ?? new Map<number, number>();
  into.set(key, m);
  m.set(ts, value);
}

export interface Expected {
  open: number;
  high: number;
  low: number;
  close: number;
  n: number;
  mean: number;
  m2: number;
}

/** By hand: the values with from <= ts < to, oldest first; null when none. */
export function expected(values: Map<number, number> | undefined, from: number, to: number): Expected | null {
  const points = [...(values ?? [])].filter(([ts]) => ts >= from && ts < to).sort((a, b) => a[0] - b[0]);
  if (points.length === 0) return null;
  const xs = points.map(([, x]) => x);
  // Two passes over the values shifted by the first (a sum of 5,000 prices near 100,000 would lose the mean's last digits).
  const k = xs[0]!;
  const d = xs.reduce((a, x) => a + (x - k), 0) / xs.length;
  const mean = k + d;
  const m2 = xs.reduce((a, x) => a + (x - k - d) * (x - k - d), 0);
  return { open: xs[0]!, high: Math.max(...xs), low: Math.min(...xs), close: xs.at(-1)!, n: xs.length, mean, m2 };
}

const close = (actual: number, want: number, scale: number) => Math.abs(actual - want) <= 1e-9 * Math.max(Math.abs(want), scale);

/** A stored candle or moments against the recomputation: o/h/l/c and n exactly, the mean and m2 within 1e-9 relative. */
export function expectCandle(actual: Moments & Partial<Candle>, want: Expected | null, what: string) {
  expect(want, `${what}: a candle where the values have none`).not.toBeNull();
  const w = want!;
  if (actual.open !== undefined) expect([actual.open, actual.high, actual.low, actual.close], what).toEqual([w.open, w.high, w.low, w.close]);
  expect(actual.n, what).toBe(w.n);
  const mean = meanOf(actual);
  expect(close(mean, w.mean, 0), `${what}: mean ${mean} vs ${w.mean}`).toBe(true);
  // Relative to m2 itself: no scale from the mean, so a price near 100,000 moving by 1e-6 is held to its own digits.
  expect(close(actual.m2, w.m2, 0), `${what}: m2 ${actual.m2} vs ${w.m2}`).toBe(true);
}

interface State {
  candles_until: number | null;
  days_until: number | null;
  hour_ts: number | null;
}

/**
 * Every stored candle equals the recomputation from the recorded values of its
 * interval (a day's row: its hours before C); every closed hour with values
 * has its candle; the open hour and the windows in the sums likewise.
 * `since`: the first minute the test stored (hours before it are not checked for presence).
 */
export async function expectCandlesMatchValues(values: Record_, since: number): Promise<{ hourly: number; daily: number }> {
  const state = (await env.DB.prepare("SELECT candles_until, days_until, hour_ts FROM tracker_state").first<State>())!;
  const c = state.candles_until;
  const rows = await env.DB.prepare("SELECT metric_type, span, block, ts, c FROM candles").all<{
    metric_type: string;
    span: number;
    block: number;
    ts: number;
    c: string;
  }>();
  const seen = new Set<string>();
  let hourly = 0;
  let daily = 0;
  for (const row of rows.results) {
    (JSON.parse(row.c) as (unknown[] | null)[]).forEach((t, i) => {
      const cell = readCandleTuple(t);
      if (!cell) return;
      const key = `${row.metric_type}/${cell.symbol}`;
      const to = row.span === HOUR ? row.ts + HOUR : Math.min(row.ts + DAY, c!);
      expect(row.span === HOUR ? row.ts < c! : row.ts < c!, `${key} ${row.span} ${row.ts}: stored past C`).toBe(true);
      expectCandle(cell, expected(values.get(key), row.ts, to), `${key} ${row.span === HOUR ? "hour" : "day"} ${new Date(row.ts).toISOString()}`);
      seen.add(`${key}/${row.span}/${row.ts}`);
      if (row.span === HOUR) hourly++;
      else daily++;
    });
  }
  // Presence: every closed hour (and day) with values has its candle.
  if (c !== null) {
    for (const [key, byTs] of values) {
      for (const ts of byTs.keys()) {
        if (ts < since || ts >= c) continue;
        const h = Math.floor(ts / HOUR) * HOUR;
        expect(seen.has(`${key}/${HOUR}/${h}`), `${key}: no hourly candle for ${new Date(h).toISOString()}`).toBe(true);
        const d = Math.floor(ts / DAY) * DAY;
        expect(seen.has(`${key}/${DAY}/${d}`), `${key}: no daily candle for ${new Date(d).toISOString()}`).toBe(true);
      }
    }
  }
  await expectSumsEntries(values, state);
  return { hourly, daily };
}

/** sums.hour: the values of hour_ts; sums.windows: of [C - 168 h, C) and [C - 720 h, C). */
async function expectSumsEntries(values: Record_, state: State) {
  const { results } = await env.DB.prepare("SELECT metric_type, part, data, hour, windows, variances FROM sums").all<{
    metric_type: string;
    part: number;
    data: string;
    hour: string;
    windows: string;
    variances: string;
  }>();
  for (const row of results) {
    const data = JSON.parse(row.data) as (unknown[] | null)[];
    const hours = JSON.parse(row.hour) as (unknown[] | null)[];
    const windows = JSON.parse(row.windows) as (unknown[] | null)[];
    const variances = JSON.parse(row.variances) as (unknown[] | null)[];
    data.forEach((t, i) => {
      if (!t) return;
      const key = `${row.metric_type}/${readSumsTuple(t).symbol}`;
      const where = `${key} (slot ${row.part * PART_SLOTS + i})`;
      if (state.hour_ts !== null && (state.candles_until === null || state.hour_ts >= state.candles_until)) {
        const want = expected(values.get(key), state.hour_ts, state.hour_ts + HOUR);
        const hour = readHourTuple(hours[i]);
        if (want === null) expect(hour, `${where}: open hour`).toBeNull();
        else expectCandle(hour!, want, `${where}: open hour`);
      }
      if (state.candles_until !== null) {
        const c = state.candles_until;
        const w = readWindowsTuple(windows[i]);
        for (const [k, hoursBack] of [[0, 168], [1, 720]] as const) {
          const want = expected(values.get(key), c - hoursBack * HOUR, c);
          if (want === null) expect(w?.[k]?.n ?? 0, `${where}: window ${hoursBack} h`).toBe(0);
          else expectCandle(w![k], want, `${where}: window ${hoursBack} h`);
          // What the ranking reads: the window's values with the open hour's, as a variance.
          const open = state.hour_ts !== null && state.hour_ts >= c;
          const all = [...(values.get(key) ?? [])].filter(([ts]) => (ts >= c - hoursBack * HOUR && ts < c) || (open && ts >= state.hour_ts! && ts < state.hour_ts! + HOUR));
          const v = readVariancesTuple(variances[i]!);
          const got = k === 0 ? v.week : v.month;
          if (all.length === 0) expect(got, `${where}: variance ${hoursBack} h`).toBeNull();
          else {
            const ref = expected(new Map(all), -Infinity, Infinity)!;
            expect(Math.abs(got! - ref.m2 / ref.n) <= 1e-9 * (ref.m2 / ref.n), `${where}: variance ${hoursBack} h ${got} vs ${ref.m2 / ref.n}`).toBe(true);
          }
        }
      }
    });
  }
}
