/**
 * The candles under failure and overlap: every statement of a run that
 * closes an hour, closes a day, re-rolls a late tick's hour or rolls up an
 * upgrade's chunk is failed in turn (inside D1 for the batch's, so the
 * transaction rolls back as it would). After each failure every candle is
 * absent or exactly the recomputation of its minutes, and the cursors have
 * not moved; the run then succeeds. Overlapping runs of the same hours end
 * with the same exact candles.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Point } from "../../src/domain/point";
import { insertTick, maintainStorage, type StoredTick } from "../../src/storage/ticks";
import { expectCandlesMatchValues, record, type Record_ } from "./candles-check";
import { faultyDatabase, pausingDatabase } from "./d1-faults";
import { count, HOUR, MINUTE, random, resetDatabase } from "./helpers";

beforeEach(resetDatabase);

const next = random(1818);
const level = new Map<string, number>();

/** One minute of 50 prices (two blocks) and 2 volumes, recorded into `values` only when `into` is given. */
function tickAt(ts: number): StoredTick {
  const points: Point[] = [];
  for (let i = 0; i < 50; i++) points.push(walk("price", `p${i}usd`, 20 + i, 0.2));
  points.push(walk("volume", "btc", 300, 10), walk("volume", "eth", 4000, 50));
  return { ts, storedAt: ts, markets: points.length, points };
}

function walk(metric_type: Point["metric_type"], symbol: string, start: number, step: number): Point {
  const key = `${metric_type}/${symbol}`;
  const value = (level.get(key) ?? start) + (next() - 0.5) * step;
  level.set(key, value);
  return { metric_type, symbol, value };
}

function remember(values: Record_, tick: StoredTick) {
  for (const p of tick.points) record(values, p.metric_type, p.symbol, tick.ts, p.value);
}

async function store(values: Record_, from: number, to: number, step = MINUTE) {
  for (let ts = from; ts < to; ts += step) {
    const tick = tickAt(ts);
    await insertTick(env.DB, tick);
    remember(values, tick);
  }
}

const cursors = () => env.DB.prepare("SELECT candles_until, days_until, hour_ts, windows_block, ledger FROM tracker_state").first();

/** Fail statement 1, 2, ... of `run` until it gets through; after each failure nothing moved and every candle is exact. */
async function failEachStatement(values: Record_, since: number, run: (db: D1Database) => Promise<unknown>) {
  let failures = 0;
  for (let k = 1; ; k++) {
    const before = await cursors();
    const candles = await count("candles");
    const faulty = faultyDatabase(env.DB, k);
    let failed = false;
    try {
      await run(faulty.db);
    } catch (err) {
      expect(String(err)).toMatch(/injected failure|CHECK constraint failed|UNIQUE constraint failed: tick_lease/);
      failed = true;
    }
    if (!failed) break;
    failures++;
    expect(await cursors(), `statement ${k} failed`).toEqual(before);
    expect(await count("candles"), `statement ${k} failed`).toBe(candles);
    await expectCandlesMatchValues(values, since);
  }
  expect(failures).toBeGreaterThan(5);
  return failures;
}

const START = Date.UTC(2026, 10, 29, 10, 0, 0);
const LATE_EVENING = Date.UTC(2026, 10, 29, 22, 0, 0);

