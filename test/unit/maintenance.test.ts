import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { seedOurs, tickPoints } from "../../scripts/bench/workload";
import { readDayState } from "../../src/storage/day";
import { LEASE_MS, runScheduled } from "../../src/ingest/tick";
import { claimTick, insertTick, maintainStorage } from "../../src/storage/ticks";
import {
  count,
  expectSumsMatchStoredValues,
  fakeCryptowatch,
  getJson,
  get,
  MINUTE,
  resetDatabase,
  runCron,
  setNow,
  storedValues,
  T0,
} from "./helpers";
import { faultyDatabase } from "./d1-faults";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const LAST = T0 / MINUTE;

/** The minute is entirely stored (every point, its tick record) or entirely absent; true when stored. */
async function tickIsWholeOrAbsent(ts: number, points: number) {
  const stored = (await storedValues(`f.ts = ${ts}`)).length;
  const recorded = (await env.DB.prepare("SELECT count(*) AS n FROM ticks WHERE ts = ?1").bind(ts).first<{ n: number }>())!.n;
  expect(stored === 0 ? [0, recorded] : [points, recorded]).toEqual(stored === 0 ? [0, 0] : [points, 1]);
  return stored > 0;
}

describe("faults: a D1 statement failing at any point leaves consistent data", () => {
  it("a tick: for every N, failing the Nth statement stores the minute whole or not at all; the sums match the stored values", async () => {
    await seedOurs(env.DB, 60, 90, LAST);
    const points = tickPoints(60, LAST + 1);
    const ts = (LAST + 1) * MINUTE;
    const dry = faultyDatabase(env.DB, Infinity);
    await insertTick(dry.db, { ts, storedAt: ts, markets: 1, points });
    const total = dry.statements();
    expect(total).toBeGreaterThan(5);
    for (let n = 1; n <= total; n++) {
      await resetDatabase();
      await seedOurs(env.DB, 60, 90, LAST);
      const faulty = faultyDatabase(env.DB, n);
      await insertTick(faulty.db, { ts, storedAt: ts, markets: 1, points }).catch(() => undefined);
      expect(await tickIsWholeOrAbsent(ts, points.length), `statement ${n} of ${total}`).toBe(false);
      await expectSumsMatchStoredValues();
      // The next run stores it.
      await insertTick(env.DB, { ts, storedAt: ts, markets: 1, points });
      expect(await tickIsWholeOrAbsent(ts, points.length)).toBe(true);
      await expectSumsMatchStoredValues();
    }
  });

  // Many seeded days (~40 s on a loaded 2-core machine): the ceiling only catches a hang.
  it("a catch-up slide with its purge, and a rebuild: for every N the sums stay equal to the stored values", { timeout: 900_000 }, async () => {
    const seed = async () => {
      await resetDatabase();
      await seedOurs(env.DB, 60, 1440, LAST);
    };
    await seed();
    // Three hours later: the slide passes 60 stored minutes and purges them.
    const later = (LAST + 180) * MINUTE;
    const dry = faultyDatabase(env.DB, Infinity);
    const done = await maintainStorage(dry.db, later);
    expect(done.summary).toHaveProperty("slid");
    const total = dry.statements();
    for (let n = 1; n <= total; n++) {
      await seed();
      const frames = await count("frames");
      await maintainStorage(faultyDatabase(env.DB, n).db, later).catch(() => undefined);
      expect(await count("frames"), `statement ${n} of ${total}`).toBe(frames);
      await expectSumsMatchStoredValues();
      await maintainStorage(env.DB, later);
      expect(await count("frames")).toBeLessThan(frames);
      await expectSumsMatchStoredValues();
    }
  });

  // Many seeded databases: the ceiling only catches a hang.
  it("a tick that builds a segment's suffix rows, and a run that rebuilds the 24 h figures: for every N they stay exact", { timeout: 900_000 }, async () => {
    // Seeded to 11:58 and ticked at 11:59, so the tick of 12:01 finds the segment (00:00, 12:00] complete and unbuilt.
    const seed = async () => {
      await resetDatabase();
      await seedOurs(env.DB, 60, 90, LAST - 2);
      await insertTick(env.DB, { ts: (LAST - 1) * MINUTE, storedAt: (LAST - 1) * MINUTE, markets: 1, points: tickPoints(60, LAST - 1) });
    };
    const ts = (LAST + 1) * MINUTE;
    const points = tickPoints(60, LAST + 1);
    const dayOf = () => readDayState(env.DB);
    await seed();
    const dry = faultyDatabase(env.DB, Infinity);
    await insertTick(dry.db, { ts, storedAt: ts, markets: 1, points });
    expect((await dayOf()).built).toContain(T0 / (12 * 60 * MINUTE)); // this tick built it
    const total = dry.statements();
    for (let n = 1; n <= total; n++) {
      await seed();
      const before = await dayOf();
      await insertTick(faultyDatabase(env.DB, n).db, { ts, storedAt: ts, markets: 1, points }).catch(() => undefined);
      expect(await tickIsWholeOrAbsent(ts, points.length), `statement ${n} of ${total}`).toBe(false);
      expect(await dayOf()).toEqual(before);
      await expectSumsMatchStoredValues();
      await insertTick(env.DB, { ts, storedAt: ts, markets: 1, points });
      expect(await dayOf()).toMatchObject({ ok: true });
      await expectSumsMatchStoredValues();
    }

    // A rebuild from the frames (the figures marked stale, as after an outage), one run.
    const stale = async () => {
      await seed();
      // As a run that finds them stale leaves the sums rows: latest entries without figures.
      await env.DB.batch([
        env.DB.prepare(`UPDATE tracker_state SET day = '{"ok":false}'`),
        env.DB.prepare(
          `UPDATE sums SET latest = (SELECT json_group_array(CASE WHEN j.type = 'array' THEN json_array(j.value ->> 0, j.value ->> 1, j.value ->> 2) END)
                                     FROM json_each(sums.latest) j)`,
        ),
      ]);
    };
    await stale();
    const dryRebuild = faultyDatabase(env.DB, Infinity);
    await maintainStorage(dryRebuild.db, (LAST - 1) * MINUTE);
    expect(await dayOf()).toMatchObject({ ok: true });
    const rebuildTotal = dryRebuild.statements();
    for (let n = 1; n <= rebuildTotal; n++) {
      await stale();
      await maintainStorage(faultyDatabase(env.DB, n).db, (LAST - 1) * MINUTE).catch(() => undefined);
      expect((await dayOf()).ok, `statement ${n} of ${rebuildTotal}`).toBe(false);
      await expectSumsMatchStoredValues();
      await maintainStorage(env.DB, (LAST - 1) * MINUTE);
      expect(await dayOf()).toMatchObject({ ok: true });
      await expectSumsMatchStoredValues();
    }
  });

  it("a tick that rebuilds a block exactly: for every N the sums stay equal to the stored values", async () => {
    const rebuildMinute = Math.ceil((LAST + 1) / 10) * 10;
    const seed = async () => {
      await resetDatabase();
      await seedOurs(env.DB, 60, 90, rebuildMinute - 1);
    };
    const ts = rebuildMinute * MINUTE;
    const points = tickPoints(60, rebuildMinute);
    await seed();
    const dry = faultyDatabase(env.DB, Infinity);
    await insertTick(dry.db, { ts, storedAt: ts, markets: 1, points });
    const total = dry.statements();
    for (let n = 1; n <= total; n++) {
      await seed();
      await insertTick(faultyDatabase(env.DB, n).db, { ts, storedAt: ts, markets: 1, points }).catch(() => undefined);
      expect(await tickIsWholeOrAbsent(ts, points.length), `statement ${n} of ${total}`).toBe(false);
      await expectSumsMatchStoredValues();
    }
  });
});

