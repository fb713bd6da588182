import { ROLLUP_MAX_HOURS } from "../../src/storage/candles";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { maintain } from "../../src/ingest/tick";
import { readDayState } from "../../src/storage/day";
import { BLOCK_SLOTS, PART_SLOTS } from "../../src/storage/ledger";
import { history, latestPoint, latestPoints, listMetrics, rankAll, rankOf } from "../../src/storage/queries";
import { insertTick, maintainStorage } from "../../src/storage/ticks";
import { windowEndingAt } from "../../src/storage/window";
import { seedOurs, tickPoints } from "../../scripts/bench/workload";
import { count, DAY, expectSumsMatchStoredValues, MINUTE, resetDatabase, T0 } from "./helpers";
import { metered } from "./metered";

beforeEach(resetDatabase);

const LAST = T0 / MINUTE;
/** Metrics per type in the seeded day (price p0.., volume v0..: the benchmark's data). */
const PER_TYPE = 200;
const BLOCKS = Math.ceil(PER_TYPE / BLOCK_SLOTS); // per type
const PARTS = Math.ceil(PER_TYPE / PART_SLOTS); // per type

async function tick(minute: number) {
  const points = tickPoints(PER_TYPE, minute);
  return insertTick(env.DB, { ts: minute * MINUTE, storedAt: minute * MINUTE, markets: points.length, points });
}

