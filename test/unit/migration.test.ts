import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { maintain } from "../../src/ingest/tick";
import { history, latestPoint, latestPoints, listMetrics, rankAll } from "../../src/storage/queries";
import { insertTick, maintainStorage, readState } from "../../src/storage/ticks";
import { windowEndingAt } from "../../src/storage/window";
import { databaseBefore0005, DAY, expectSumsMatchStoredValues, MINUTE, T0 } from "./helpers";

/** Population std, two passes (the reference). */
function stddev(values: number[]): number {
  if (values.every((v) => v === values[0])) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, v) => a + (v - mean) * (v - mean), 0) / values.length);
}

describe("migrating a deployed database from one row per point to frames", () => {
  it("converts the stored day in bounded scheduled runs, losing nothing, while ticks go on", async () => {
    await databaseBefore0005();
    // Today's layout: 26 hours of a tick every 10 minutes, 4 price metrics (one
    // gappy, one constant) and 2 volumes, folded sums as the old cron left them.
    const last = T0 + 26 * 60 * MINUTE;
    const symbols = [
      ["price", "btcusd", (k: number) => 50000 + Math.sin(k) * 300],
      ["price", "usdcusd", (k: number) => 1 + Math.cos(k * 7) * 1e-6],
      ["price", "const", () => 0.1],
      ["price", "gappy", (k: number) => (k % 3 === 0 ? null : 10 + (k % 7))],
      ["volume", "btc", (k: number) => 1e12 + (k % 11)],
      ["volume", "eth", (k: number) => 5e5 * (1 + Math.sin(k / 5) * 0.1)],
    ] as const;
    const stored: { metric_type: string; symbol: string; ts: number; value: number }[] = [];
    const statements = [];
    for (const [i, [metricType, symbol, value]] of symbols.entries()) {
      statements.push(
        env.DB.prepare("INSERT INTO metrics (id, metric_type, symbol, shift) VALUES (?1, ?2, ?3, ?4)").bind(i + 1, metricType, symbol, value(1) ?? 10),
      );
    }
    for (let ts = T0, k = 0; ts <= last; ts += 10 * MINUTE, k++) {
      statements.push(env.DB.prepare("INSERT INTO ticks (ts, stored_at, markets, points) VALUES (?1, ?1, 1, 1)").bind(ts));
      for (const [i, [metricType, symbol, value]] of symbols.entries()) {
        const v = value(k);
        if (v === null) continue;
        statements.push(env.DB.prepare("INSERT INTO points (metric_id, ts, value) VALUES (?1, ?2, ?3)").bind(i + 1, ts, v));
        stored.push({ metric_type: metricType, symbol, ts, value: v });
      }
    }
    statements.push(env.DB.prepare("UPDATE tracker_state SET last_tick = ?1, last_tick_stored_at = ?1, version = 7").bind(last));
    await env.DB.batch(statements);

    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    expect(await readState(env.DB)).toMatchObject({ convert_until: last, lo: last, hi: last, version: 7 });

    // The cron goes on: runs without a tick, then a tick, then more runs.
    const runs = [];
    let now = last + MINUTE;
    for (; runs.length < 40; now += MINUTE) {
      if (now === last + 3 * MINUTE) {
        const ts = now;
        await insertTick(env.DB, { ts, storedAt: ts, markets: 1, points: [{ metric_type: "price", symbol: "btcusd", value: 51000 }] });
        stored.push({ metric_type: "price", symbol: "btcusd", ts, value: 51000 });
        continue;
      }
      const cost = await maintainStorage(env.DB, now);
      runs.push(cost);
      // Bounded: a chunk of points converted, a chunk of stored minutes summed.
      expect(cost.statements).toBeLessThanOrEqual(20);
      const state = await readState(env.DB);
      if (state.convert_until === null && state.lo === Math.max(state.hi, now) - DAY) break;
    }
    expect(runs.length).toBeLessThan(40);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM points").first()).toEqual({ n: 0 });
    await expectSumsMatchStoredValues();

    // Every read answers from the converted data exactly as from the old rows.
    const window = windowEndingAt(now + 10_000);
    const inWindow = stored.filter((p) => p.ts > window.since && p.ts <= window.until);
    for (const [metricType, symbol] of symbols) {
      const expected = inWindow.filter((p) => p.symbol === symbol).map(({ ts, value }) => ({ ts, value }));
      expect(await history(env.DB, metricType, symbol, window), symbol).toEqual(expected);
      expect(await latestPoint(env.DB, metricType, symbol, window), symbol).toMatchObject(expected.at(-1)!);
    }
    expect(await listMetrics(env.DB, "price", window)).toEqual(["btcusd", "const", "gappy", "usdcusd"]);
    expect((await latestPoints(env.DB, "volume", window)).map((row) => row.symbol)).toEqual(["btc", "eth"]);
    for (const metricType of ["price", "volume"]) {
      const ranking = await rankAll(env.DB, metricType, window);
      for (const row of ranking) {
        const reference = stddev(inWindow.filter((p) => p.symbol === row.symbol).map((p) => p.value));
        if (reference === 0) expect(row.stddev, row.symbol).toBe(0);
        else expect(Math.abs(row.stddev - reference) / reference, row.symbol).toBeLessThan(1e-9);
      }
    }

    // From then on the tracker runs as on a new database.
    await insertTick(env.DB, { ts: now + MINUTE, storedAt: now + MINUTE, markets: 1, points: [{ metric_type: "volume", symbol: "btc", value: 2e12 }] });
    await maintain(env.DB, now + MINUTE);
    await expectSumsMatchStoredValues();
  });

  it("keeps every metric's place across sums parts and blocks (1,100 metrics)", async () => {
    await databaseBefore0005();
    const last = T0;
    const statements = [env.DB.prepare("INSERT INTO ticks (ts, stored_at, markets, points) VALUES (?1, ?1, 1, 1)").bind(last)];
    const values = new Map<string, number>();
    for (let i = 1; i <= 1100; i++) {
      const value = i * 1.25 + 0.1;
      values.set(`m${i}`, value);
      statements.push(env.DB.prepare("INSERT INTO metrics (id, metric_type, symbol, shift) VALUES (?1, 'price', ?2, ?3)").bind(i, `m${i}`, value));
      statements.push(env.DB.prepare("INSERT INTO points (metric_id, ts, value) VALUES (?1, ?2, ?3)").bind(i, last, value));
    }
    statements.push(env.DB.prepare("UPDATE tracker_state SET last_tick = ?1, last_tick_stored_at = ?1").bind(last));
    for (let i = 0; i < statements.length; i += 500) await env.DB.batch(statements.slice(i, i + 500));
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM sums").first()).toEqual({ n: 3 }); // 512 + 512 + 76
    for (let now = last + MINUTE; (await readState(env.DB)).convert_until !== null; now += MINUTE) await maintainStorage(env.DB, now);
    const window = windowEndingAt(last + 30_000);
    const latest = await latestPoints(env.DB, "price", window);
    expect(latest).toHaveLength(1100);
    for (const row of latest) expect(row.value, row.symbol).toBe(values.get(row.symbol));
    expect(await history(env.DB, "price", "m1100", window)).toEqual([{ ts: last, value: values.get("m1100") }]);
    await expectSumsMatchStoredValues();
  });
});
