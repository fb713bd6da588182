/**
 * The 24 h figures of every metric (docs/day-figures.md): the oldest value in
 * the window (for change_24h), the lowest and the highest, exact for the
 * stored window (lo, hi] of tracker_state after every run, and readable with
 * the latest values (one more field per slot in the sums row `latest`).
 *
 * A sliding minimum cannot forget the value that leaves, so the window is
 * split (a two-stack queue) at fixed 12 h boundaries C_k = k * SEGMENT_MS:
 * segment k holds the minutes (C_(k-1), C_k].
 *
 * - The front, (lo, C_front]: per slot, its figures F, recomputed by every run
 *   that moves lo from the suffix row of the first 10-minute step s >= lo
 *   (the figures of (s, C_front], written once) and the frames of (lo, s]
 *   (at most 9 per block).
 * - Each later segment: per slot, the figures of its stored values, to which
 *   a tick adds its own (the sums rows are rewritten by every tick anyway).
 * - When lo enters the next segment, that segment becomes the front: its
 *   suffix rows were built, 10 minutes each, from its frames in the 12 h
 *   between its end and that moment, an hour or so of frames per run.
 *
 * Anything else (an outage that moves lo past a segment, a tick older than a
 * segment whose rows exist, a conversion of old points) marks the figures
 * stale; they are then rebuilt from the frames, newest first, a bounded chunk
 * per run, and served as null until done.
 *
 * Suffix rows live in `day_steps`, keyed by (type, block, step mod 144):
 * every 24 h of steps reuses the same rows, so building them never deletes.
 */
import { iso, MINUTE_MS } from "../lib/time";

export const SEGMENT_MS = 12 * 60 * MINUTE_MS;
export const STEP_MS = 10 * MINUTE_MS;
/** Two segments of steps: the front's and the one being built never share a row. */
const RING_STEPS = (2 * SEGMENT_MS) / STEP_MS;
/** Frame rows one run reads to build suffix rows (a chunk of minutes times the blocks). */
const BUILD_FRAME_ROWS = 6_000;
/** Suffix rows per INSERT statement (each ~3 KB of JSON at 48 slots). */
const ROWS_PER_STATEMENT = 100;

/** The figures of a range: [ts of its oldest value, that value, min, max]; null when it has none. */
export type Figures = readonly [firstTs: number, first: number, min: number, max: number];

/** One slot's figures: of the front, and of each later segment [k, figures]. */
export interface SlotDay {
  front: Figures | null;
  segments: [number, Figures][];
}

export interface DayState {
  /** The figures of every slot are exact for (lo, hi]. */
  ok: boolean;
  /** The segment the front figures belong to (that of lo + 1 minute). */
  front: number;
  /** Segments after the front whose suffix rows hold every stored value of theirs. */
  built: number[];
  /** A segment whose suffix rows are being built, down to cursor (its lowest step done). */
  build: { segment: number; cursor: number } | null;
  /** A rebuild from the frames: (cursor, top] is done; touched: segments ticks added to meanwhile. */
  scan: { top: number; cursor: number; touched: number[] } | null;
}

export const STALE: DayState = { ok: false, front: 0, built: [], build: null, scan: null };

export const emptyDay = (): SlotDay => ({ front: null, segments: [] });

export function parseDayState(text: string | null | undefined): DayState {
  const parsed = text ? (JSON.parse(text) as Partial<DayState>) : {};
  return { ...STALE, ...parsed };
}

/** The figures' state as stored (tracker_state.day). */
export async function readDayState(db: D1Database): Promise<DayState> {
  return parseDayState((await db.prepare("SELECT day FROM tracker_state WHERE id = 1").first<{ day: string }>())?.day);
}

export function addValue(figures: Figures | null, ts: number, value: number): Figures {
  if (figures === null) return [ts, value, value, value];
  const [firstTs, first, min, max] = figures;
  return ts < firstTs
    ? [ts, value, Math.min(min, value), Math.max(max, value)]
    : [firstTs, first, Math.min(min, value), Math.max(max, value)];
}

export function joinFigures(a: Figures | null, b: Figures | null): Figures | null {
  if (a === null) return b;
  if (b === null) return a;
  const first = a[0] <= b[0] ? a : b;
  return [first[0], first[1], Math.min(a[2], b[2]), Math.max(a[3], b[3])];
}

