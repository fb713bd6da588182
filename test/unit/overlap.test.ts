/**
 * Runs of different minutes in flight together (a slow tick still writing
 * when the next one starts): run A is held at every statement boundary in
 * turn while run B runs to completion, then A resumes. Both add new metrics,
 * some the same, some their own. Both minutes must be stored, every metric
 * once in one slot, and the rank sums equal to the stored values.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Point } from "../../src/domain/point";
import { PART_SLOTS } from "../../src/storage/ledger";
import { insertTick, maintainStorage, type StoredTick } from "../../src/storage/ticks";
import { pausingDatabase } from "./d1-faults";
import { count, expectSumsMatchStoredValues, MINUTE, resetDatabase, storedValues, T0 } from "./helpers";

beforeEach(resetDatabase);

const point = (metric_type: Point["metric_type"], symbol: string, value: number): Point => ({ metric_type, symbol, value });
const tickAt = (ts: number, points: readonly Point[]): StoredTick => ({ ts, storedAt: ts, markets: points.length, points });

/** Already stored before the race: one metric per type. */
const SEED = tickAt(T0, [point("price", "base", 9), point("volume", "base", 90)]);
const A = tickAt(T0 + MINUTE, [
  point("price", "base", 10),
  point("price", "shared", 1),
  point("price", "onlya", 2),
  point("volume", "shared", 6),
]);
const B = tickAt(T0 + 2 * MINUTE, [
  point("price", "base", 11),
  point("price", "shared", 3),
  point("price", "onlyb", 4),
  point("volume", "shared", 7),
  point("volume", "onlyb", 5),
]);

/** Every stored value, by hand from SEED, A and B. */
const EXPECTED = [
  ["price", "base", T0, 9],
  ["price", "base", T0 + MINUTE, 10],
  ["price", "base", T0 + 2 * MINUTE, 11],
  ["price", "onlya", T0 + MINUTE, 2],
  ["price", "onlyb", T0 + 2 * MINUTE, 4],
  ["price", "shared", T0 + MINUTE, 1],
  ["price", "shared", T0 + 2 * MINUTE, 3],
  ["volume", "base", T0, 90],
  ["volume", "onlyb", T0 + 2 * MINUTE, 5],
  ["volume", "shared", T0 + MINUTE, 6],
  ["volume", "shared", T0 + 2 * MINUTE, 7],
].map(([metric_type, symbol, ts, value]) => ({ metric_type, symbol, ts, value }));

/** The metrics table and the sums agree: each metric once, each slot one metric, the same symbol at the same slot. */
async function expectOneSlotPerMetric() {
  const { results: metrics } = await env.DB.prepare("SELECT metric_type, symbol, slot FROM metrics ORDER BY metric_type, slot").all<{
    metric_type: string;
    symbol: string;
    slot: number;
  }>();
  expect(metrics.map((m) => `${m.metric_type}/${m.symbol}`).sort()).toEqual(
    ["price/base", "price/onlya", "price/onlyb", "price/shared", "volume/base", "volume/onlyb", "volume/shared"],
  );
  expect(new Set(metrics.map((m) => `${m.metric_type}/${m.slot}`)).size).toBe(metrics.length);
  const { results: sums } = await env.DB.prepare(
    `SELECT s.metric_type, s.part * ${PART_SLOTS} + j.key AS slot, j.value ->> 0 AS symbol
     FROM sums s, json_each(s.data) j WHERE j.type = 'array' ORDER BY s.metric_type, slot`,
  ).all<{ metric_type: string; symbol: string; slot: number }>();
  expect(sums).toEqual(metrics);
}

/**
 * `held` runs with a pause before its k-th D1 call; `through` runs whole in
 * that pause; then `held` resumes. Returns how many calls `held` makes alone.
 */
async function race(held: () => D1Database, heldRun: (db: D1Database) => Promise<unknown>, through: () => Promise<unknown>, k: number) {
  const pausing = pausingDatabase(held(), k);
  const first = heldRun(pausing.db);
  // Past its last call the held run just finishes: no pause.
  await Promise.race([pausing.reached, first]);
  await through();
  pausing.resume();
  await first;
}

describe("two minutes in flight never lose each other", () => {
  for (const [heldName, held, throughName, through] of [
    ["A", A, "B", B],
    ["B", B, "A", A],
  ] as const) {
    it(`${heldName} held at every statement boundary while ${throughName} is stored: both minutes stored, every metric once, sums exact`, async () => {
      await insertTick(env.DB, SEED);
      const dry = pausingDatabase(env.DB, Infinity);
      await insertTick(dry.db, held);
      const calls = dry.calls();
      // The reads (state, sums, the plan's) and the batch.
      expect(calls).toBeGreaterThanOrEqual(3);

      for (let k = 1; k <= calls + 1; k++) {
        await resetDatabase();
        await insertTick(env.DB, SEED);
        await race(() => env.DB, (db) => insertTick(db, held), () => insertTick(env.DB, through), k);
        expect(await count("ticks"), `paused before call ${k} of ${calls}`).toBe(3);
        expect(await storedValues(), `paused before call ${k} of ${calls}`).toEqual(EXPECTED);
        await expectOneSlotPerMetric();
        await expectSumsMatchStoredValues();
      }
    });
  }

  it("a tick held at every statement boundary while a maintenance run slides and purges: both whole, sums exact", async () => {
    // A day later: the maintenance run of that minute slides lo past SEED and A and purges them.
    await insertTick(env.DB, SEED);
    await insertTick(env.DB, A);
    const late = tickAt(T0 + 24 * 60 * MINUTE + 2 * MINUTE, B.points);
    const dry = pausingDatabase(env.DB, Infinity);
    await insertTick(dry.db, late);
    const calls = dry.calls();
    for (let k = 1; k <= calls + 1; k++) {
      await resetDatabase();
      await insertTick(env.DB, SEED);
      await insertTick(env.DB, A);
      await race(() => env.DB, (db) => insertTick(db, late), () => maintainStorage(env.DB, late.ts), k);
      // Only the late tick's values are left in its 24 h window: what it stored, by hand.
      expect(await storedValues(), `paused before call ${k} of ${calls}`).toEqual(
        B.points
          .map((p) => ({ metric_type: p.metric_type, symbol: p.symbol, ts: late.ts, value: p.value }))
          .sort((x, y) => `${x.metric_type}/${x.symbol}`.localeCompare(`${y.metric_type}/${y.symbol}`)),
      );
      await expectSumsMatchStoredValues();
    }
  });
});
