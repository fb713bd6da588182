/**
 * Every write of the tracker: a tick's values (one frame row per block of
 * metrics), and the scheduled maintenance of the rank sums and the purge
 * (planned by ledger.ts, which owns the invariant behind the sums).
 */
import type { Retention } from "./candles";
import type { SourceBreakdown } from "../domain/breakdown";
import type { Point } from "../domain/point";
import { iso } from "../lib/time";
import { breakdownStatements } from "./breakdowns";
import { emptyDay } from "./day";
import { frameStatements } from "./frames";
import {
  BLOCK_SLOTS,
  isLedgerConflict,
  lag,
  planAdvance,
  readLedgerState,
  readSums,
  type Lag,
  type SlotSums,
} from "./ledger";
import { checkLayout, LAYOUT_COLUMNS, type StoredLayout } from "./layout";
import { jsonArrayChunks } from "./payload";

export interface StoredTick {
  ts: number;
  storedAt: number;
  markets: number;
  points: readonly Point[];
  /** The tick's per-market breakdown, one document per source: stored with the points or not at all. */
  breakdowns?: readonly SourceBreakdown[];
}

export interface TrackerState {
  lo: number;
  hi: number;
  /** Bumped by every write the API shows; with epoch, names a state of the data. */
  version: number;
  epoch: string;
  last_tick: number | null;
  last_tick_stored_at: number | null;
  purged_until: number;
  ledger: number;
  convert_until: number | null;
  /** The 24 h figures' state (src/storage/day.ts), as JSON. */
  day: string;
  /** The candles' cursors (src/storage/candles.ts, docs/candles.md). */
  hour_ts: number | null;
  candles_until: number | null;
  days_until: number | null;
  windows_block: number;
}

export interface WriteCost {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

export class DuplicateTickError extends Error {
  constructor(readonly ts: number) {
    super(`tick ${iso(ts)} is already stored`);
    this.name = "DuplicateTickError";
  }
}

/**
 * Knobs for the bench and the tests, never set by the tracker: `candles: false`
 * runs the ledger without its candle step (AdvanceInput.candles), so that
 * `npm run bench` can measure what the candles add to a minute's writes.
 */
export interface StepOptions {
  candles?: boolean;
}

/** Overlapping writers: a batch planned from an older ledger is retried this often. */
const ATTEMPTS = 3;

export function cost(results: readonly D1Result[]): WriteCost {
  return {
    statements: results.length,
    rowsRead: results.reduce((sum, result) => sum + (result.meta.rows_read ?? 0), 0),
    rowsWritten: results.reduce((sum, result) => sum + (result.meta.rows_written ?? 0), 0),
  };
}

export async function readState(db: D1Database | D1DatabaseSession): Promise<TrackerState> {
  const row = await db
    .prepare(
      `SELECT lo, hi, version, epoch, last_tick, last_tick_stored_at, purged_until, ledger, convert_until, day,
         hour_ts, candles_until, days_until, windows_block, ${LAYOUT_COLUMNS}
       FROM tracker_state WHERE id = 1`,
    )
    .first<TrackerState & StoredLayout>();
  if (!row) throw new Error("tracker_state is empty: were the migrations applied?");
  // A database written with another layout is refused before anything reads its frames or sums.
  checkLayout(row);
  const { layout_version, block_slots, part_slots, ...state } = row;
  return state;
}

/** How far the rank sums and the purge are behind the newest tick. */
export function maintenanceLag(state: TrackerState): Lag {
  return lag(state);
}

export async function tickExists(db: D1Database, ts: number): Promise<boolean> {
  return (await db.prepare("SELECT 1 FROM ticks WHERE ts = ?1").bind(ts).first()) !== null;
}

/**
 * Claim the minute `ts` for reading the upstreams, until `expires` (epoch ms).
 * Of overlapping runs of one minute only the first gets it; a claim is given
 * back by releaseTick when the run stores nothing, a crashed run's claim
 * expires, and another minute is never blocked.
 */
export async function claimTick(db: D1Database, ts: number, now: number, expires: number): Promise<boolean> {
  const result = await db
    .prepare("UPDATE tick_lease SET ts = ?1, expires = ?3 WHERE id = 1 AND (ts IS NOT ?1 OR expires <= ?2)")
    .bind(ts, now, expires)
    .run();
  return result.meta.changes === 1;
}

/**
 * Give back the claim made by claimTick(db, ts, _, expires), so that another
 * run of the minute can read it at once. Only while the lease still holds that
 * very claim (same minute, same expiry): never another run's. (Two claims of
 * one minute made in the same millisecond look alike; giving back the other's
 * then costs at most a second read of the minute, never a second copy: the
 * ticks table stores a minute once.) Returns whether it was released.
 */
export async function releaseTick(db: D1Database, ts: number, expires: number): Promise<boolean> {
  const result = await db
    .prepare("UPDATE tick_lease SET expires = 0 WHERE id = 1 AND ts = ?1 AND expires = ?2")
    .bind(ts, expires)
    .run();
  return result.meta.changes === 1;
}

/**
 * Store a tick in one transaction: the tick record, the ledger check, new
 * metrics (each gets a free slot), one frame row per block, the rank sums with
 * the tick's values added (and the run's slide and purge), the state. A
 * handful of statements whatever the tick's size. A tick already stored fails
 * the ticks insert, which rolls the batch back: DuplicateTickError. It comes
 * before the check because no retry can change it; a failed check (another
 * run wrote in between, maybe the same new metric into the same free slot) is
 * retried from a fresh read.
 */
export async function insertTick(
  db: D1Database,
  tick: StoredTick,
  retention: Retention | null = null,
  options: StepOptions = {},
): Promise<WriteCost> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryInsertTick(db, tick, retention, options);
    } catch (err) {
      if (/UNIQUE constraint failed: ticks\.ts/.test(String(err))) throw new DuplicateTickError(tick.ts);
      if (!isLedgerConflict(err) || attempt >= ATTEMPTS) throw err;
    }
  }
}