/** A slot's figures over the whole window. */
export const slotFigures = (day: SlotDay): Figures | null =>
  day.segments.reduce<Figures | null>((all, [, figures]) => joinFigures(all, figures), day.front);

/** The segment of minute ts: ts in (C_(k-1), C_k]. */
export const segmentOf = (ts: number) => Math.ceil(ts / SEGMENT_MS);
const stepCeil = (ts: number) => Math.ceil(ts / STEP_MS) * STEP_MS;
const stepFloor = (ts: number) => Math.floor(ts / STEP_MS) * STEP_MS;
const ring = (step: number) => (((step / STEP_MS) % RING_STEPS) + RING_STEPS) % RING_STEPS;

function addToSegment(day: SlotDay, segment: number, ts: number, value: number) {
  const entry = day.segments.find(([k]) => k === segment);
  if (entry) entry[1] = addValue(entry[1], ts, value);
  else {
    day.segments.push([segment, [ts, value, value, value]]);
    day.segments.sort((a, b) => a[0] - b[0]);
  }
}

/** The slots the figures are kept for: per metric type, dense by slot (null = free). */
export type DaySlots = Map<string, ({ day: SlotDay } | null)[]>;

/** Per (type, block): each slot's value, or null. */
type Frame = Map<string, Map<number, (number | null)[]>>;
type SuffixRow = (Figures | null)[];

export interface DayInput {
  before: { lo: number; hi: number; day: DayState };
  lo: number;
  hi: number;
  tick?: { ts: number; values: { metricType: string; slot: number; value: number }[] };
  slots: DaySlots;
  /** Every (type, block) that has a metric. */
  blocks: [string, number][];
  blockSlots: number;
  /** Old points are being converted into frames: the window is not settled. */
  converting: boolean;
}

export interface DayPlan {
  day: DayState;
  statements: D1PreparedStatement[];
  rowsRead: number;
  /** Whether any slot's figures changed. */
  changed: boolean;
  summary?: string;
}

/**
 * Plan one run's part of the figures: add the tick's values, move the front
 * with lo, build suffix rows or rebuild. Changes the slots' `day` in place;
 * returns the statements for the run's batch and the new state. The steps are
 * the rows of the transition table in docs/storage.md, in its order.
 */
export async function planDay(db: D1Database, input: DayInput): Promise<DayPlan> {
  const { lo, hi, tick } = input;
  const before = input.before.day;
  const front = segmentOf(lo + MINUTE_MS);

  // Row 1: while old points are converted or lo extends back over them, the window is not settled: no figures yet.
  if (input.converting || lo < input.before.lo) return { day: { ...STALE }, statements: [], rowsRead: 0, changed: before.ok };

  const run: DayRun = { db, tick, slots: input.slots, blocks: input.blocks, blockSlots: input.blockSlots, written: new Map(), rowsRead: 0 };
  // T of the table: this run's tick when it lies in the window.
  const inWindow = tick !== undefined && tick.ts > lo && tick.ts <= hi ? tick : undefined;
  let step: DayStep = { day: { ...before, built: [...before.built] }, changed: false };
  step = checkExact(step, run, front, inWindow);
  // Exact before and after rows 2-5: the slots still hold the front's figures (a rebuild empties them).
  const stayedExact = before.ok && step.day.ok;
  if (!step.day.ok && step.day.scan === null) step = startRebuild(step, run, input.before.hi, inWindow);
  if (inWindow && !(step.day.scan && inWindow.ts <= step.day.scan.cursor)) step = addTickFigures(step, run, inWindow);
  if (step.day.ok) step = await buildSegment(step, run, hi);
  else if (step.day.scan) step = await rebuildChunk(step, run, lo, front);
  if (step.day.ok && (lo !== input.before.lo || !stayedExact || front !== before.front)) step = await refreshFront(step, run, lo, front);
  // Segments up to the front are never looked up again (the front only moves forward while the figures
  // are exact; anything else starts from STALE): the state keeps the few after it, not every segment since.
  const { day } = step;
  if (day.built.some((k) => k <= day.front)) step = { ...step, day: { ...day, built: day.built.filter((k) => k > day.front) } };
  return { day: step.day, statements: suffixRowStatements(run), rowsRead: run.rowsRead, changed: step.changed, summary: step.summary };
}