describe("overlapping scheduled runs", () => {
  it("five runs of one minute started together store one tick, read the upstream once, and no point twice", async () => {
    const upstream = fakeCryptowatch();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => runScheduled(env, T0 + 1_000)));
    // One reads and stores; the others found the minute claimed (or, later, stored).
    const statuses = outcomes.map((outcome) => outcome.status).sort();
    expect(statuses.filter((status) => status === "stored")).toHaveLength(1);
    expect(statuses.every((status) => ["stored", "skipped", "duplicate"].includes(status))).toBe(true);
    expect(await count("ticks")).toBe(1);
    const summaries = upstream.requests.filter((r) => new URL(r.url).pathname === "/markets/summaries");
    expect(summaries).toHaveLength(1);
    const values = await storedValues();
    expect(values).toHaveLength(11);
    expect(new Set(values.map((v) => `${v.metric_type}/${v.symbol}/${v.ts}`)).size).toBe(11);
    await expectSumsMatchStoredValues();
  });

  it("a crashed run's claim expires, and never blocks another minute", async () => {
    fakeCryptowatch();
    // A run claimed T0 and died (it never gave the minute back). A retry of T0 while the claim holds reads nothing.
    expect(await claimTick(env.DB, T0, Date.now(), Date.now() + LEASE_MS)).toBe(true);
    expect((await runScheduled(env, T0)).status).toBe("skipped");
    expect(await count("ticks")).toBe(0);
    // The next minute ticks at once.
    await runCron(T0 + MINUTE);
    expect(await count("ticks")).toBe(1);
    // Once the claim on T0 expired, a late retry of T0 ticks.
    await env.DB.prepare("UPDATE tick_lease SET ts = ?1, expires = ?2").bind(T0, Date.now() - 1).run();
    expect((await runScheduled(env, T0)).status).toBe("stored");
    expect(await count("ticks")).toBe(2);
  });

  it("overlapping maintenance runs leave the sums equal to the stored values", async () => {
    await seedOurs(env.DB, 60, 1440, LAST);
    const later = (LAST + 200) * MINUTE;
    await Promise.all([maintainStorage(env.DB, later), maintainStorage(env.DB, later), maintainStorage(env.DB, later + MINUTE)]);
    await expectSumsMatchStoredValues();
  });
});

