/**
 * The exact rebuild of the rank sums (src/storage/ledger.ts): every block at
 * least once a day whatever the number of blocks, and the sums within rounding
 * of a two-pass recomputation after a simulated week of minute ticks.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { Point } from "../../src/domain/point";
import { BLOCK_SLOTS, PART_SLOTS, REBUILD_CATCH_UP_MINUTES, rebuildTurns, scheduledRebuilds } from "../../src/storage/ledger";
import { insertTick } from "../../src/storage/ticks";
import { DAY, expectSumsMatchStoredValues, MINUTE, random, resetDatabase, T0 } from "./helpers";

beforeEach(resetDatabase);

const MINUTES_A_DAY = 1440;

describe("the rebuild schedule", () => {
  // 834 blocks: 20,000 + 20,000 metrics (417 blocks of 48 per type).
  for (const blocks of [1, 48, 144, 145, 834, 1440, 1441, 5000]) {
    it(`${blocks} blocks: each rebuilt at least once in any 1,440 consecutive minutes, at most ceil(blocks / 1,440) a minute`, () => {
      const start = 29_400_000 + 7; // any minute, not aligned to a cycle
      const span = 3 * MINUTES_A_DAY;
      const visits: number[][] = Array.from({ length: blocks }, () => []);
      const perMinute = Math.ceil(blocks / MINUTES_A_DAY);
      for (let minute = start; minute < start + span; minute++) {
        const due = scheduledRebuilds(blocks, minute);
        expect(due.length, `minute ${minute}`).toBeLessThanOrEqual(perMinute);
        for (const i of due) {
          expect(Number.isInteger(i) && i >= 0 && i < blocks, `index ${i}`).toBe(true);
          visits[i]!.push(minute);
        }
      }
      for (const [i, minutes] of visits.entries()) {
        // Gaps between visits, and from the start and to the end of the span, all at most a day.
        const edges = [start - 1, ...minutes, start + span];
        const longest = Math.max(...edges.slice(1).map((m, j) => m - edges[j]!));
        expect(longest, `block ${i}`).toBeLessThanOrEqual(MINUTES_A_DAY);
      }
      // Not more often than needed: every block the same number of times, at most once a cycle of 10 minutes a block.
      const counts = new Set(visits.map((m) => m.length));
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      const total = visits.reduce((a, m) => a + m.length, 0);
      expect(total).toBeLessThanOrEqual(Math.ceil(span / Math.min(10 * blocks, MINUTES_A_DAY)) * blocks);
    });
  }

  it("up to 144 blocks it is the round robin it was: one block every 10 minutes, in turn", () => {
    for (const blocks of [1, 5, 48, 144]) {
      for (let minute = 29_400_000; minute < 29_400_000 + 3000; minute++) {
        const want = minute % 10 === 0 ? [Math.floor(minute / 10) % blocks] : [];
        expect(scheduledRebuilds(blocks, minute), `${blocks} blocks, minute ${minute}`).toEqual(want);
      }
    }
  });

  it("a tick after missed minutes takes their turns too, up to 3 minutes' worth: 834 blocks, ticks missing 1 or 2 minutes at a time", () => {
    const next = random(3);
    const blocks = 834;
    const start = 29_400_000 + 3;
    const span = 3 * MINUTES_A_DAY;
    const visits: number[][] = Array.from({ length: blocks }, () => []);
    let previous = start - 1;
    let missed = 0;
    for (let minute = start; minute < start + span; minute++) {
      if (minute - previous < REBUILD_CATCH_UP_MINUTES && next() < 0.2) {
        missed++;
        continue;
      }
      for (const i of rebuildTurns(blocks, previous * MINUTE, minute * MINUTE)) visits[i]!.push(minute);
      previous = minute;
    }
    expect(missed).toBeGreaterThan(500);
    for (const [i, minutes] of visits.entries()) {
      const edges = [start - 1, ...minutes, start + span];
      // A turn taken at most 2 minutes late.
      expect(Math.max(...edges.slice(1).map((m, j) => m - edges[j]!)), `block ${i}`).toBeLessThanOrEqual(MINUTES_A_DAY + 2);
    }
    // After 10 minutes without a tick, only the last 3 minutes' turns: 144 blocks, one every 10 minutes, so none or one.
    const ten = (now: number) => rebuildTurns(144, (now - 10) * MINUTE, now * MINUTE);
    expect(ten(29_400_002)).toEqual([(29_400_000 / 10) % 144]);
    expect(ten(29_400_003)).toEqual([]);
    // The previous tick's own minute is not taken again.
    expect(rebuildTurns(144, 29_400_000 * MINUTE, 29_400_001 * MINUTE)).toEqual([]);
    expect(rebuildTurns(144, 29_399_999 * MINUTE, 29_400_000 * MINUTE)).toEqual([(29_400_000 / 10) % 144]);
  });

  it("no blocks, no rebuilds", () => {
    expect(scheduledRebuilds(0, 29_400_000)).toEqual([]);
  });
});

/** Each slot's shift K, by metric type and slot, as stored. */
async function shifts(): Promise<Map<string, number>> {
  const { results } = await env.DB.prepare(
    `SELECT s.metric_type, s.part * ${PART_SLOTS} + j.key AS slot, j.value ->> 4 AS k FROM sums s, json_each(s.data) j WHERE j.type = 'array'`,
  ).all<{ metric_type: string; slot: number; k: number }>();
  return new Map(results.map((r) => [`${r.metric_type}/${r.slot}`, r.k]));
}

