/**
 * The rank sums and the one invariant behind them: for every slot of every
 * metric type, (n, s1, s2) in `sums` are exactly the count, sum(x - K) and
 * sum((x - K)^2) of the stored values with lo < ts <= hi (tracker_state), and
 * e is the stored value at lo + 1 minute. Every write that moves values or the
 * bounds goes through here, in the same D1 transaction as the values it
 * describes:
 *
 * - a tick adds its values (late ticks inside (lo, hi] included) and moves hi;
 * - every scheduled run slides lo to 24 h before the newest minute (normally
 *   one minute: subtract e, read the next e), in bounded chunks after an
 *   outage, and purges the frames at or below lo;
 * - a block of slots is rebuilt exactly (two passes over its frames, K = mean)
 *   in turn, every block at least once a day (a tick also takes the turns of
 *   up to 2 missed minutes before it), and at once when K drifted far from
 *   the mean;
 * - a deployed database's `points` are converted into frames, newest first,
 *   and lo extends back over them.
 *
 * Each of these is planned from a read of the state and the sums and written
 * in one batch that starts with the ledger's compare-and-bump (`Plan.check`):
 * it fails (NOT NULL) when the ledger moved since the read, rolling the batch
 * back, so overlapping runs never mix: the loser writes nothing and retries.
 * Every write of sums, metrics and frames passes the check first, so a batch
 * that passed it runs against the very state it was planned from, and a later
 * failure in it is a real error, not a race.
 */
import { MONTH_HOURS, planCandles, slotVariances, type CandleCursors, type CandleSlot, type Retention } from "./candles";
import type { Moments } from "../lib/moments";
import { emptyDay, parseDayState, planDay, slotFigures, type DayState, type SlotDay } from "./day";
import { floorMinute, iso, MINUTE_MS } from "../lib/time";
import { WINDOW_MS } from "./window";
import {
  BLOCK_SLOTS,
  checkLayout,
  DAY,
  LAYOUT_COLUMNS,
  hourTuple,
  latestTuple,
  PART_SLOTS,
  readHourTuple,
  readLatestTuple,
  readWindowsTuple,
  readSumsTuple,
  sumsTuple,
  variancesTuple,
  windowsTuple,
  type StoredLayout,
} from "./layout";

/** The layout's numbers, here too for the callers that always imported them from the ledger. */
export { BLOCK_SLOTS, PART_SLOTS } from "./layout";
/** A metric without a value for this long is forgotten: longer than the month window of the ranking. */
export const FORGET_AFTER_MS = (MONTH_HOURS / 24 + 1) * 24 * 60 * MINUTE_MS;
/** How many stored minutes lo passes in one run when it has fallen behind (outage, conversion). */
export const SLIDE_CHUNK_TICKS = 60;
/** Old points older than this before the window are not converted. */
const CONVERT_MARGIN_MS = 60 * MINUTE_MS;
/** How many hours of old `points` one run converts. */
export const CONVERT_CHUNK_MS = 2 * 60 * MINUTE_MS;
/** One block is rebuilt exactly every REBUILD_EVERY_MINUTES minutes (round robin)... */
export const REBUILD_EVERY_MINUTES = 10;
/** ...unless that cycle would be longer than this: then more blocks a minute, each at least once a day. */
export const REBUILD_CYCLE_MAX_MINUTES = 24 * 60;
/** A tick also takes the turns of the minutes before it that had no tick, this many minutes at most. */
export const REBUILD_CATCH_UP_MINUTES = 3;
/** Extra rebuilds per run of blocks whose K drifted far from the mean. */
const MAX_DRIFT_REBUILDS = 2;

export interface LedgerState {
  lo: number;
  hi: number;
  ledger: number;
  last_tick: number | null;
  purged_until: number;
  convert_until: number | null;
  /** The 24 h figures' state (src/storage/day.ts), as JSON. */
  day: string;
  /** The candles' cursors (src/storage/candles.ts). */
  hour_ts: number | null;
  candles_until: number | null;
  days_until: number | null;
  windows_block: number;
}

/** One slot's entry in a sums row (with its open hour and window moments, candles.ts). */
export interface SlotSums extends CandleSlot {
  symbol: string;
  n: number;
  s1: number;
  s2: number;
  k: number;
  latestTs: number | null;
  latestValue: number | null;
  /** The value at lo + 1 minute, or null. */
  e: number | null;
  /** The 24 h figures (src/storage/day.ts). */
  day: SlotDay;
}


/** Every slot of every metric type, dense by slot (null = free). */
export type Sums = Map<string, (SlotSums | null)[]>;

export interface TickValues {
  ts: number;
  /** Each point with its slot (new metrics already placed). */
  values: { metricType: string; slot: number; value: number }[];
}

export interface PlanCost {
  statements: number;
  rowsRead: number;
  rowsWritten: number;
}