describe("the cost of the tracker's queries, from D1's own meta", () => {
  it("a steady tick writes rows per block of metrics, not per metric: its frames, its purge, the sums, the state", async () => {
    await seedOurs(env.DB, PER_TYPE, 1440, LAST);
    await tick(LAST + 1); // the volume metrics' first values
    let total = 0;
    for (let j = 2; j <= 11; j++) {
      const cost = await tick(LAST + j);
      // One frame row per block (both types), the frame row of each block that
      // left the window, each sums row, the tick record and the one that left,
      // the state row (ledger check and version).
      expect(cost.rowsWritten).toBe(2 * BLOCKS + 2 * BLOCKS + 2 * PARTS + 2 + 2);
      expect(cost.statements).toBeLessThanOrEqual(16);
      total += cost.rowsWritten;
      // The scheduled run after a stored tick has nothing left to do.
      const before = await env.DB.prepare("SELECT ledger FROM tracker_state").first();
      await maintain(env.DB, (LAST + j) * MINUTE);
      expect(await env.DB.prepare("SELECT ledger FROM tracker_state").first()).toEqual(before);
    }
    // A whole rebuild cycle (10 minutes): 2 x 200 metrics (5 blocks of 48 each) cost 26 rows a minute (today's design: ~840).
    expect(total / 10).toBe(4 * BLOCKS + 2 * PARTS + 4);
    expect(total / 10).toBe(26);
    expect(await count("frames")).toBe(2 * BLOCKS * 1440);
    await expectSumsMatchStoredValues();
  });

  it("rank reads at most 2 rows per metric just after a tick and just before the next lands", async () => {
    await seedOurs(env.DB, PER_TYPE, 1440, LAST);
    await tick(LAST + 1);
    const { reader, rowsRead, reset } = metered(env.DB);
    for (const now of [(LAST + 1) * MINUTE, (LAST + 1) * MINUTE + 30_000, (LAST + 2) * MINUTE + 5_000]) {
      reset();
      const ranking = await rankAll(reader, "price", windowEndingAt(now));
      expect(ranking).toHaveLength(PER_TYPE);
      expect(rowsRead()).toBeLessThanOrEqual(2 * PER_TYPE);
      reset();
      await rankOf(reader, "price", "p1", windowEndingAt(now));
      expect(rowsRead()).toBeLessThanOrEqual(2 * PER_TYPE);
    }
  });

  it("history of a metric over a full day reads at most 1,500 rows; latest, list and one metric about one per metric", async () => {
    await seedOurs(env.DB, PER_TYPE, 1440, LAST);
    const { reader, rowsRead, reset } = metered(env.DB);
    const window = windowEndingAt(LAST * MINUTE + 5_000);
    const points = await history(reader, "price", "p17", window);
    expect(points).toHaveLength(1440);
    expect(rowsRead()).toBeLessThanOrEqual(1500);
    reset();
    // Each slot once, plus the sort by symbol (D1 counts a sort's rows as read).
    const latest = await latestPoints(reader, "price", window);
    expect(latest).toHaveLength(PER_TYPE);
    expect(rowsRead()).toBeLessThanOrEqual(2 * PER_TYPE + PARTS + 1);
    // With the 24 h figures, from the same rows.
    expect(latest.every((row) => row.min !== null && row.max !== null && row.first_ts !== null)).toBe(true);
    reset();
    expect(await listMetrics(reader, "price", window)).toHaveLength(PER_TYPE);
    expect(rowsRead()).toBeLessThanOrEqual(2 * PER_TYPE + PARTS + 1);
    reset();
    // The metric, its newest frame, its sums row (for the figures).
    const one = await latestPoint(reader, "price", "p17", window);
    expect(one).toMatchObject({ ts: LAST * MINUTE, first_ts: (LAST - 1439) * MINUTE });
    expect(one!.min).toBe(Math.min(...points.map((p) => p.value)));
    expect(one!.max).toBe(Math.max(...points.map((p) => p.value)));
    expect(rowsRead()).toBeLessThanOrEqual(3);
  });

  it("24 h figures: a steady tick writes no more rows; each block's suffix rows of a segment, 72, once per 12 h", async () => {
    const last = LAST - 3; // 11:57: the tick of 12:01 completes the segment (00:00, 12:00]
    await seedOurs(env.DB, PER_TYPE, 1440, last);
    await tick(last + 1);
    const steady = 2 * BLOCKS + 2 * BLOCKS + 2 * PARTS + 2 + 2;
    let written = 0;
    let maintenanceWrites = 0;
    for (let j = 2; j <= 12; j++) {
      written += (await tick(last + j)).rowsWritten - steady;
      const run = await maintainStorage(env.DB, (last + j) * MINUTE);
      // A maintenance run writes only while it builds: its suffix rows and the state row.
      if (run.rowsWritten > 0) {
        written += run.rowsWritten - 1;
        maintenanceWrites++;
      }
    }
    const day = await readDayState(env.DB);
    const segment = T0 / (12 * 60 * MINUTE);
    expect(day).toMatchObject({ ok: true, build: null });
    expect(day.built).toContain(segment);
    // Beyond the steady ticks: exactly one row per block and 10-minute step of the segment, and
    // the candles of the hour that closed at 12:00 (a row per block, and its day's row per block).
    expect(written).toBe(72 * 2 * BLOCKS + 2 * 2 * BLOCKS);
    expect(maintenanceWrites).toBeGreaterThan(0);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM day_steps WHERE ts >= ?1 AND ts < ?2")
      .bind(T0 - 12 * 60 * MINUTE, T0)
      .first<{ n: number }>();
    expect(rows!.n).toBe(72 * 2 * BLOCKS);
    await expectSumsMatchStoredValues();
  });

  it("after an outage the maintenance catches up in bounded runs, and the sums stay exact", async () => {
    await seedOurs(env.DB, PER_TYPE, 1440, LAST);
    await tick(LAST + 1);
    // Five hours without any scheduled run, then runs resume (still no tick):
    // each run slides at most 60 stored minutes and purges what it passed.
    const resumed = LAST + 5 * 60;
    const runs = [];
    let minute = resumed;
    for (; runs.length < 20; minute++) {
      const cost = await maintainStorage(env.DB, minute * MINUTE);
      runs.push(cost);
      // The slide's purge, the ticks it passed, the sums, the state; the candles of the hours it closes (the hourly rows and their days' rows).
      expect(cost.rowsWritten).toBeLessThanOrEqual(60 * 2 * BLOCKS + 60 + 2 * PARTS + 1 + ROLLUP_MAX_HOURS * 2 * BLOCKS + 2 * 2 * BLOCKS);
      const { lo } = (await env.DB.prepare("SELECT lo FROM tracker_state").first<{ lo: number }>())!;
      if (lo === minute * MINUTE - DAY) break;
    }
    // 299 stored minutes behind (and one more each minute): five runs of 60, then the rest.
    expect(runs.length).toBe(6);
    await expectSumsMatchStoredValues();
    const state = await env.DB.prepare("SELECT lo, hi, purged_until FROM tracker_state").first<{ lo: number; hi: number; purged_until: number }>();
    expect(state!.hi).toBe((LAST + 1) * MINUTE);
    expect(state!.purged_until).toBe(state!.lo);
    // Reads stay exact meanwhile; the tick after the outage lands normally.
    await tick(minute + 1);
    await expectSumsMatchStoredValues();
  });
});