describe("the rank sums over a day and more of minute ticks", () => {
  it("a block whose turn fell on a minute without a tick is rebuilt by the next tick", { timeout: 300_000 }, async () => {
    const next = random(11);
    const walk = new Map<string, number>();
    // 100 prices and 10 volumes: 4 blocks, block i's turn at minutes 10 i mod 40.
    const pointsAt = (): Point[] =>
      Array.from({ length: 110 }, (_, i): Point => {
        const symbol = i < 100 ? `p${i}` : `v${i}`;
        const value = (walk.get(symbol) ?? 10 + i) * (1 + (next() - 0.5) / 50);
        walk.set(symbol, value);
        return { metric_type: i < 100 ? "price" : "volume", symbol, value };
      });
    const first = T0 / MINUTE;
    // Missing: the turn of block 1 (minute 10, one minute), of block 2 (minute 60, two minutes), of block 3 (minute 110, three).
    const missing = new Set([first + 10, first + 60, first + 61, first + 110, first + 111, first + 112]);
    let before = new Map<string, number>();
    const moved = new Map<number, Set<string>>();
    for (let minute = first; minute < first + 130; minute++) {
      if (missing.has(minute)) continue;
      const points = pointsAt();
      await insertTick(env.DB, { ts: minute * MINUTE, storedAt: minute * MINUTE, markets: points.length, points });
      const after = await shifts();
      moved.set(minute, new Set([...after].filter(([key, k]) => before.has(key) && before.get(key) !== k).map(([key]) => key.split("/")[0] + "/" + Math.floor(Number(key.split("/")[1]) / BLOCK_SLOTS))));
      before = after;
    }
    // The next tick after a turn missed by 1 or 2 minutes rebuilds that block; after 3 missed minutes the turn is lost.
    expect(moved.get(first + 11)).toContain("price/1");
    expect(moved.get(first + 62)).toContain("price/2");
    expect(moved.get(first + 113)).not.toContain("volume/0");
    // And the turns that were not missed happen at their minute.
    expect(moved.get(first + 40)).toContain("price/0");
    expect(moved.get(first + 30)).toContain("volume/0");
    await expectSumsMatchStoredValues();
  });

  it("every block is rebuilt in its turn, and the sums stay within rounding of a two-pass recomputation", { timeout: 900_000 }, async () => {
    const next = random(834);
    // 100 prices (blocks 0, 1, 2 of price) and 10 volumes (block 0 of volume): 4 blocks, a cycle of 40 minutes.
    const walk = new Map<string, number>();
    const pointsAt = (minute: number): Point[] => [
      ...Array.from({ length: 100 }, (_, i): Point | [] => {
        const symbol = `p${i}`;
        if (i % 7 === 3 && next() < 0.3) return []; // gappy
        let value: number;
        if (i % 5 === 0) value = 1 + (next() - 0.5) * 3.4e-6; // a stablecoin
        else if (i % 5 === 1) value = 1e12 + Math.round(next() * 10); // near 1e12, changing by units
        else if (i % 5 === 2) value = 1000 + minute * 0.37 + next(); // a trend: K goes stale
        else value = (walk.get(symbol) ?? 10 + i) * (1 + (next() - 0.5) / 50); // a random walk
        walk.set(symbol, value);
        return { metric_type: "price", symbol, value };
      }).flat(),
      // Volumes with a rare spike 1e6 times their level.
      ...Array.from({ length: 10 }, (_, i): Point => ({ metric_type: "volume", symbol: `v${i}`, value: (1 + next()) * (next() < 0.002 ? 1e9 : 1e3) })),
    ];
    const blockOf = (key: string) => {
      const [type, slot] = key.split("/") as [string, string];
      // The blocks in the ledger's order: price 0, 1, 2, then volume 0.
      return (type === "price" ? 0 : 3) + Math.floor(Number(slot) / BLOCK_SLOTS);
    };
    const first = T0 / MINUTE;
    const minutes = 26 * 60; // the window slides for 2 h: values leave every minute
    let before = new Map<string, number>();
    const rebuiltAt: number[][] = [[], [], [], []];
    for (let minute = first; minute < first + minutes; minute++) {
      const points = pointsAt(minute);
      await insertTick(env.DB, { ts: minute * MINUTE, storedAt: minute * MINUTE, markets: points.length, points });
      const after = await shifts();
      // K moves only when its block is rebuilt (to the block's mean): record which blocks moved.
      const moved = new Set([...after].filter(([key, k]) => before.has(key) && before.get(key) !== k).map(([key]) => blockOf(key)));
      for (const block of moved) rebuiltAt[block]!.push(minute);
      before = after;
      if ((minute - first) % (6 * 60) === 0) await expectSumsMatchStoredValues();
    }
    await expectSumsMatchStoredValues();
    // Each block at its minute of the 40-minute cycle (block i at minutes 10 i mod 40), and never 40 minutes without.
    for (const [block, at] of rebuiltAt.entries()) {
      const due = Array.from({ length: minutes }, (_, j) => first + j).filter((m) => m > first && m % 40 === 10 * block);
      expect(due.filter((m) => !at.includes(m)), `block ${block}: scheduled rebuilds that did not happen`).toEqual([]);
      const gaps = [first, ...at, first + minutes - 1].slice(1).map((m, j, all) => m - (j === 0 ? first : all[j - 1]!));
      expect(Math.max(...gaps), `block ${block}`).toBeLessThanOrEqual(40);
    }
    expect(DAY).toBe(MINUTES_A_DAY * MINUTE);
  });
});