/** What one run's steps share: the slots and blocks, the reads they make (counted) and the suffix rows written so far. */
interface DayRun {
  db: D1Database;
  tick: DayInput["tick"];
  slots: DaySlots;
  blocks: [string, number][];
  blockSlots: number;
  /** Suffix rows written this run, keyed JSON.stringify([type, block, step]). */
  written: Map<string, SuffixRow>;
  rowsRead: number;
}

/** The figures' state as a run's steps leave it. */
interface DayStep {
  day: DayState;
  /** Whether any slot's figures changed. */
  changed: boolean;
  summary?: string;
}

const eachSlot = (run: DayRun, visit: (day: SlotDay) => void) => {
  for (const list of run.slots.values()) for (const s of list) if (s) visit(s.day);
};

/**
 * Rows 2-5: the front moves to the next segment when its suffix rows are
 * built; anything else that breaks the exact figures (lo past a segment, a
 * late tick into the front, a tick below a running rebuild's cursor) makes
 * them Stale.
 */
function checkExact(step: DayStep, run: DayRun, front: number, tick: DayInput["tick"]): DayStep {
  let { day, changed } = step;
  if (day.ok && front !== day.front) {
    if (front === day.front + 1 && day.built.includes(front)) {
      day = { ...day, front };
      eachSlot(run, (d) => (d.segments = d.segments.filter(([k]) => k > front)));
      changed = true;
    } else day = { ...STALE };
  }
  if (tick && day.ok && segmentOf(tick.ts) <= front) day = { ...STALE };
  // A rebuild already past the minute of a late tick starts again.
  if (tick && day.scan && tick.ts <= day.scan.top && tick.ts > day.scan.cursor) day = { ...STALE };
  return { ...step, day, changed };
}

/** Row 6: Stale becomes Rebuilding, from the newest stored minute or this run's tick (the frames read below include it). */
function startRebuild(step: DayStep, run: DayRun, storedHi: number, tick: DayInput["tick"]): DayStep {
  const top = tick ? Math.max(storedHi, tick.ts) : storedHi;
  eachSlot(run, (d) => Object.assign(d, emptyDay()));
  return { day: { ...STALE, scan: { top, cursor: top, touched: [] } }, changed: true, summary: "figures: rebuild started" };
}

/** Row 7: the tick's values join their slots' figures of its segment (a rebuild reads those at or below its cursor from the frames). */
function addTickFigures(step: DayStep, run: DayRun, tick: NonNullable<DayInput["tick"]>): DayStep {
  const segment = segmentOf(tick.ts);
  for (const { metricType, slot, value } of tick.values) {
    const s = run.slots.get(metricType)?.[slot];
    if (s) addToSegment(s.day, segment, tick.ts, value);
  }
  const { day } = step;
  // Suffix rows without these values are no longer complete.
  const touched = day.scan && !day.scan.touched.includes(segment) ? { ...day.scan, touched: [...day.scan.touched, segment] } : day.scan;
  return {
    ...step,
    day: { ...day, built: day.built.filter((k) => k !== segment), build: day.build?.segment === segment ? null : day.build, scan: touched },
    changed: true,
  };
}

/** Frame rows one run reads, at most (a chunk of minutes times the blocks). */
const chunkMs = (run: DayRun) => Math.max(STEP_MS, stepFloor((BUILD_FRAME_ROWS / Math.max(run.blocks.length, 1)) * MINUTE_MS));

/** Row 8: one chunk of suffix rows of the lowest complete segment after the front that is not built yet. */
async function buildSegment(step: DayStep, run: DayRun, hi: number): Promise<DayStep> {
  const { day } = step;
  const current = segmentOf(hi);
  // A late tick's run builds nothing.
  const lateTick = run.tick !== undefined && segmentOf(run.tick.ts) < current;
  let target: number | undefined;
  for (let k = day.front + 1; k < current && target === undefined; k++) if (!day.built.includes(k)) target = k;
  if (target === undefined || lateTick) return step;
  const top = target * SEGMENT_MS;
  const bottom = top - SEGMENT_MS;
  const cursor = day.build?.segment === target ? day.build.cursor : top;
  const lower = Math.max(cursor - chunkMs(run), bottom);
  const running = new Map<string, SuffixRow>(cursor < top ? [...(await readSuffix(run, cursor))].map(([key, row]) => [key, [...row]]) : []);
  const frames = await readFrames(run, lower, cursor);
  walk(
    frames,
    lower,
    cursor,
    (ts, frame) => addFrame(running, ts, frame),
    (s) => emit(run, s, (type, block) => Array.from(running.get(JSON.stringify([type, block])) ?? [], (f) => f ?? null)),
  );
  const done = lower === bottom;
  return {
    ...step,
    day: { ...day, build: done ? null : { segment: target, cursor: lower }, built: done ? [...day.built, target] : day.built },
    summary: `figures: segment ${iso(bottom)}..${iso(top)} built down to ${iso(lower)}`,
  };
}

