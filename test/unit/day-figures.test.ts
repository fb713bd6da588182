/**
 * change_24h, min_24h and max_24h of GET /metric_types/{type}/metrics/{symbol}:
 * over the points with now - 24 h < time <= now, worked out by hand.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { insertTick } from "../../src/storage/ticks";
import { DAY, getJson, MINUTE, resetDatabase, setNow, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

async function store(series: [minute: number, value: number][], symbol = "btcusd", type: "price" | "volume" = "price") {
  for (const [minute, value] of series) {
    await insertTick(env.DB, { ts: T0 + minute * MINUTE, storedAt: T0, markets: 1, points: [{ metric_type: type, symbol, value }] });
  }
}

const figures = async (path = "/metric_types/price/metrics/btcusd") => {
  const { status, body } = await getJson(path);
  return status === 200 ? { change_24h: body.change_24h, min_24h: body.min_24h, max_24h: body.max_24h } : status;
};

describe("24 h figures of one metric", () => {
  // 0: 200 (the oldest), 1: 50 (the lowest), 2: 400 (the highest), 10: 300 (the latest).
  const series: [number, number][] = [[0, 200], [1, 50], [2, 400], [10, 300]];

  it("change from the oldest point to the latest, lowest and highest", async () => {
    await store(series);
    setNow(T0 + 10 * MINUTE + 5_000);
    expect(await figures()).toEqual({ change_24h: 0.5, min_24h: 50, max_24h: 400 });
  });

  it("at the window's edge: a point exactly 24 h old is out, one a millisecond younger is in", async () => {
    await store(series);
    setNow(T0 + DAY - 1); // 200 (minute 0) is 1 ms inside the window
    expect(await figures()).toEqual({ change_24h: 0.5, min_24h: 50, max_24h: 400 });
    setNow(T0 + DAY); // minute 0 is exactly 24 h old: out; the oldest is now 50
    expect(await figures()).toEqual({ change_24h: 5, min_24h: 50, max_24h: 400 });
    setNow(T0 + DAY + MINUTE); // 50 leaves too: oldest 400, lowest 300
    expect(await figures()).toEqual({ change_24h: -0.25, min_24h: 300, max_24h: 400 });
    setNow(T0 + DAY + 2 * MINUTE); // one point left: no change
    expect(await figures()).toEqual({ change_24h: null, min_24h: 300, max_24h: 300 });
    setNow(T0 + DAY + 10 * MINUTE); // none: the metric is unknown
    expect(await figures()).toBe(404);
  });

  it("a volume whose oldest point is 0 has no relative change", async () => {
    await store([[0, 0], [1, 7]], "xyz", "volume");
    setNow(T0 + MINUTE + 5_000);
    expect(await figures("/metric_types/volume/metrics/xyz")).toEqual({ change_24h: null, min_24h: 0, max_24h: 7 });
  });
});