export class LedgerConflictError extends Error {
  constructor() {
    super("the rank sums changed while this write was planned (an overlapping run): nothing written");
    this.name = "LedgerConflictError";
  }
}

export const isLedgerConflict = (err: unknown) => /NOT NULL constraint failed: tracker_state\.ledger/.test(String(err));

export async function readLedgerState(db: D1Database): Promise<LedgerState> {
  const row = await db
    .prepare(`SELECT lo, hi, ledger, last_tick, purged_until, convert_until, day, hour_ts, candles_until, days_until, windows_block, ${LAYOUT_COLUMNS} FROM tracker_state WHERE id = 1`)
    .first<LedgerState & StoredLayout>();
  if (!row) throw new Error("tracker_state is empty: were the migrations applied?");
  checkLayout(row);
  const { layout_version, block_slots, part_slots, ...state } = row;
  return state;
}

export async function readSums(db: D1Database): Promise<{ sums: Sums; rowsRead: number }> {
  const result = await db.prepare("SELECT metric_type, part, data, latest, day, hour, windows FROM sums ORDER BY metric_type, part").all<{
    metric_type: string;
    part: number;
    data: string;
    latest: string;
    day: string;
    hour: string;
    windows: string;
  }>();
  const sums: Sums = new Map();
  for (const row of result.results) {
    const slots = sums.get(row.metric_type) ?? [];
    sums.set(row.metric_type, slots);
    const tuples = JSON.parse(row.data) as (unknown[] | null)[];
    const latest = JSON.parse(row.latest) as (unknown[] | null)[];
    const days = JSON.parse(row.day) as (unknown[] | null)[];
    const hours = JSON.parse(row.hour) as (unknown[] | null)[];
    const windows = JSON.parse(row.windows) as (unknown[] | null)[];
    tuples.forEach((t, i) => {
      const day = days[i];
      const newest = latest[i] ? readLatestTuple(latest[i]) : null;
      slots[row.part * PART_SLOTS + i] = t && {
        ...readSumsTuple(t),
        latestTs: newest?.ts ?? null,
        latestValue: newest?.value ?? null,
        day: day ? { front: day[DAY.front] as SlotDay["front"], segments: day[DAY.segments] as SlotDay["segments"] } : emptyDay(),
        hour: readHourTuple(hours[i]),
        windows: readWindowsTuple(windows[i]) as [Moments, Moments] | null,
      };
    });
    for (let i = 0; i < slots.length; i++) if (slots[i] === undefined) slots[i] = null;
  }
  return { sums, rowsRead: result.meta.rows_read };
}

interface PartRow {
  data: string;
  latest: string;
  day: string;
  hour: string;
  windows: string;
  variances: string;
}

function partRows(slots: readonly (SlotSums | null)[], figuresOk: boolean, openHour: boolean): PartRow[] {
  const parts: PartRow[] = [];
  for (let start = 0; start < slots.length; start += PART_SLOTS) {
    const part = slots.slice(start, start + PART_SLOTS);
    parts.push({
      data: JSON.stringify(part.map((s) => s && sumsTuple(s))),
      // A slot's latest value, with the window's figures when they are exact.
      latest: JSON.stringify(
        part.map((s) => s && latestTuple({ symbol: s.symbol, ts: s.latestTs, value: s.latestValue, figures: figuresOk ? slotFigures(s.day) : null })),
      ),
      day: JSON.stringify(part.map((s) => s && dayTuple(s.day))),
      hour: JSON.stringify(part.map((s) => s?.hour && hourTuple(s.hour))),
      windows: JSON.stringify(part.map((s) => s?.windows && windowsTuple(s.windows))),
      variances: JSON.stringify(part.map((s) => s && variancesTuple(slotVariances(s, openHour)))),
    });
  }
  return parts;
}

function dayTuple(day: SlotDay): unknown[] {
  const tuple: unknown[] = [];
  tuple[DAY.front] = day.front;
  tuple[DAY.segments] = day.segments;
  return tuple;
}

/** Per (metric type, block): the frame's values, or per slot. */
type Frames = Map<string, Map<number, (number | null)[]>>;

/** The frames of one minute, for the blocks that exist. */
async function readFramesAt(db: D1Database, sums: Sums, ts: number): Promise<{ frames: Frames; rowsRead: number }> {
  const blocks = blockList(sums);
  const frames: Frames = new Map();
  if (blocks.length === 0) return { frames, rowsRead: 0 };
  const result = await db
    .prepare(
      `SELECT f.metric_type, f.block, f.v FROM json_each(?1) b
       JOIN frames f ON f.metric_type = b.value ->> 0 AND f.block = b.value ->> 1 AND f.ts = ?2`,
    )
    .bind(JSON.stringify(blocks), ts)
    .all<{ metric_type: string; block: number; v: string }>();
  for (const row of result.results) {
    const byBlock = frames.get(row.metric_type) ?? new Map();
    frames.set(row.metric_type, byBlock);
    byBlock.set(row.block, JSON.parse(row.v));
  }
  return { frames, rowsRead: result.meta.rows_read };
}