describe("candles: a failed statement anywhere leaves them absent or exact", () => {
  for (const [what, start] of [
    ["a tick that closes an hour", START],
    ["a tick that closes a day", LATE_EVENING],
  ] as const) {
    it(what, async () => {
      const values: Record_ = new Map();
      await store(values, start, start + 2 * HOUR);
      const closing = tickAt(start + 2 * HOUR);
      const failures = await failEachStatement(values, start, (db) => insertTick(db, closing));
      remember(values, closing);
      const found = await expectCandlesMatchValues(values, start);
      expect(found.hourly).toBe(2 * 52);
      expect((await cursors())!.candles_until).toBe(start + 2 * HOUR);
      console.log({ msg: what, statementsFailedInTurn: failures });
    });
  }

  it("a late tick into a closed hour: the old candle or the re-rolled one, never a mix", async () => {
    const values: Record_ = new Map();
    const late = START + 59 * MINUTE;
    await store(values, START, late);
    await store(values, late + MINUTE, START + HOUR + 3 * MINUTE);
    const tick = tickAt(late);
    await failEachStatement(values, START, (db) => insertTick(db, tick));
    remember(values, tick);
    await expectCandlesMatchValues(values, START);
  });

  it("an upgrade's chunk (minutes held, no candle yet)", async () => {
    const values: Record_ = new Map();
    await store(values, START, START + 3 * HOUR, 5 * MINUTE);
    await env.DB.batch([
      env.DB.prepare("DELETE FROM candles"),
      env.DB.prepare("UPDATE tracker_state SET candles_until = NULL, days_until = NULL, hour_ts = NULL, windows_block = 0"),
      env.DB.prepare("UPDATE sums SET hour = '[]', windows = '[]'"),
    ]);
    await failEachStatement(values, START, (db) => maintainStorage(db, START + 3 * HOUR + MINUTE));
    expect((await cursors())!.candles_until).toBe(START + 3 * HOUR);
    await expectCandlesMatchValues(values, START);
  });
});

describe("candles: overlapping runs", () => {
  /** Run `held` paused before its k-th D1 call while `through` runs to the end, then let it finish. */
  async function race(held: (db: D1Database) => Promise<unknown>, through: () => Promise<unknown>, k: number) {
    const pausing = pausingDatabase(env.DB, k);
    const first = held(pausing.db);
    await Promise.race([pausing.reached, first]);
    await through();
    pausing.resume();
    await first;
  }

  it("the tick that closes an hour, held at every call while the maintenance of the same minute rolls the hour up", async () => {
    const dry = pausingDatabase(env.DB, Infinity);
    const values: Record_ = new Map();
    await store(values, START, START + HOUR);
    const closing = tickAt(START + HOUR);
    // How many calls the tick makes (a dry run on a copy of the state is not possible: count on the real one, then start again).
    await insertTick(dry.db, closing);
    const calls = dry.calls();
    for (let k = 1; k <= calls + 1; k++) {
      await resetDatabase();
      const fresh: Record_ = new Map();
      for (const [key, byTs] of values) for (const [ts, v] of byTs) record(fresh, ...(key.split("/") as [string, string]), ts, v);
      await replay(values);
      await race((db) => insertTick(db, closing), () => maintainStorage(env.DB, START + HOUR), k);
      remember(fresh, closing);
      await expectCandlesMatchValues(fresh, START);
      expect((await cursors())!.candles_until, `held before call ${k} of ${calls}`).toBe(START + HOUR);
    }
  });

  it("a late tick of a closed hour held while the next minute is stored: the hour is re-rolled with it", async () => {
    const values: Record_ = new Map();
    await store(values, START, START + 59 * MINUTE);
    const late = tickAt(START + 59 * MINUTE);
    const nextHour = tickAt(START + HOUR);
    await race(
      (db) => insertTick(db, late),
      () => insertTick(env.DB, nextHour),
      3,
    );
    remember(values, late);
    remember(values, nextHour);
    await expectCandlesMatchValues(values, START);
  });
});

/** Store the recorded values again, minute by minute (after a reset). */
async function replay(values: Record_) {
  const byTs = new Map<number, Point[]>();
  for (const [key, series] of values) {
    const [metric_type, symbol] = key.split("/") as [Point["metric_type"], string];
    for (const [ts, value] of series) byTs.set(ts, [...(byTs.get(ts) ?? []), { metric_type, symbol, value }]);
  }
  for (const ts of [...byTs.keys()].sort((a, b) => a - b)) {
    const points = byTs.get(ts)!;
    await insertTick(env.DB, { ts, storedAt: ts, markets: points.length, points });
  }
}