async function tryInsertTick(db: D1Database, tick: StoredTick, retention: Retention | null, { candles }: StepOptions): Promise<WriteCost> {
  const state = await readLedgerState(db);
  const { sums, rowsRead } = await readSums(db);
  const placed: { metricType: string; slot: number; value: number }[] = [];
  const added: [string, string, number][] = [];
  const frames = new Map<string, (number | null)[]>();
  for (const [metricType, points] of groupBy(tick.points, (p) => p.metric_type)) {
    const slots = sums.get(metricType) ?? [];
    sums.set(metricType, slots);
    const bySymbol = new Map(slots.flatMap((s, slot) => (s ? [[s.symbol, slot] as const] : [])));
    let free = 0;
    for (const point of points) {
      let slot = bySymbol.get(point.symbol);
      if (slot === undefined) {
        while (free < slots.length && slots[free] !== null) free++;
        slot = free;
        const fresh: SlotSums = { symbol: point.symbol, n: 0, s1: 0, s2: 0, k: point.value, latestTs: null, latestValue: null, e: null, day: emptyDay(), hour: null, windows: null };
        if (slot === slots.length) slots.push(fresh);
        else slots[slot] = fresh;
        bySymbol.set(point.symbol, slot);
        added.push([metricType, point.symbol, slot]);
      }
      placed.push({ metricType, slot, value: point.value });
      const key = JSON.stringify([metricType, Math.floor(slot / BLOCK_SLOTS)]);
      const frame = frames.get(key) ?? [];
      frames.set(key, frame);
      frame[slot % BLOCK_SLOTS] = point.value;
    }
  }
  const plan = await planAdvance(db, { now: tick.ts, tick: { ts: tick.ts, values: placed }, retention, candles }, { state, sums, rowsRead });

  const results = await db.batch([
    db
      .prepare("INSERT INTO ticks (ts, stored_at, markets, points) VALUES (?1, ?2, ?3, ?4)")
      .bind(tick.ts, tick.storedAt, tick.markets, tick.points.length),
    plan.check,
    // New metrics as bound JSON, in as many statements as D1's 2 MB per value needs (none when there is none).
    ...jsonArrayChunks(added).map((payload) =>
      db.prepare("INSERT INTO metrics (metric_type, symbol, slot) SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1)").bind(payload),
    ),
    ...frameStatements(db, tick.ts, frames),
    ...plan.statements,
    // The per-market breakdown of this tick, replacing the previous one's: stored with the values or not at all.
    ...breakdownStatements(db, tick.ts, tick.breakdowns ?? []),
    db
      .prepare(
        `UPDATE tracker_state SET version = version + 1,
           last_tick = max(coalesce(last_tick, ?1), ?1),
           last_tick_stored_at = CASE WHEN last_tick IS NULL OR ?1 >= last_tick THEN ?2 ELSE last_tick_stored_at END`,
      )
      .bind(tick.ts, tick.storedAt),
  ]);
  const batch = cost(results);
  return { statements: batch.statements + 2, rowsRead: batch.rowsRead + plan.rowsRead + 1, rowsWritten: batch.rowsWritten };
}

/**
 * The scheduled maintenance without a tick (or after it): slide the sums,
 * rebuild due blocks, convert old points, purge. Writes nothing when nothing
 * is due.
 */
export async function maintainStorage(
  db: D1Database,
  now: number,
  retention: Retention | null = null,
  { candles }: StepOptions = {},
): Promise<WriteCost & { summary: Record<string, unknown> }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const plan = await planAdvance(db, { now, retention, candles });
      if (!plan.moved) return { statements: 2, rowsRead: plan.rowsRead + 1, rowsWritten: 0, summary: plan.summary };
      const batch = cost(await db.batch([plan.check, ...plan.statements]));
      return { ...batch, statements: batch.statements + 2, rowsRead: batch.rowsRead + plan.rowsRead + 1, summary: plan.summary };
    } catch (err) {
      if (!isLedgerConflict(err) || attempt >= ATTEMPTS) throw err;
    }
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item)) ?? [];
    groups.set(key(item), group);
    group.push(item);
  }
  return groups;
}