function blockList(sums: Sums): [string, number][] {
  const blocks: [string, number][] = [];
  for (const [type, slots] of sums) {
    for (let block = 0; block * BLOCK_SLOTS < slots.length; block++) {
      if (slots.slice(block * BLOCK_SLOTS, (block + 1) * BLOCK_SLOTS).some((s) => s !== null)) blocks.push([type, block]);
    }
  }
  return blocks;
}

interface SlotStats {
  metric_type: string;
  slot: number;
  n: number;
  /** The mean of the values, and around it: sum(x - mean) (rounding only) and sum((x - mean)^2). */
  mean: number;
  d1: number;
  m2: number;
  latest_ts: number;
  latest_value: number;
}

/**
 * Per slot of the given blocks: count, mean, sum(x - mean), sum((x - mean)^2)
 * of the stored values with from < ts <= to (two passes in SQL: a window
 * average, then the deviations), and the newest value.
 */
async function frameStats(
  db: D1Database,
  from: number,
  to: number,
  blocks: [string, number][],
): Promise<{ stats: SlotStats[]; rowsRead: number }> {
  if (blocks.length === 0) return { stats: [], rowsRead: 0 };
  const result = await db
    .prepare(
      `WITH v AS (
         SELECT f.metric_type, f.block * ${BLOCK_SLOTS} + x.key AS slot, f.ts, x.value AS x
         FROM json_each(?3) b
         JOIN frames f ON f.metric_type = b.value ->> 0 AND f.block = b.value ->> 1 AND f.ts > ?1 AND f.ts <= ?2,
              json_each(f.v) x
         WHERE x.type IN ('integer', 'real')
       ),
       w AS (SELECT metric_type, slot, ts, x, avg(x) OVER (PARTITION BY metric_type, slot) AS mean FROM v)
       SELECT metric_type, slot, count(*) AS n, mean, sum(x - mean) AS d1, sum((x - mean) * (x - mean)) AS m2,
              max(ts) AS latest_ts, x AS latest_value
       FROM w GROUP BY metric_type, slot`,
    )
    .bind(from, to, JSON.stringify(blocks))
    .all<SlotStats>();
  return { stats: result.results, rowsRead: result.meta.rows_read };
}

/** A slot's stats as (count, sum(x - K), sum((x - K)^2)) around its shift K. */
function aroundShift(stat: SlotStats, k: number) {
  const d = stat.mean - k;
  return { n: stat.n, s1: stat.d1 + stat.n * d, s2: stat.m2 + 2 * d * stat.d1 + stat.n * d * d };
}

export interface Plan {
  /**
   * The ledger's compare-and-bump, with the new bounds and figures' state: the
   * first statement of any batch that writes (a tick's own record may precede
   * it). The statements below never read tracker_state, so they see no
   * difference for running after it.
   */
  check: D1PreparedStatement;
  /** Whether the run changes anything: a run without a tick writes only then. */
  moved: boolean;
  /** The writes, to follow `check` in the same batch. */
  statements: D1PreparedStatement[];
  /** What the run did, for the log. */
  summary: Record<string, unknown>;
  rowsRead: number;
}

export interface AdvanceInput {
  /** The scheduled minute of this run (epoch ms). */
  now: number;
  tick?: TickValues;
  /** How long candles are kept (HOURLY_CANDLE_DAYS, DAILY_CANDLE_DAYS); unset: nothing is deleted. */
  retention?: Retention | null;
  /**
   * false skips the candle step (no roll-up, no open hour, no retention): a
   * knob for the bench and the tests only, which measure a run without it.
   * The tracker never sets it. Default: on.
   */
  candles?: boolean;
}

/** A run's plan as its steps build it: the sums as they will be written, lo, and the batch so far. */
interface Draft {
  /** The candles' cursors as they will be written. */
  candles: CandleCursors;
  /** Each slot's entry is updated in place (copying 40,000 entries a step would cost more than it says). */
  sums: Sums;
  lo: number;
  convertUntil: number | null;
  statements: D1PreparedStatement[];
  /** The metric types whose sums rows are rewritten. */
  changed: ReadonlySet<string>;
  summary: Record<string, unknown>;
  rowsRead: number;
}

/** The draft with more statements, changed types, reads and summary entries. */
function add(draft: Draft, more: { statements?: D1PreparedStatement[]; changed?: Iterable<string>; rowsRead?: number; summary?: Record<string, unknown> }): Draft {
  return {
    ...draft,
    statements: more.statements ? [...draft.statements, ...more.statements] : draft.statements,
    changed: more.changed ? new Set([...draft.changed, ...more.changed]) : draft.changed,
    rowsRead: draft.rowsRead + (more.rowsRead ?? 0),
    summary: more.summary ? { ...draft.summary, ...more.summary } : draft.summary,
  };
}