/**
 * Row 9: one chunk of the rebuild, frames newest first into each slot's
 * segment figures, every step's suffix row on the way; at lo it is done (9b)
 * or overtaken (9a), else it goes on next run (9c).
 */
async function rebuildChunk(step: DayStep, run: DayRun, lo: number, front: number): Promise<DayStep> {
  const { top, cursor, touched } = step.day.scan!;
  const { blockSlots } = run;
  const lower = Math.max(cursor - chunkMs(run), stepFloor(lo));
  const frames = await readFrames(run, Math.max(lower, lo), cursor);
  const slotDay = (type: string, slot: number) => run.slots.get(type)?.[slot]?.day;
  walk(
    frames,
    lower,
    cursor,
    (ts, frame) => {
      for (const [type, byBlock] of frame) {
        for (const [block, values] of byBlock) {
          values.forEach((v, i) => {
            const d = slotDay(type, block * blockSlots + i);
            if (d && typeof v === "number") addToSegment(d, segmentOf(ts), ts, v);
          });
        }
      }
    },
    (s) => {
      const segment = Math.floor(s / SEGMENT_MS) + 1;
      emit(run, s, (type, block) =>
        Array.from({ length: blockSlots }, (_, i) => slotDay(type, block * blockSlots + i)?.segments.find(([k]) => k === segment)?.[1] ?? null),
      );
    },
  );
  if (lower <= lo && (front > segmentOf(top) || touched.some((k) => k <= front))) {
    // 9a: the window moved past what the rebuild covered: again, from the new top.
    return { day: { ...STALE }, changed: true, summary: "figures: rebuild overtaken, starting again" };
  }
  if (lower <= lo) {
    // 9b: every step at or above lo of the segments up to top's holds their stored values,
    // except in segments a tick was added to meanwhile (the builder redoes those).
    const built: number[] = [];
    for (let k = front; k <= segmentOf(top); k++) if (!touched.includes(k)) built.push(k);
    eachSlot(run, (d) => (d.segments = d.segments.filter(([k]) => k > front)));
    return { day: { ok: true, front, built, build: null, scan: null }, changed: true, summary: "figures: rebuilt" };
  }
  // 9c
  return { day: { ...step.day, scan: { top, cursor: lower, touched } }, changed: true, summary: `figures: rebuilding, down to ${iso(lower)}` };
}

/** Row 10: the front's figures of (lo, C_front], from the frames of (lo, s] and the suffix row of s. */
async function refreshFront(step: DayStep, run: DayRun, lo: number, front: number): Promise<DayStep> {
  const end = front * SEGMENT_MS;
  const s = Math.min(stepCeil(lo), end);
  const suffix = s < end ? await readSuffix(run, s) : new Map<string, SuffixRow>();
  const frames = await readFrames(run, lo, s);
  const figures = new Map<string, SuffixRow>();
  for (const [key, row] of suffix) figures.set(key, [...row]);
  for (const [ts, frame] of frames) addFrame(figures, ts, frame);
  for (const [type, list] of run.slots) {
    list.forEach((slot, i) => {
      if (slot) slot.day.front = figures.get(JSON.stringify([type, Math.floor(i / run.blockSlots)]))?.[i % run.blockSlots] ?? null;
    });
  }
  return { ...step, changed: true };
}

