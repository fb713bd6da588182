/**
 * What the exact rebuild of the rank sums costs a tick, from D1's own meta:
 * the rows one block's rebuild reads (a day of its frames, two passes) do not
 * depend on how many blocks there are; the schedule (src/storage/ledger.ts)
 * decides how many ticks carry one.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { BLOCK_SLOTS, REBUILD_CATCH_UP_MINUTES, REBUILD_CYCLE_MAX_MINUTES, REBUILD_EVERY_MINUTES, rebuildTurns, scheduledRebuilds } from "../../src/storage/ledger";
import { insertTick } from "../../src/storage/ticks";
import { seedOurs, tickPoints } from "../../scripts/bench/workload";
import { expectSumsMatchStoredValues, MINUTE, resetDatabase, T0 } from "./helpers";

beforeEach(resetDatabase);

const LAST = T0 / MINUTE;
/** Five full blocks per type: 10 blocks, a cycle of 100 minutes, a rebuild at each minute ending in 0. */
const PER_TYPE = 5 * BLOCK_SLOTS;

async function tick(minute: number) {
  const points = tickPoints(PER_TYPE, minute);
  return insertTick(env.DB, { ts: minute * MINUTE, storedAt: minute * MINUTE, markets: points.length, points });
}

describe("the exact rebuild's cost", () => {
  it("a tick that rebuilds a block reads that block's day of frames more; at 834 blocks 834 ticks a day do, not 144", { timeout: 300_000 }, async () => {
    await seedOurs(env.DB, PER_TYPE, 1440, LAST);
    await tick(LAST + 1); // the volume metrics' first values
    const plain: number[] = [];
    const ms: number[] = [];
    let withRebuild: number | undefined;
    let rebuildMs: number | undefined;
    for (let minute = LAST + 2; minute <= LAST + 12; minute++) {
      const started = Date.now();
      const { rowsRead } = await tick(minute);
      if (minute % REBUILD_EVERY_MINUTES === 0) {
        withRebuild = rowsRead;
        rebuildMs = Date.now() - started;
      } else {
        plain.push(rowsRead);
        ms.push(Date.now() - started);
      }
    }
    // Steady ticks read 10 rows more or less as lo moves through a 10-minute step (the front's frames).
    expect(Math.max(...plain) - Math.min(...plain)).toBeLessThanOrEqual(10 * 9);
    const rebuild = { atLeast: withRebuild! - Math.max(...plain), atMost: withRebuild! - Math.min(...plain) };
    // Two passes over 1,440 frames of 48 values: D1 counts the frames, the json_each values and
    // the window function's sort, several rows per value.
    expect(rebuild.atLeast).toBeGreaterThan(1440 * BLOCK_SLOTS);
    expect(rebuild.atMost).toBeLessThan(8 * 1440 * BLOCK_SLOTS);
    await expectSumsMatchStoredValues();

    // At 20,000 + 20,000 metrics: 834 blocks.
    const blocks = 834;
    const perDay = (schedule: (minute: number) => number) =>
      Array.from({ length: 1440 }, (_, i) => schedule(LAST + i)).reduce((a, b) => a + b, 0);
    const before = perDay((minute) => (minute % REBUILD_EVERY_MINUTES === 0 ? 1 : 0)); // one block every 10 minutes
    const after = perDay((minute) => scheduledRebuilds(blocks, minute).length);
    expect(before).toBe(144);
    expect(after).toBe(blocks);
    const worst = Math.max(...Array.from({ length: REBUILD_CYCLE_MAX_MINUTES }, (_, i) => scheduledRebuilds(blocks, LAST + i).length));
    expect(worst).toBe(1);
    // A tick after missed minutes takes their turns too.
    const worstAfterAGap = Math.max(
      ...Array.from({ length: REBUILD_CYCLE_MAX_MINUTES }, (_, i) => rebuildTurns(blocks, (LAST + i - 10) * MINUTE, (LAST + i) * MINUTE).length),
    );
    expect(worstAfterAGap).toBe(2); // 3 minutes' turns, 0.58 blocks a minute
    expect(REBUILD_CATCH_UP_MINUTES).toBe(3);
    const mid = (rebuild.atLeast + rebuild.atMost) / 2;
    console.log({
      rowsReadByASteadyTick: plain,
      rowsReadByOneRebuild: rebuild,
      msOfATick: { steady: ms, withRebuild: rebuildMs },
      at834Blocks: {
        rebuildsADay: { before, after },
        extraRowsReadPerTickAveraged: { before: Math.round((mid * before) / 1440), after: Math.round((mid * after) / 1440) },
        extraRowsReadWorstTick: { everyMinuteTicked: mid * worst, afterMissedMinutes: mid * worstAfterAGap },
        daysBetweenRebuildsOfABlock: { before: blocks / before, after: blocks / after },
      },
    });
  });
});