/**
 * Plan one run's writes of the sums: convert a chunk of old points, rebuild
 * due blocks, slide lo, add the tick (if any), refresh e, the 24 h figures,
 * purge, and write the sums rows. Returns the statements for the caller's
 * batch and the ledger check that must precede them.
 */
export async function planAdvance(db: D1Database, input: AdvanceInput, pre?: { state: LedgerState; sums: Sums; rowsRead: number }): Promise<Plan> {
  const state = pre?.state ?? (await readLedgerState(db));
  const loaded = pre ?? { ...(await readSums(db)), state };
  const { tick, now } = input;
  const hi = tick ? Math.max(state.hi, tick.ts) : state.hi;
  const newest = Math.max(hi, floorMinute(now));
  const targetLo = loTarget(state, hi, newest);

  let draft: Draft = {
    candles: { hourTs: state.hour_ts, candlesUntil: state.candles_until, daysUntil: state.days_until, windowsBlock: state.windows_block },
    sums: loaded.sums,
    lo: state.lo,
    convertUntil: state.convert_until,
    statements: [],
    changed: new Set(),
    summary: {},
    rowsRead: loaded.rowsRead,
  };
  if (draft.convertUntil !== null) draft = await convertOldPoints(db, draft, newest);
  // Rebuilds ride on ticks (once a minute); a run without one only slides and purges.
  if (tick && state.convert_until === null && targetLo >= state.lo && targetLo <= state.lo + REBUILD_CATCH_UP_MINUTES * MINUTE_MS) {
    draft = await rebuildDue(db, draft, state, now);
  }
  if (targetLo !== draft.lo) draft = await slideLo(db, draft, targetLo);
  if (tick) draft = addTick(draft, tick, hi);
  if (draft.lo !== state.lo) draft = await refreshLeaving(db, draft);
  // A (late) tick of minute lo + 1 is itself the next to leave; its frame is not stored yet.
  if (tick?.ts === draft.lo + MINUTE_MS) draft = tickLeavesNext(draft, tick);
  const figures = await planFigures(db, draft, state, hi, tick);
  draft = figures.draft;
  if (draft.convertUntil === null && input.candles !== false) draft = await rollUpCandles(db, draft, state, newest, input);
  // The minutes of an hour stay until its candle is written.
  const candlesUntil = draft.candles.candlesUntil ?? Infinity;
  const purgeTo = Math.min(draft.lo, newest - WINDOW_MS, candlesUntil - 1);
  const purgedUntil = purgeTo > state.purged_until ? purgeTo : state.purged_until;
  if (purgeTo > state.purged_until) draft = purge(db, draft, purgeTo, newest);
  draft = writeSums(db, draft, figures.day.ok);
  return ledgerCheck(db, draft, state, { hi, purgedUntil, dayText: JSON.stringify(figures.day), versionBump: tick === undefined && figures.changed });
}

/** The candles of the closed hours and days, the open hour's, the windows (candles.ts). */
async function rollUpCandles(db: D1Database, draft: Draft, state: LedgerState, newest: number, input: AdvanceInput): Promise<Draft> {
  const plan = await planCandles(db, {
    slots: draft.sums,
    blocks: blockList(draft.sums),
    cursors: draft.candles,
    purgedUntil: state.purged_until,
    newest,
    tick: input.tick,
    retention: input.retention ?? null,
  });
  const next = add(draft, {
    statements: plan.statements,
    changed: plan.changed ? draft.sums.keys() : undefined,
    rowsRead: plan.rowsRead,
    summary: plan.summary,
  });
  return { ...next, candles: plan.cursors };
}

/** Where lo goes: 24 h before the newest minute, at most hi, and not below the points still to convert. */
function loTarget(state: LedgerState, hi: number, newest: number): number {
  const target = Math.min(hi, newest - WINDOW_MS);
  // Frames below the converted range are not there yet.
  return state.convert_until === null ? target : Math.max(target, state.convert_until);
}

/** A deployed database's points, newest first, a chunk a run; lo then extends back over them. */
async function convertOldPoints(db: D1Database, draft: Draft, newest: number): Promise<Draft> {
  const until = draft.convertUntil!;
  const oldest = await db.prepare("SELECT min(ts) AS ts FROM points").first<{ ts: number | null }>();
  const from = Math.max(until - CONVERT_CHUNK_MS, newest - WINDOW_MS - CONVERT_MARGIN_MS, (oldest?.ts ?? Infinity) - MINUTE_MS);
  if (from >= until) {
    // What is left is older than the window: nothing to keep.
    return { ...add(draft, { statements: [db.prepare("DELETE FROM points")], rowsRead: 1, summary: { converted: "done" } }), convertUntil: null };
  }
  const statements = [convertPoints(db, from, until), db.prepare("DELETE FROM points WHERE ts > ?1").bind(from)];
  return { ...add(draft, { statements, rowsRead: 1, summary: { converted: { from: iso(from), until: iso(until) } } }), convertUntil: from };
}

