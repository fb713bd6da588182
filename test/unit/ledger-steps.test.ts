import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readSumsTuple } from "../../src/storage/layout";
import { DAY, expectFiguresMatchStoredValues, expectSumsMatchStoredValues, fakeCryptowatch, MINUTE, resetDatabase, runCron, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

describe("planAdvance's rarer steps", () => {
  // Two blocks: the rebuild of the 24 h figures the late tick causes starts and ends in its own run,
  // and the front's figures must be computed again although lo did not move.
  it("a late tick of minute lo + 1 is the next value to leave (e is its value) and the oldest of the 24 h figures", async () => {
    fakeCryptowatch();
    await runCron(T0 + DAY); // hi = T0 + 24 h, lo = T0
    await runCron(T0 + MINUTE); // late: minute lo + 1
    const state = await env.DB.prepare("SELECT lo, hi FROM tracker_state").first<{ lo: number; hi: number }>();
    expect(state).toEqual({ lo: T0, hi: T0 + DAY });
    // Each slot has a value in both ticks (the same fixture), so e is never null; the helper compares it with the frame of T0 + 1 minute.
    const { results } = await env.DB.prepare("SELECT j.value AS t FROM sums s, json_each(s.data) j WHERE j.type = 'array'").all<{ t: string }>();
    expect(results.length).toBeGreaterThan(0);
    for (const { t } of results) expect(readSumsTuple(JSON.parse(t)).e).not.toBeNull();
    await expectSumsMatchStoredValues();
    expect(await expectFiguresMatchStoredValues()).toBe(true);
  });
});