/** Frames of (from, to] for every block, with this run's tick (not stored yet), by minute. */
async function readFrames(run: DayRun, from: number, to: number): Promise<Map<number, Frame>> {
  const { db, blocks, tick, blockSlots } = run;
  const byTs = new Map<number, Frame>();
  const put = (ts: number, type: string, block: number, values: (number | null)[]) => {
    const frame = byTs.get(ts) ?? new Map();
    byTs.set(ts, frame);
    const byBlock = frame.get(type) ?? new Map();
    frame.set(type, byBlock);
    byBlock.set(block, values);
  };
  if (to > from && blocks.length > 0) {
    const result = await db
      .prepare(
        `SELECT f.metric_type, f.block, f.ts, f.v FROM json_each(?3) b
         JOIN frames f ON f.metric_type = b.value ->> 0 AND f.block = b.value ->> 1 AND f.ts > ?1 AND f.ts <= ?2`,
      )
      .bind(from, to, JSON.stringify(blocks))
      .all<{ metric_type: string; block: number; ts: number; v: string }>();
    run.rowsRead += result.meta.rows_read;
    for (const row of result.results) put(row.ts, row.metric_type, row.block, JSON.parse(row.v));
  }
  if (tick && tick.ts > from && tick.ts <= to) {
    for (const { metricType, slot, value } of tick.values) {
      const block = Math.floor(slot / blockSlots);
      const frame = byTs.get(tick.ts)?.get(metricType)?.get(block) ?? [];
      frame[slot % blockSlots] = value;
      put(tick.ts, metricType, block, frame);
    }
  }
  return byTs;
}

/** The suffix rows of step s, this run's first. */
async function readSuffix(run: DayRun, step: number): Promise<Map<string, SuffixRow>> {
  const { db, blocks, written } = run;
  const rows = new Map<string, SuffixRow>();
  if (blocks.length === 0) return rows;
  const result = await db
    .prepare(
      `SELECT d.metric_type, d.block, d.v FROM json_each(?1) b
       JOIN day_steps d ON d.metric_type = b.value ->> 0 AND d.block = b.value ->> 1 AND d.ring = ?2 AND d.ts = ?3`,
    )
    .bind(JSON.stringify(blocks), ring(step), step)
    .all<{ metric_type: string; block: number; v: string }>();
  run.rowsRead += result.meta.rows_read;
  for (const row of result.results) rows.set(JSON.stringify([row.metric_type, row.block]), JSON.parse(row.v));
  for (const [type, block] of blocks) {
    const mine = written.get(JSON.stringify([type, block, step]));
    if (mine) rows.set(JSON.stringify([type, block]), mine);
  }
  return rows;
}

/** Keep the suffix row of step s of every block, to write with the run's batch. */
function emit(run: DayRun, step: number, rowOf: (type: string, block: number) => SuffixRow) {
  for (const [type, block] of run.blocks) run.written.set(JSON.stringify([type, block, step]), rowOf(type, block));
}

/** The frames of (from, to], newest first: each step s in [from, to) is emitted once every frame above it was visited. */
function walk(frames: Map<number, Frame>, from: number, to: number, visit: (ts: number, frame: Frame) => void, step: (s: number) => void) {
  const times = [...frames.keys()].filter((ts) => ts > from && ts <= to).sort((a, b) => b - a);
  let i = 0;
  for (let s = stepFloor(to - 1); s >= from; s -= STEP_MS) {
    while (i < times.length && times[i]! > s) visit(times[i]!, frames.get(times[i++]!)!);
    step(s);
  }
  while (i < times.length) visit(times[i]!, frames.get(times[i++]!)!);
}

/** The suffix rows written this run, ring slots reused. */
function suffixRowStatements(run: DayRun): D1PreparedStatement[] {
  const rows = [...run.written].map(([key, row]) => {
    const [type, block, step] = JSON.parse(key) as [string, number, number];
    return [type, block, ring(step), step, row];
  });
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
    statements.push(
      run.db
        .prepare(
          `INSERT INTO day_steps (metric_type, block, ring, ts, v)
           SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value -> 4 FROM json_each(?1) WHERE true
           ON CONFLICT DO UPDATE SET ts = excluded.ts, v = excluded.v`,
        )
        .bind(JSON.stringify(rows.slice(i, i + ROWS_PER_STATEMENT))),
    );
  }
  return statements;
}

/** Add a frame's values to the figures of each (type, block) row. */
function addFrame(rows: Map<string, SuffixRow>, ts: number, frame: Frame) {
  for (const [type, byBlock] of frame) {
    for (const [block, values] of byBlock) {
      const key = JSON.stringify([type, block]);
      const row = rows.get(key) ?? [];
      rows.set(key, row);
      values.forEach((v, i) => {
        if (typeof v === "number") row[i] = addValue(row[i] ?? null, ts, v);
      });
    }
  }
}