/** Exact rebuilds of the due blocks, over (lo, hi] as stored; the deltas of the later steps apply on top. */
async function rebuildDue(db: D1Database, draft: Draft, state: LedgerState, now: number): Promise<Draft> {
  const { sums } = draft;
  const due = dueBlocks(sums, state.hi, now);
  let rowsRead = 0;
  for (const [type, block] of due) {
    const { stats, rowsRead: read } = await frameStats(db, state.lo, state.hi, [[type, block]]);
    rowsRead += read;
    const slots = sums.get(type)!;
    for (let slot = block * BLOCK_SLOTS; slot < (block + 1) * BLOCK_SLOTS && slot < slots.length; slot++) {
      const s = slots[slot];
      if (s) Object.assign(s, { n: 0, s1: 0, s2: 0 });
    }
    // Re-shifted to the mean: s1 = sum(x - mean) is rounding only.
    for (const stat of stats) {
      const s = slots[stat.slot];
      if (s) Object.assign(s, { n: stat.n, s1: stat.d1, s2: stat.m2, k: stat.mean });
    }
  }
  const summary = due.length > 0 ? { rebuilt: due.map(([type, block]) => `${type}/${block}`) } : undefined;
  return add(draft, { changed: due.map(([type]) => type), rowsRead, summary });
}

/** Slide lo to `targetLo`: one minute by subtracting each e, else a bounded chunk of stored minutes from the frames. */
async function slideLo(db: D1Database, draft: Draft, targetLo: number): Promise<Draft> {
  return targetLo === draft.lo + MINUTE_MS ? subtractLeaving(draft) : slideChunk(db, draft, targetLo);
}

/** The common case: the value at lo + 1 minute (each slot's e) leaves. */
function subtractLeaving(draft: Draft): Draft {
  const { sums, lo } = draft;
  for (const slots of sums.values()) {
    for (const s of slots) {
      if (s && s.e !== null) {
        const d = s.e - s.k;
        s.n -= 1;
        s.s1 -= d;
        s.s2 -= d * d;
        if (s.n === 0) Object.assign(s, { s1: 0, s2: 0 });
      }
    }
  }
  return { ...add(draft, { changed: sums.keys() }), lo: lo + MINUTE_MS };
}

/** After an outage or during a conversion: at most SLIDE_CHUNK_TICKS stored minutes, their values from the frames. */
async function slideChunk(db: D1Database, draft: Draft, targetLo: number): Promise<Draft> {
  const { sums, lo } = draft;
  const forward = targetLo > lo;
  // A chunk is at most SLIDE_CHUNK_TICKS stored minutes; minutes without a tick hold nothing.
  const edge = await db
    .prepare(
      forward
        ? `SELECT ts FROM ticks WHERE ts > ?1 AND ts <= ?2 ORDER BY ts LIMIT 1 OFFSET ${SLIDE_CHUNK_TICKS - 1}`
        : `SELECT ts FROM ticks WHERE ts > ?2 AND ts <= ?1 ORDER BY ts DESC LIMIT 1 OFFSET ${SLIDE_CHUNK_TICKS}`,
    )
    .bind(lo, targetLo)
    .first<{ ts: number }>();
  const next = edge === null ? targetLo : edge.ts;
  const { stats, rowsRead } = await frameStats(db, Math.min(lo, next), Math.max(lo, next), blockList(sums));
  const sign = forward ? -1 : 1;
  for (const stat of stats) {
    const s = sums.get(stat.metric_type)?.[stat.slot];
    if (!s) continue;
    const delta = aroundShift(stat, s.k);
    s.n += sign * delta.n;
    s.s1 += sign * delta.s1;
    s.s2 += sign * delta.s2;
    if (s.n === 0) Object.assign(s, { s1: 0, s2: 0 });
    if (!forward && (s.latestTs === null || stat.latest_ts > s.latestTs)) {
      s.latestTs = stat.latest_ts;
      s.latestValue = stat.latest_value;
    }
  }
  const slid = add(draft, { changed: sums.keys(), rowsRead: SLIDE_CHUNK_TICKS + rowsRead, summary: { slid: { from: iso(lo), to: iso(next) } } });
  return { ...slid, lo: next };
}

