import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  BLOCK_SLOTS,
  LAYOUT_VERSION,
  latestField,
  latestTuple,
  PART_SLOTS,
  readLatestTuple,
  readSumsTuple,
  sumsField,
  sumsTuple,
} from "../../src/storage/layout";
import { count, fakeCryptowatch, getJson, MINUTE, resetDatabase, runCron, setNow, T0 } from "./helpers";

const restoreLayout = () =>
  env.DB.prepare("UPDATE tracker_state SET layout_version = ?1, block_slots = ?2, part_slots = ?3")
    .bind(LAYOUT_VERSION, BLOCK_SLOTS, PART_SLOTS)
    .run();

beforeEach(resetDatabase);
afterEach(async () => {
  vi.restoreAllMocks();
  await restoreLayout();
});

describe("the stored layout", () => {
  it("is recorded by the migrations as the code reads it: layout 2, 48 slots a block, 512 a part", async () => {
    const stored = await env.DB.prepare("SELECT layout_version, block_slots, part_slots FROM tracker_state").first();
    // The numbers of migrations 0005 and 0007 (layout 1), and 0009's candles (layout 2), written out here.
    expect(stored).toEqual({ layout_version: 2, block_slots: 48, part_slots: 512 });
    expect(stored).toEqual({ layout_version: LAYOUT_VERSION, block_slots: BLOCK_SLOTS, part_slots: PART_SLOTS });
  });

  it("writes and reads each tuple in the order migration 0005 documents, in TypeScript and in SQL", async () => {
    // sums.data: [symbol, n, s1, s2, K, e]; sums.latest: [symbol, ts, value] and then [first ts, first, min, max].
    const sums = { symbol: "btcusd", n: 3, s1: 0.5, s2: 2.5, k: 100, e: 99 };
    expect(sumsTuple(sums)).toEqual(["btcusd", 3, 0.5, 2.5, 100, 99]);
    expect(readSumsTuple(["btcusd", 3, 0.5, 2.5, 100, null])).toEqual({ ...sums, e: null });
    expect(latestTuple({ symbol: "btcusd", ts: T0, value: 5, figures: null })).toEqual(["btcusd", T0, 5]);
    expect(latestTuple({ symbol: "btcusd", ts: T0, value: 5, figures: [T0 - 10 * MINUTE, 4, 3, 6] })).toEqual([
      "btcusd", T0, 5, T0 - 10 * MINUTE, 4, 3, 6,
    ]);
    expect(readLatestTuple(["btcusd", T0, 5])).toEqual({ symbol: "btcusd", ts: T0, value: 5, figures: null });
    expect(readLatestTuple(["btcusd", T0, 5, 1, 4, 3, 6]).figures).toEqual([1, 4, 3, 6]);

    const row = await env.DB.prepare(
      `SELECT ${sumsField("symbol", "?1")} AS symbol, ${sumsField("n", "?1")} AS n, ${sumsField("k", "?1")} AS k, ${sumsField("e", "?1")} AS e,
              ${latestField("ts", "?2")} AS ts`,
    )
      .bind(JSON.stringify(["btcusd", 3, 0.5, 2.5, 100, 99]), JSON.stringify(["btcusd", T0, 5]))
      .first();
    expect(row).toEqual({ symbol: "btcusd", n: 3, k: 100, e: 99, ts: T0 });
  });

  for (const [column, value] of [
    ["block_slots", 64],
    ["part_slots", 256],
    ["layout_version", 1],
  ] as const) {
    it(`a database that records another layout (${column} = ${value}) is refused: the tick fails loudly, writes nothing, the API answers 503`, async () => {
      fakeCryptowatch();
      await runCron(T0);
      const before = {
        frames: await count("frames"),
        ticks: await count("ticks"),
        sums: (await env.DB.prepare("SELECT group_concat(data || latest || day) AS t FROM sums").first())!.t,
        state: await env.DB.prepare("SELECT lo, hi, ledger, purged_until, day FROM tracker_state").first(),
      };
      expect(before.frames).toBeGreaterThan(0);

      await env.DB.prepare(`UPDATE tracker_state SET ${column} = ?1`).bind(value).run();
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      await runCron(T0 + MINUTE);

      const logged = errors.mock.calls.map(([entry]) => entry as { msg?: string; error?: string });
      expect(logged.find((entry) => entry.msg === "tick failed: not stored")?.error).toMatch(/storage layout/);
      expect(logged.find((entry) => entry.msg === "maintenance failed")?.error).toMatch(/storage layout/);
      expect(await count("frames")).toBe(before.frames);
      expect(await count("ticks")).toBe(before.ticks);
      expect((await env.DB.prepare("SELECT group_concat(data || latest || day) AS t FROM sums").first())!.t).toBe(before.sums);
      expect(await env.DB.prepare("SELECT lo, hi, ledger, purged_until, day FROM tracker_state").first()).toEqual(before.state);
      // What is written is the sources' status for /sources, which says why (its bump of version is /sources' new answer).
      const status = await env.DB.prepare("SELECT status, error FROM source_status").all<{ status: string; error: string }>();
      expect(status.results.length).toBeGreaterThan(0);
      for (const row of status.results) expect(row.error).toMatch(/tick not stored: .*storage layout/);

      setNow(T0 + MINUTE + 30_000);
      for (const path of ["/metric_types/price/latest", "/metric_types/price/metrics/btcusd/history", "/health"]) {
        const { status, body, response } = await getJson(path);
        expect(status, path).toBe(503);
        expect(response.headers.get("content-type"), path).toMatch(/application\/json/);
        expect(body.error, path).toMatch(/storage layout/);
        expect(body.error, path).toMatch(new RegExp(`${value}`));
      }

      // The matching layout again: everything answers, and the next tick stores.
      await restoreLayout();
      expect((await getJson("/metric_types/price/latest")).status).toBe(200);
      await runCron(T0 + 2 * MINUTE);
      expect(await count("ticks")).toBe(before.ticks + 1);
    });
  }
});
