import { applyD1Migrations, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { Point } from "../../src/domain/point";
import { aggregate } from "../../src/ingest/aggregate";
import { breakdownsBySource } from "../../src/ingest/breakdown";
import type { MarketSummary } from "../../src/sources/types";
import worker from "../../src/index";
import { storeAlerts } from "../../src/storage/alerts";
import { BLOCK_SLOTS, PART_SLOTS } from "../../src/storage/ledger";
import { frameStatements } from "../../src/storage/frames";
import { jsonArrayChunks } from "../../src/storage/payload";
import { recordSourceStatuses } from "../../src/storage/sources";
import { claimTick, insertTick, maintainStorage, readState } from "../../src/storage/ticks";
import { tickBreakdowns } from "../../scripts/bench/workload";
import { bindProblems, D1_LIMITS, limitChecked, sqlProblems, sqlShape } from "./d1-limits";
import { databaseBefore0005, DAY, MINUTE, resetDatabase, T0 } from "./helpers";

const list = (n: number, item: (i: number) => string = (i) => String(i)) => Array.from({ length: n }, (_, i) => item(i)).join(", ");

describe("the limits checker itself", () => {
  it("counts a function's arguments at its own level: nested calls, strings, quoted names and comments hold no argument of it", () => {
    expect(sqlShape(`SELECT max(a, json_array(1, 2, 3), 'x, y', "c,d") AS m -- (p, q, r)\n FROM t /* f(1, 2) */`).calls).toEqual([
      { name: "json_array", args: 3 },
      { name: "max", args: 4 },
    ]);
    expect(sqlShape("SELECT count(*), random(), coalesce(x, 'it''s (a, b)') FROM t").calls).toEqual([
      { name: "count", args: 1 },
      { name: "random", args: 0 },
      { name: "coalesce", args: 2 },
    ]);
    // IN lists, VALUES rows, EXISTS and CTE bodies are no function calls.
    expect(sqlShape(`WITH w AS (SELECT 1) SELECT * FROM t WHERE x IN (${list(200)}) AND EXISTS (SELECT 1)`).calls).toEqual([]);
  });

  it("flags a function of 33 arguments, not one of 32", () => {
    expect(sqlProblems(`SELECT json_array(${list(32)})`)).toEqual([]);
    expect(sqlProblems(`SELECT json_array(${list(33)})`)).toEqual(["json_array() with 33 arguments (D1: 32)"]);
    // Deep inside another call and a subquery.
    expect(sqlProblems(`SELECT coalesce((SELECT json_insert(x, ${list(33, () => "'$[#]'")}) FROM t), 0)`)).toEqual([
      "json_insert() with 34 arguments (D1: 32)",
    ]);
  });

  it("counts parameters as SQLite numbers them", () => {
    expect(sqlShape("SELECT ?, ?, ?").parameters).toBe(3);
    expect(sqlShape("SELECT ?5, ?").parameters).toBe(6);
    expect(sqlShape("SELECT :a, :a, @b, $c, '?9'").parameters).toBe(3);
    expect(sqlProblems(`SELECT ${list(100, (i) => `?${i + 1}`)}`)).toEqual([]);
    expect(sqlProblems(`SELECT ?101`)).toEqual(["101 parameters (D1: 100)"]);
    expect(bindProblems(Array.from({ length: 101 }, () => 1))).toEqual(["101 values bound (D1: 100)"]);
  });

  it("flags a compound SELECT of more than 5 terms, counting each compound on its own", () => {
    const terms = (n: number) => Array.from({ length: n }, (_, i) => `SELECT ${i}`).join(" UNION ALL ");
    expect(sqlShape(terms(5)).compoundTerms).toBe(5);
    expect(sqlProblems(terms(6))).toEqual(["a compound SELECT of 6 terms (D1: 5)"]);
    expect(sqlProblems(`WITH a AS (${terms(4)}), b AS (${terms(4)}) ${terms(3)}`)).toEqual([]);
    expect(sqlProblems(`SELECT * FROM (${terms(6)})`)).toEqual(["a compound SELECT of 6 terms (D1: 5)"]);
  });

  it("measures SQL and values in UTF-8 bytes, as D1 does", () => {
    expect(sqlProblems(`SELECT '${"a".repeat(99_991)}'`)).toEqual([]); // 100,000 bytes
    expect(sqlProblems(`SELECT '${"a".repeat(99_992)}'`)).toEqual(["100001 bytes of SQL (D1: 100000)"]);
    expect(sqlProblems(`SELECT '${"é".repeat(50_000)}'`)).toEqual(["100009 bytes of SQL (D1: 100000)"]);
    expect(bindProblems(["é".repeat(1_000_000)])).toEqual([]); // 2,000,000 bytes
    expect(bindProblems(["x", "é".repeat(1_000_000) + "a"])).toEqual(["parameter 2 of 2000001 bytes (D1: 2000000)"]);
    expect(bindProblems([new Uint8Array(2_000_001)])).toEqual(["parameter 1 of 2000001 bytes (D1: 2000000)"]);
  });

  it("records what a statement through the checked database exceeds", async () => {
    const checked = limitChecked(env.DB);
    // Local SQLite runs both (it takes 127 arguments and 2.2 MB strings); D1 would refuse them.
    await checked.db.prepare(`SELECT json_array(${list(40)}) AS a`).first();
    await checked.db.batch([checked.db.prepare("SELECT length(?1) AS n").bind("x".repeat(2_000_001))]);
    expect(checked.violations.map((v) => v.problem)).toEqual([
      "json_array() with 40 arguments (D1: 32)",
      "parameter 1 of 2000001 bytes (D1: 2000000)",
    ]);
  });
});

describe("the migrations", () => {
  it("stay inside the limits, statement by statement (0005 builds its sums with json_insert, no long json_array)", () => {
    const problems = env.TEST_MIGRATIONS.flatMap((migration) =>
      migration.queries.flatMap((sql) => sqlProblems(sql).map((problem) => `${migration.name}: ${problem}`)),
    );
    expect(env.TEST_MIGRATIONS.length).toBeGreaterThanOrEqual(7);
    expect(problems).toEqual([]);
  });
});

describe("bound JSON payloads", () => {
  it("split into arrays within the budget, every row once and in order", () => {
    const rows = Array.from({ length: 100 }, (_, i) => ["price", i, "é".repeat(i % 7)]);
    const chunks = jsonArrayChunks(rows, 200);
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(new TextEncoder().encode(chunk).length).toBeLessThanOrEqual(200);
    expect(chunks.flatMap((chunk) => JSON.parse(chunk) as unknown[])).toEqual(rows);
    expect(jsonArrayChunks([])).toEqual([]);
    expect(() => jsonArrayChunks(["x".repeat(300)], 200)).toThrow(/does not fit/);
  });
});

describe("a tick's frames", () => {
  it("past ~1 MB of JSON go in several statements of one batch, every frame once and exact", async () => {
    await resetDatabase();
    // 1,100 blocks of 48 values of 22-24 characters: ~1.3 MB of JSON.
    const frames = new Map<string, (number | null)[]>();
    for (let block = 0; block < 1_100; block++) {
      frames.set(JSON.stringify(["price", block]), Array.from({ length: BLOCK_SLOTS }, (_, i) => (i === 5 ? null : -(block * BLOCK_SLOTS + i + 1) / 3e7)));
    }
    const checked = limitChecked(env.DB);
    const statements = frameStatements(checked.db, T0, frames);
    expect(statements).toHaveLength(2);
    await checked.db.batch(statements);
    expect(checked.violations).toEqual([]);
    const { results } = await env.DB.prepare("SELECT block, v FROM frames WHERE ts = ?1 ORDER BY block").bind(T0).all<{ block: number; v: string }>();
    expect(results.map((row) => row.block)).toEqual([...Array(1_100).keys()]);
    for (const row of results) expect(JSON.parse(row.v)).toEqual(frames.get(JSON.stringify(["price", row.block])));
  });
});

describe("a source's breakdown document", () => {
  it("is measured in UTF-8 bytes: one under 1.9 M characters but over 2 MB is omitted", () => {
    const document = (exchange: string) => {
      const markets: MarketSummary[] = Array.from({ length: 7_000 }, (_, i) => ({
        exchange,
        pair: `a${i}usd`,
        base: `a${i}`,
        quote: "usd",
        last: 1 + i,
        volume: 10,
        volumeQuote: 10 * (1 + i),
      }));
      const { outcomes, medians } = aggregate(markets);
      return breakdownsBySource(outcomes, medians, () => "kraken", 0.1)[0]!;
    };
    // ~1.5 M characters either way; with a two-byte letter in the exchange's name, ~2.2 MB.
    const ascii = document("x".repeat(100));
    expect(ascii.omitted).toBeUndefined();
    expect(ascii.data.length).toBeGreaterThan(1_400_000);
    const accented = document("é".repeat(100));
    expect(accented.data.length).toBeLessThan(1_900_000);
    expect(accented).toEqual({ source: "kraken", data: JSON.stringify({ tolerance: 0.1, omitted: true }), omitted: true });
  });
});

describe("converting old points into frames", () => {
  it("writes each block's frame as the 48-argument json_array did, byte for byte, and every value round-trips", async () => {
    await databaseBefore0005();
    // Values whose text needs 17 digits, extremes, and gaps (null cells); 100 metrics: 3 blocks, the last partial.
    const tricky = [0.1 + 0.2, 1 / 3, 2 / 3, 1e-24, 1e24, 123456789.12345679, 5e-324, 0.1, 100, 1e21, 1e-7, 7 / 9e5, 1e16 + 2];
    const value = (i: number, k: number) => ((i + k) % 5 === 4 ? null : tricky[(i * 7 + k) % tricky.length]!);
    const ticks = [T0 - 2 * MINUTE, T0 - MINUTE, T0];
    const statements = [];
    for (let i = 0; i < 100; i++) {
      statements.push(env.DB.prepare("INSERT INTO metrics (id, metric_type, symbol, shift) VALUES (?1, 'price', ?2, 1)").bind(i + 1, `m${i}`));
    }
    ticks.forEach((ts, k) => {
      statements.push(env.DB.prepare("INSERT INTO ticks (ts, stored_at, markets, points) VALUES (?1, ?1, 1, 1)").bind(ts));
      for (let i = 0; i < 100; i++) {
        const v = value(i, k);
        if (v !== null) statements.push(env.DB.prepare("INSERT INTO points (metric_id, ts, value) VALUES (?1, ?2, ?3)").bind(i + 1, ts, v));
      }
    });
    statements.push(env.DB.prepare("UPDATE tracker_state SET last_tick = ?1, last_tick_stored_at = ?1").bind(T0));
    await env.DB.batch(statements);
    await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

    // The reference: the old statement's json_array of 48 cells (local SQLite takes 48 arguments), before conversion.
    const cell = (i: number) =>
      `(SELECT p.value FROM metrics m JOIN points p ON p.metric_id = m.id AND p.ts = t.ts WHERE m.metric_type = 'price' AND m.slot = b.block * ${BLOCK_SLOTS} + ${i})`;
    const { results: reference } = await env.DB.prepare(
      `WITH b (block) AS (SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2)
       SELECT b.block, t.ts, json_array(${list(BLOCK_SLOTS, cell)}) AS v FROM b, ticks t ORDER BY b.block, t.ts`,
    ).all<{ block: number; ts: number; v: string }>();
    expect(reference).toHaveLength(9);

    const checked = limitChecked(env.DB);
    for (let now = T0 + MINUTE; (await readState(env.DB)).convert_until !== null; now += MINUTE) await maintainStorage(checked.db, now);
    expect(checked.violations).toEqual([]);
    const { results: frames } = await env.DB.prepare("SELECT block, ts, v FROM frames ORDER BY block, ts").all<{ block: number; ts: number; v: string }>();
    expect(frames).toEqual(reference);
    // And independently of SQLite's rendering: each slot's value as JavaScript inserted it.
    for (const frame of frames) {
      const k = ticks.indexOf(frame.ts);
      const parsed = JSON.parse(frame.v) as (number | null)[];
      expect(parsed).toHaveLength(BLOCK_SLOTS);
      parsed.forEach((v, j) => {
        const i = frame.block * BLOCK_SLOTS + j;
        expect(v, `m${i} at ${k}`).toBe(i < 100 ? value(i, k) : null);
      });
    }
  });
});

describe("every statement inside D1's documented limits at 40,000 metrics (20,000 price + 20,000 volume)", () => {
  const N = 20_000;
  /** Symbols of the longest kind (64 characters) and values that need 17 digits: the largest rows the code can write. */
  const symbol = (type: "price" | "volume", i: number) => `${type === "price" ? "p" : "v"}${i}-`.padEnd(64, "x");
  const value = (i: number, minute: number) => ((i + 1 + (minute % 7) / 7) / 3) * 10 ** ((i % 17) - 8);
  const points = (from: number, to: number, minute: number): Point[] =>
    Array.from({ length: to - from }, (_, j) => from + j).flatMap((i) => [
      { metric_type: "price", symbol: symbol("price", i), value: value(i, minute) },
      { metric_type: "volume", symbol: symbol("volume", i), value: value(i + 3, minute) * 1e6 },
    ]);

  it("the migration path: old points of 40,000 metrics converted into frames", async () => {
    // What migration 0005 leaves on a deployed database (it is not run here: at this scale its
    // sums build alone takes ~30 s locally): metrics in slots, empty sums around K, points to convert.
    await resetDatabase();
    const last = T0 - MINUTE;
    for (const type of ["price", "volume"] as const) {
      await env.DB.prepare(
        `WITH RECURSIVE i (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM i WHERE i < ?1 - 1)
         INSERT INTO metrics (metric_type, symbol, slot) SELECT ?2, ?3 || i || '-' || substr(?4, 1, 62 - length(i)), i FROM i`,
      )
        .bind(N, type, type === "price" ? "p" : "v", "x".repeat(64))
        .run();
    }
    await env.DB.prepare(
      `INSERT INTO sums (metric_type, part, data, latest)
       SELECT metric_type, slot / ${PART_SLOTS}, json_group_array(json_array(symbol, 0, 0.0, 0.0, 1.0, NULL) ORDER BY slot),
              json_group_array(json_array(symbol, NULL, NULL) ORDER BY slot)
       FROM metrics GROUP BY metric_type, slot / ${PART_SLOTS}`,
    ).run();
    for (const ts of [last - MINUTE, last]) {
      await env.DB.prepare("INSERT INTO ticks (ts, stored_at, markets, points) VALUES (?1, ?1, 1, 1)").bind(ts).run();
      await env.DB.prepare("INSERT INTO points (metric_id, ts, value) SELECT id, ?1, (id + ?1 % 7 / 7.0) / 3.0 * 1e-5 FROM metrics").bind(ts).run();
    }
    await env.DB.prepare("UPDATE tracker_state SET last_tick = ?1, last_tick_stored_at = ?1, lo = ?1, hi = ?1, purged_until = ?1, convert_until = ?1")
      .bind(last)
      .run();

    const checked = limitChecked(env.DB);
    for (let now = T0; (await readState(env.DB)).convert_until !== null; now += MINUTE) await maintainStorage(checked.db, now);
    expect(checked.violations).toEqual([]);
    const blocks = 2 * Math.ceil(N / BLOCK_SLOTS);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM frames").first()).toEqual({ n: 2 * blocks });
    expect(await env.DB.prepare("SELECT count(*) AS n FROM points").first()).toEqual({ n: 0 });
    console.log({ msg: "40,000 metrics, conversion: peaks", prepared: checked.prepared(), ...checked.peaks });
  });

  it("ticks (first, steady, new metrics), maintenance, every API read, alerts, then the slide and purge that forget 40,000", async () => {
    await resetDatabase();
    const checked = limitChecked(env.DB);
    const db = checked.db;
    const first = T0 / MINUTE;
    const { breakdowns, markets } = tickBreakdowns(N, first);
    const tick = (minute: number, tickPoints: Point[]) =>
      insertTick(db, { ts: minute * MINUTE, storedAt: minute * MINUTE, markets, points: tickPoints, breakdowns });

    // The first tick: 40,000 new metrics at once.
    expect(await claimTick(db, first * MINUTE, first * MINUTE, first * MINUTE + 50_000)).toBe(true);
    await tick(first, points(0, N, first));
    await recordSourceStatuses(db, first * MINUTE, [{ source: "kraken", status: "ok", markets, dropped: {}, latency_ms: 1, error: null }]);
    // A steady tick, then one that adds 1,000 metrics of each type, and a scheduled run.
    await tick(first + 1, points(0, N, first + 1));
    await tick(first + 2, points(0, N + 1_000, first + 2));
    await maintainStorage(db, (first + 2) * MINUTE + 30_000);

    // Every read the API serves, through the router with the checked database.
    const now = (first + 2) * MINUTE + 20_000;
    const apiEnv = { ...env, DB: db };
    const metric = symbol("price", 17);
    const paths = [
      "/",
      "/health",
      "/sources",
      "/alerts",
      "/metric_types",
      "/metric_types/price",
      "/metric_types/price/metrics",
      "/metric_types/price/latest",
      "/metric_types/volume/ranking",
      `/metric_types/price/metrics/${metric}`,
      `/metric_types/price/metrics/${metric}/history`,
      `/metric_types/price/metrics/${metric}/rank`,
      `/metric_types/price/metrics/${metric}/alerts`,
      `/metric_types/price/metrics/${metric}/markets`,
    ];
    const clock = vi.spyOn(Date, "now").mockReturnValue(now);
    try {
      for (const path of paths) {
        const ctx = createExecutionContext();
        const response = await worker.fetch(new Request(`https://tracker.test${path}`), apiEnv, ctx);
        await waitOnExecutionContext(ctx);
        expect(response.status, path).toBe(200);
        await response.arrayBuffer();
      }
    } finally {
      clock.mockRestore();
    }

    // Alerts for every metric of a tick at once (a crash moving every market).
    const candidates = points(0, N, first + 2).map((p) => ({ ...p, ts: (first + 2) * MINUTE, average: p.value / 4, threshold: p.value / 2, points: 60 }));
    expect(await storeAlerts(db, candidates, now, "pending")).toHaveLength(2 * N);

    // A month later, only the new metrics: lo slides past everything, the 40,000 others are purged and forgotten.
    const later = first + 2 + 32 * 24 * 60 + 1;
    await tick(later, points(N, N + 1_000, later));
    for (let minute = later + 1; minute <= later + 2; minute++) await maintainStorage(db, minute * MINUTE);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM metrics").first()).toEqual({ n: 2_000 });
    expect(checked.violations).toEqual([]);

    // What is stored stays under D1's 2,000,000 bytes per value and per row.
    const largest = await env.DB.prepare(
      `SELECT (SELECT max(length(CAST(v AS BLOB))) FROM frames) AS frame,
              (SELECT max(length(CAST(data AS BLOB)) + length(CAST(latest AS BLOB)) + length(CAST(day AS BLOB))) FROM sums) AS sums_row,
              (SELECT max(length(CAST(day AS BLOB))) FROM sums) AS sums_day,
              (SELECT max(length(CAST(v AS BLOB))) FROM day_steps) AS day_step,
              (SELECT max(length(CAST(data AS BLOB))) FROM market_breakdowns) AS breakdown,
              (SELECT length(CAST(day AS BLOB)) FROM tracker_state) AS state_day`,
    ).first<Record<string, number>>();
    console.log({ msg: "40,000 metrics: peaks", prepared: checked.prepared(), ...checked.peaks, stored: largest });
    for (const [what, bytes] of Object.entries(largest!)) expect(bytes, what).toBeLessThan(D1_LIMITS.valueBytes);
    // The frames travelled in more than one statement only if they had to: ~1 MB per bound value.
    expect(checked.peaks.valueBytes).toBeLessThanOrEqual(1_000_000);
  });
});