/** The tick's own values, counted when they fall in the new (lo, hi]; each slot's latest value. */
function addTick(draft: Draft, tick: TickValues, hi: number): Draft {
  const { sums, lo } = draft;
  for (const { metricType, slot, value } of tick.values) {
    const slots = sums.get(metricType) ?? [];
    sums.set(metricType, slots);
    while (slots.length <= slot) slots.push(null);
    const s = slots[slot];
    if (!s) throw new Error(`slot ${slot} of ${metricType} has no metric`);
    if (tick.ts > lo && tick.ts <= hi) {
      const d = value - s.k;
      s.n += 1;
      s.s1 += d;
      s.s2 += d * d;
    }
    if (s.latestTs === null || tick.ts > s.latestTs) {
      s.latestTs = tick.ts;
      s.latestValue = value;
    }
  }
  return add(draft, { changed: tick.values.map(({ metricType }) => metricType) });
}

/** e = the value at lo + 1 minute: read again whenever lo moved. */
async function refreshLeaving(db: D1Database, draft: Draft): Promise<Draft> {
  const { sums, lo } = draft;
  const { frames, rowsRead } = await readFramesAt(db, sums, lo + MINUTE_MS);
  for (const [type, slots] of sums) {
    slots.forEach((s, slot) => {
      if (s) s.e = frames.get(type)?.get(Math.floor(slot / BLOCK_SLOTS))?.[slot % BLOCK_SLOTS] ?? null;
    });
  }
  return add(draft, { changed: sums.keys(), rowsRead });
}

/** The tick's values are the next to leave (its minute is lo + 1). */
function tickLeavesNext(draft: Draft, tick: TickValues): Draft {
  for (const { metricType, slot, value } of tick.values) draft.sums.get(metricType)![slot]!.e = value;
  return draft;
}

/** The 24 h figures follow lo and hi (day.ts): its statements, and the figures' new state. */
async function planFigures(
  db: D1Database,
  draft: Draft,
  state: LedgerState,
  hi: number,
  tick: TickValues | undefined,
): Promise<{ draft: Draft; day: DayState; changed: boolean }> {
  const { sums, lo } = draft;
  const dayBefore = parseDayState(state.day);
  const dayPlan = await planDay(db, {
    before: { lo: state.lo, hi: state.hi, day: dayBefore },
    lo,
    hi,
    tick,
    slots: sums,
    blocks: blockList(sums),
    blockSlots: BLOCK_SLOTS,
    converting: draft.convertUntil !== null,
  });
  const shown = dayPlan.changed || dayPlan.day.ok !== dayBefore.ok;
  const next = add(draft, {
    statements: dayPlan.statements,
    changed: shown ? sums.keys() : undefined,
    rowsRead: dayPlan.rowsRead,
    summary: dayPlan.summary ? { figures: dayPlan.summary } : undefined,
  });
  return { draft: next, day: dayPlan.day, changed: dayPlan.changed };
}

/** Purge what left the window, never past lo (the sums describe stored frames), and forget the metrics it emptied. */
function purge(db: D1Database, draft: Draft, purgeTo: number, newest: number): Draft {
  const statements: D1PreparedStatement[] = [];
  const changed: string[] = [];
  let forgotten = (draft.summary.forgotten as number | undefined) ?? 0;
  for (const [type, slots] of draft.sums) {
    statements.push(...purgeFrames(db, type, slots, purgeTo));
    const gone = forgetMetrics(slots, Math.min(purgeTo, newest - FORGET_AFTER_MS));
    if (gone.length > 0) {
      for (const some of inListChunks(gone)) statements.push(db.prepare(`DELETE FROM metrics WHERE metric_type = ?1 AND slot IN (${some})`).bind(type));
      changed.push(type);
      forgotten += gone.length;
    }
  }
  statements.push(db.prepare("DELETE FROM ticks WHERE ts <= ?1").bind(purgeTo));
  return add(draft, { statements, changed, summary: changed.length > 0 ? { forgotten } : undefined });
}

/** The frames of a type's blocks at or below purgeTo. */
function purgeFrames(db: D1Database, type: string, slots: (SlotSums | null)[], purgeTo: number): D1PreparedStatement[] {
  const blocks = blockList(new Map([[type, slots]])).map(([, block]) => block);
  return inListChunks(blocks).map((some) =>
    db.prepare(`DELETE FROM frames WHERE metric_type = ?1 AND block IN (${some}) AND ts <= ?2`).bind(type, purgeTo),
  );
}

/**
 * A metric whose every value is purged and that has had none for
 * FORGET_AFTER_MS is forgotten; its slot is free again. Returns the freed
 * slots. Until then a metric that comes back (after an outage, a pause of its
 * market) keeps its slot, so its candles and window moments continue.
 */
function forgetMetrics(slots: (SlotSums | null)[], purgeTo: number): number[] {
  const gone = slots.flatMap((s, slot) => (s && s.n === 0 && s.latestTs !== null && s.latestTs <= purgeTo ? [slot] : []));
  for (const slot of gone) slots[slot] = null;
  while (gone.length > 0 && slots.length > 0 && slots.at(-1) === null) slots.pop();
  return gone;
}