describe("/health", () => {
  it("is ok after a fresh tick, degraded with a reason when the tick is old or maintenance lags; strict makes that a 503", async () => {
    fakeCryptowatch();
    await runCron(T0);
    setNow(T0 + 30_000);
    const ok = await getJson("/health");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "ok", reason: null, last_tick: "2026-11-29T12:00:00.000Z", sums_lag_seconds: 0, purge_lag_seconds: 0, figures_24h: "exact" });
    expect((await getJson("/")).body).toMatchObject({ status: "ok", sums_lag_seconds: 0, purge_lag_seconds: 0 });

    // Six minutes without a stored tick (the stored_at of this tick is the real clock's).
    const storedAt = (await env.DB.prepare("SELECT last_tick_stored_at AS t FROM tracker_state").first<{ t: number }>())!.t;
    setNow(storedAt + 6 * MINUTE);
    const stale = await getJson("/health");
    expect(stale.status).toBe(200);
    expect(stale.body.status).toBe("degraded");
    expect(stale.body.reason).toMatch(/last tick was stored 360 s ago/);
    const strict = await get("/health?strict=1");
    expect(strict.status).toBe(503);
    expect(await strict.json()).toMatchObject({ status: "degraded" });
    expect((await getJson("/")).body).toMatchObject({ status: "degraded" });

    // The sums 2 hours behind the last tick (a run that could not keep up).
    setNow(storedAt + 10_000);
    await env.DB.prepare("UPDATE tracker_state SET lo = lo - 2 * 3600000").run();
    const lagging = await getJson("/health");
    expect(lagging.body).toMatchObject({ status: "degraded", sums_lag_seconds: 7200 });
    expect(lagging.body.reason).toMatch(/rank sums are 7200 s behind/);
    expect((await get("/health?strict=0")).status).toBe(200);
    // A monitor always sees now: never cached; a malformed strict is a 400.
    expect(lagging.response.headers.get("cache-control")).toBe("no-store");
    expect(lagging.response.headers.get("etag")).toBeNull();
    const malformed = await getJson("/health?strict=yes");
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/Malformed strict "yes"/);
  });

  it("before the first tick it says so, still 200", async () => {
    const { status, body } = await getJson("/health");
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "degraded", reason: "no tick stored yet", last_tick: null, sums_lag_seconds: null });
  });
});