/** The sums rows of every type that changed, and the removal of the parts beyond them. */
function writeSums(db: D1Database, draft: Draft, figuresOk: boolean): Draft {
  const statements: D1PreparedStatement[] = [];
  // The open hour counts in the windows once it is after their closed hours (not while the roll-up is behind).
  const { hourTs, candlesUntil } = draft.candles;
  const openHour = hourTs !== null && (candlesUntil === null || hourTs >= candlesUntil);
  for (const type of draft.changed) {
    const parts = partRows(draft.sums.get(type)!, figuresOk, openHour);
    parts.forEach(({ data, latest, day, hour, windows, variances }, part) =>
      statements.push(
        db
          .prepare(
            `INSERT INTO sums (metric_type, part, data, latest, day, hour, windows, variances) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT DO UPDATE SET data = excluded.data, latest = excluded.latest, day = excluded.day,
               hour = excluded.hour, windows = excluded.windows, variances = excluded.variances`,
          )
          .bind(type, part, data, latest, day, hour, windows, variances),
      ),
    );
    statements.push(db.prepare("DELETE FROM sums WHERE metric_type = ?1 AND part >= ?2").bind(type, parts.length));
  }
  return add(draft, { statements });
}

/** The ledger's compare-and-bump with the run's new bounds and figures' state, and whether the run changes anything. */
function ledgerCheck(
  db: D1Database,
  draft: Draft,
  state: LedgerState,
  next: { hi: number; purgedUntil: number; dayText: string; versionBump: boolean },
): Plan {
  const { lo, convertUntil, statements, summary, rowsRead, candles } = draft;
  const moved =
    statements.length > 0 ||
    candles.hourTs !== state.hour_ts ||
    candles.candlesUntil !== state.candles_until ||
    candles.daysUntil !== state.days_until ||
    candles.windowsBlock !== state.windows_block ||
    lo !== state.lo ||
    next.hi !== state.hi ||
    next.purgedUntil !== state.purged_until ||
    convertUntil !== state.convert_until ||
    next.dayText !== state.day;
  // Fails (NOT NULL) if anyone wrote the sums since we read them, rolling the batch back.
  const check = db
    .prepare(
      `UPDATE tracker_state SET ledger = CASE WHEN ledger = ?1 THEN ?1 + 1 END,
         lo = ?2, hi = ?3, purged_until = ?4, convert_until = ?5, day = ?6, version = version + ?7,
         hour_ts = ?8, candles_until = ?9, days_until = ?10, windows_block = ?11`,
    )
    // The API shows the figures: a run without a tick that changes them is a new version (a tick's own batch bumps it).
    .bind(
      state.ledger,
      lo,
      next.hi,
      next.purgedUntil,
      convertUntil,
      next.dayText,
      next.versionBump ? 1 : 0,
      candles.hourTs,
      candles.candlesUntil,
      candles.daysUntil,
      candles.windowsBlock,
    );
  return { check, moved, statements, summary, rowsRead };
}

/** The length of the rebuild cycle for `blocks` blocks, in minutes: every block is rebuilt once in it. */
export const rebuildCycleMinutes = (blocks: number) => Math.min(REBUILD_EVERY_MINUTES * blocks, REBUILD_CYCLE_MAX_MINUTES);

/**
 * The blocks (indexes into the list of `blocks` blocks) scheduled for an exact
 * rebuild at minute `minute` (minutes since the epoch): block i at minute
 * floor(i * L / blocks) of each cycle of L = rebuildCycleMinutes(blocks)
 * minutes. Up to 144 blocks that is one every 10 minutes; beyond, the cycle is
 * a day and each minute takes its share, ceil(blocks / 1,440) at most.
 */
export function scheduledRebuilds(blocks: number, minute: number): number[] {
  if (blocks <= 0) return [];
  const cycle = rebuildCycleMinutes(blocks);
  const position = ((minute % cycle) + cycle) % cycle;
  // floor(i * cycle / blocks) === position  <=>  position * blocks / cycle <= i < (position + 1) * blocks / cycle
  const first = Math.ceil((position * blocks) / cycle);
  const end = Math.ceil(((position + 1) * blocks) / cycle);
  return Array.from({ length: end - first }, (_, i) => first + i);
}

/**
 * The blocks whose turn a tick at `now` takes when the previous tick was at
 * `previous`: those of its minute and of the minutes without a tick before it
 * (a missed tick), at most REBUILD_CATCH_UP_MINUTES minutes in all.
 */
export function rebuildTurns(blocks: number, previous: number, now: number): number[] {
  const last = Math.floor(now / MINUTE_MS);
  const turns = new Set<number>();
  for (let minute = Math.max(Math.floor(previous / MINUTE_MS) + 1, last - REBUILD_CATCH_UP_MINUTES + 1); minute <= last; minute++) {
    for (const i of scheduledRebuilds(blocks, minute)) turns.add(i);
  }
  return [...turns];
}

/** Blocks due for an exact rebuild by a tick at `now` after one at `previous`: their turn in the cycle, and drifted ones. */
function dueBlocks(sums: Sums, previous: number, now: number): [string, number][] {
  const all = blockList(sums);
  const slotsOf = (type: string, block: number) => sums.get(type)!.slice(block * BLOCK_SLOTS, (block + 1) * BLOCK_SLOTS);
  // Only blocks with a metric are listed (a metric whose values all left is forgotten with them).
  const due = rebuildTurns(all.length, previous, now).map((i) => all[i]!);
  // K far from the mean: s2 - s1^2/n is a small difference of large numbers.
  let drifted = 0;
  for (const [type, block] of all) {
    if (drifted >= MAX_DRIFT_REBUILDS) break;
    if (due.some(([t, b]) => t === type && b === block)) continue;
    if (slotsOf(type, block).some((s) => s !== null && s.n > 0 && s.s2 > 0 && s.s2 - (s.s1 * s.s1) / s.n < s.s2 * 1e-4)) {
      due.push([type, block]);
      drifted++;
    }
  }
  return due;
}

/**
 * The old layout's points with from < ts <= until, as frames: one row per
 * metric type, block and minute, every slot of the block (null where the
 * metric had no point).
 */
function convertPoints(db: D1Database, from: number, until: number): D1PreparedStatement {
  // Each slot's value by its own subquery, in slot order: no aggregate whose row order could vary.
  const cell = (i: number) =>
    `(SELECT p.value FROM metrics m JOIN points p ON p.metric_id = m.id AND p.ts = t.ts
      WHERE m.metric_type = b.metric_type AND m.slot = b.block * ${BLOCK_SLOTS} + ${i})`;
  const cells = Array.from({ length: BLOCK_SLOTS }, (_, i) => cell(i));
  // D1 allows 32 arguments per SQL function: the first 32 cells in json_array, then
  // json_insert appends the rest, 15 at a time ('$[#]' is the end). Values render as json_array's.
  let frame = `json_array(${cells.slice(0, 32).join(", ")})`;
  for (let i = 32; i < cells.length; i += 15) {
    frame = `json_insert(${frame}, ${cells.slice(i, i + 15).map((c) => `'$[#]', ${c}`).join(", ")})`;
  }
  return db
    .prepare(
      `WITH blocks AS (SELECT DISTINCT metric_type, slot / ${BLOCK_SLOTS} AS block FROM metrics)
       INSERT INTO frames (metric_type, block, ts, v)
       SELECT b.metric_type, b.block, t.ts, ${frame}
       FROM blocks b JOIN ticks t ON t.ts > ?1 AND t.ts <= ?2
       WHERE EXISTS (
         SELECT 1 FROM metrics m JOIN points p ON p.metric_id = m.id AND p.ts = t.ts
         WHERE m.metric_type = b.metric_type AND m.slot >= b.block * ${BLOCK_SLOTS} AND m.slot < (b.block + 1) * ${BLOCK_SLOTS})`,
    )
    .bind(from, until);
}

/**
 * Integers for an inline IN list, at most IN_LIST_MAX per list: D1 takes 100 KB
 * of SQL per statement, and 20,000 slots forgotten at once would be ~120 KB.
 */
const IN_LIST_MAX = 5_000;
function inListChunks(list: readonly number[]): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < list.length; i += IN_LIST_MAX) chunks.push(list.slice(i, i + IN_LIST_MAX).join(","));
  return chunks;
}

/** How far the sums and the purge are behind the newest stored minute (for /health). */
export interface Lag {
  sums_lag_seconds: number | null;
  purge_lag_seconds: number | null;
  converting: boolean;
}

export function lag(state: Omit<LedgerState, "day" | "ledger">): Lag {
  if (state.last_tick === null) return { sums_lag_seconds: null, purge_lag_seconds: null, converting: state.convert_until !== null };
  const wantLo = Math.min(state.last_tick - WINDOW_MS, state.hi);
  // lo behind: the sums still hold minutes that left the window (rank corrects them, slower).
  // lo ahead is normal after a pause of the ticks (lo follows the clock), except
  // while old points are converted: then the sums miss the unconverted hours.
  const loLag = state.convert_until !== null ? Math.abs(state.lo - wantLo) : wantLo - state.lo;
  const sums = Math.max(state.last_tick - state.hi, loLag, 0);
  const purge = Math.max(wantLo - state.purged_until, 0);
  return {
    sums_lag_seconds: Math.round(sums / 1000),
    purge_lag_seconds: Math.round(purge / 1000),
    converting: state.convert_until !== null,
  };
}
