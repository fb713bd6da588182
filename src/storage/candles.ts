/**
 * The candles' roll-up (docs/candles.md): a step of the ledger's plan, so its
 * writes share the run's batch and its ledger check (all or nothing; an
 * overlapping run retries from a fresh read).
 *
 * With C = candles_until as read at the start of the run (c0), the step:
 *
 * 1. starts C at the oldest stored tick's hour (an upgraded tracker rolls up
 *    the day it holds) or at the first tick's;
 * 2. in a run that closes an hour, recomputes the window moments of
 *    ceil(blocks / 24) blocks exactly from the stored candles (round robin:
 *    every block once a day, so rounding never accumulates), as of c0;
 * 3. re-rolls the hour of a late tick (ts < c0) from its frames and the tick's
 *    values, replacing the stored candle (and its day's row) and swapping it
 *    in the windows;
 * 4. rolls the closed hours [c0, floorHour(newest)), a bounded chunk, each
 *    from its frames: hourly rows, the day's row merged with them (a day's
 *    row covers its hours before C), the windows moved (the new hours in, the
 *    hours 168 h and 720 h older out);
 * 5. keeps the open hour's candle per slot (sums.hour) for the tick's values;
 * 6. deletes what is past retention, once an hour.
 *
 * Every candle is computed from minute values (two passes) or merged from
 * candles that were: never patched in place.
 */
import { addValue, candleOf, combine, mergeCandles, NO_MOMENTS, remove, type Candle, type Moments, type TimedCandle } from "../lib/moments";
import { DAY_MS, HOUR_MS, iso } from "../lib/time";
import { BLOCK_SLOTS, candleTuple, readCandleTuple, type VariancesEntry, type WindowsEntry } from "./layout";
import { jsonArrayChunks } from "./payload";
import { MONTH_HOURS, WEEK_HOURS, type Retention } from "../domain/candles";

export { DEFAULT_RETENTION, MONTH_HOURS, WEEK_HOURS, type Retention } from "../domain/candles";

export const HOURLY_SPAN = HOUR_MS;
export const DAILY_SPAN = DAY_MS;
/** Frame rows one run reads to roll hours up (at least one hour a run, whatever its size). */
export const ROLLUP_FRAME_ROWS = 12_000;
/** Hours one run moves C by, with or without values (each moves the windows: two hourly rows a block out). */
export const ROLLUP_MAX_HOURS = 6;

export const floorHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const floorDay = (ms: number) => Math.floor(ms / DAY_MS) * DAY_MS;
const ceilDay = (ms: number) => Math.ceil(ms / DAY_MS) * DAY_MS;


/** What a slot of the sums carries for the candles. */
export interface CandleSlot {
  symbol: string;
  /** The open hour's candle of this slot (hour_ts), or null. */
  hour: TimedCandle | null;
  /** The closed hours' moments of the week and month windows ending at C. */
  windows: [Moments, Moments] | null;
}
export type CandleSlots = Map<string, (CandleSlot | null)[]>;

export interface CandleCursors {
  hourTs: number | null;
  candlesUntil: number | null;
  daysUntil: number | null;
  windowsBlock: number;
}

export interface CandleInput {
  slots: CandleSlots;
  /** The blocks that hold a metric, [type, block]. */
  blocks: [string, number][];
  cursors: CandleCursors;
  /** Every frame with ts <= it is deleted: an hour that starts at or before it cannot be recomputed. */
  purgedUntil: number;
  /** The newest minute of this run (the clock's, or a later tick's). */
  newest: number;
  tick?: { ts: number; values: readonly { metricType: string; slot: number; value: number }[] };
  /** null: nothing is deleted (the tests, a run whose configuration did not load). */
  retention: Retention | null;
}

export interface CandlePlan {
  cursors: CandleCursors;
  statements: D1PreparedStatement[];
  rowsRead: number;
  summary?: Record<string, unknown>;
  /** The sums' hour or windows entries changed (their rows must be written). */
  changed: boolean;
}

/** A cell of a candles row: a candle and whose it is. */
type Cell = (Candle & { symbol: string }) | null;
/** type -> block -> cells by slot in block. */
type Cells = Map<string, Map<number, Cell[]>>;
/** type -> block -> interval start -> cells. */
type Rows = Map<string, Map<number, Map<number, Cell[]>>>;

export async function planCandles(db: D1Database, input: CandleInput): Promise<CandlePlan> {
  const run: Run = { db, input, statements: [], rowsRead: 0, summary: {}, changed: false, cursors: { ...input.cursors } };
  await start(run);
  const c0 = run.cursors.candlesUntil;
  if (c0 !== null) {
    // Only a run that closes an hour touches the windows: a run with nothing due writes nothing.
    if (floorHour(input.newest) > c0) await rebuildWindows(run, c0);
    if (input.tick && input.tick.ts < c0) await reroll(run, c0, input.tick.ts);
    await rollHours(run, c0);
  }
  await openHour(run);
  if (input.retention && run.cursors.candlesUntil !== null && c0 !== null && run.cursors.candlesUntil > c0) retention(run, input.retention);
  return finish(run);
}

interface Run {
  db: D1Database;
  input: CandleInput;
  cursors: CandleCursors;
  statements: D1PreparedStatement[];
  rowsRead: number;
  summary: Record<string, unknown>;
  changed: boolean;
}

const finish = ({ cursors, statements, rowsRead, summary, changed }: Run): CandlePlan => ({
  cursors,
  statements,
  rowsRead,
  summary: Object.keys(summary).length > 0 ? summary : undefined,
  changed,
});

/** C starts at the hour of the oldest stored tick (or of this one): what was never stored is simply absent. */
async function start(run: Run): Promise<void> {
  if (run.cursors.candlesUntil !== null) return;
  const oldest = await run.db.prepare("SELECT min(ts) AS ts FROM ticks").first<{ ts: number | null }>();
  run.rowsRead += 1;
  const first = Math.min(oldest?.ts ?? Infinity, run.input.tick?.ts ?? Infinity);
  if (first === Infinity) return;
  run.cursors.candlesUntil = floorHour(first);
  run.cursors.daysUntil = floorDay(first);
  run.summary.candles_from = iso(floorHour(first));
}

// ---------------------------------------------------------------------------
// Reads

const blockKey = (blocks: readonly [string, number][]) => JSON.stringify(blocks);

/** The frames of every block with from <= ts < to, as each slot's (ts, value) pairs. */
async function readPoints(run: Run, from: number, to: number): Promise<Map<string, Map<number, [number, number][][]>>> {
  const points = new Map<string, Map<number, [number, number][][]>>();
  if (run.input.blocks.length === 0 || to <= from) return points;
  const result = await run.db
    .prepare(
      `SELECT f.metric_type, f.block, f.ts, f.v FROM json_each(?1) b
       JOIN frames f ON f.metric_type = b.value ->> 0 AND f.block = b.value ->> 1 AND f.ts >= ?2 AND f.ts < ?3`,
    )
    .bind(blockKey(run.input.blocks), from, to)
    .all<{ metric_type: string; block: number; ts: number; v: string }>();
  run.rowsRead += result.meta.rows_read;
  for (const row of result.results) {
    const slots = slotPoints(points, row.metric_type, row.block);
    (JSON.parse(row.v) as (number | null)[]).forEach((value, i) => {
      if (typeof value === "number") slots[i]!.push([row.ts, value]);
    });
  }
  return points;
}

function slotPoints(points: Map<string, Map<number, [number, number][][]>>, type: string, block: number): [number, number][][] {
  const byBlock = points.get(type) ?? new Map<number, [number, number][][]>();
  points.set(type, byBlock);
  let slots = byBlock.get(block);
  if (!slots) {
    slots = Array.from({ length: BLOCK_SLOTS }, () => []);
    byBlock.set(block, slots);
  }
  return slots;
}

/** Stored candle rows of one span with from <= ts < to, of the given blocks. */
async function readRows(run: Run, span: number, from: number, to: number, blocks = run.input.blocks): Promise<Rows> {
  const rows: Rows = new Map();
  if (blocks.length === 0 || to <= from) return rows;
  const result = await run.db
    .prepare(
      `SELECT k.metric_type, k.block, k.ts, k.c FROM json_each(?1) b
       JOIN candles k ON k.metric_type = b.value ->> 0 AND k.span = ?2 AND k.block = b.value ->> 1 AND k.ts >= ?3 AND k.ts < ?4`,
    )
    .bind(blockKey(blocks), span, from, to)
    .all<{ metric_type: string; block: number; ts: number; c: string }>();
  run.rowsRead += result.meta.rows_read;
  for (const row of result.results) {
    const byBlock = rows.get(row.metric_type) ?? new Map<number, Map<number, Cell[]>>();
    rows.set(row.metric_type, byBlock);
    const byTs = byBlock.get(row.block) ?? new Map<number, Cell[]>();
    byBlock.set(row.block, byTs);
    byTs.set(row.ts, (JSON.parse(row.c) as (unknown[] | null)[]).map((t) => readCandleTuple(t)));
  }
  return rows;
}

/** A stored cell, if it is the slot's current metric's. */
function cellOf(run: Run, type: string, block: number, i: number, cells: readonly Cell[] | undefined): Candle | null {
  const cell = cells?.[i];
  const slot = run.input.slots.get(type)?.[block * BLOCK_SLOTS + i];
  return cell && slot && cell.symbol === slot.symbol ? cell : null;
}

// ---------------------------------------------------------------------------
// Writes

function writeRows(run: Run, span: number, rows: [string, number, number, Cell[]][]): void {
  const payload = rows
    .filter(([, , , cells]) => cells.some((c) => c !== null))
    .map(([type, block, ts, cells]) => [type, block, ts, cells.map((c) => c && candleTuple(c.symbol, c))]);
  for (const chunk of jsonArrayChunks(payload)) {
    run.statements.push(
      run.db
        .prepare(
          `INSERT INTO candles (metric_type, span, block, ts, c)
           SELECT value ->> 0, ?1, value ->> 1, value ->> 2, json(value -> 3) FROM json_each(?2) WHERE true
           ON CONFLICT DO UPDATE SET c = excluded.c`,
        )
        .bind(span, chunk),
    );
  }
  // A recomputed interval that lost every value (cannot happen from stored frames, but never leave a stale row).
  for (const [type, block, ts, cells] of rows) {
    if (cells.every((c) => c === null)) {
      run.statements.push(run.db.prepare("DELETE FROM candles WHERE metric_type = ?1 AND span = ?2 AND block = ?3 AND ts = ?4").bind(type, span, block, ts));
    }
  }
}

// ---------------------------------------------------------------------------
// Hours

/** Each block's candles of hour h: from its frames, plus the tick's values when the tick is in h. */
async function hourCells(run: Run, h: number): Promise<Cells> {
  const points = await readPoints(run, h, h + HOUR_MS);
  const tick = run.input.tick;
  if (tick && floorHour(tick.ts) === h) {
    for (const { metricType, slot, value } of tick.values) {
      slotPoints(points, metricType, Math.floor(slot / BLOCK_SLOTS))[slot % BLOCK_SLOTS]!.push([tick.ts, value]);
    }
  }
  const cells: Cells = new Map();
  for (const [type, byBlock] of points) {
    const slots = run.input.slots.get(type) ?? [];
    const out = new Map<number, Cell[]>();
    cells.set(type, out);
    for (const [block, bySlot] of byBlock) {
      out.set(
        block,
        bySlot.map((p, i) => {
          const s = slots[block * BLOCK_SLOTS + i];
          const c = s ? candleOf(p) : null;
          return c && s ? { symbol: s.symbol, open: c.open, high: c.high, low: c.low, close: c.close, n: c.n, k: c.k, d: c.d, m2: c.m2 } : null;
        }),
      );
    }
  }
  return cells;
}

/** Hours from C up to the newest closed hour, as many as the run's budget of frame rows allows. */
async function rollHours(run: Run, c0: number): Promise<void> {
  const newest = floorHour(run.input.newest);
  if (newest <= c0) return;
  if (await monthWithoutValues(run, c0, newest)) return;
  const target = Math.min(newest, c0 + ROLLUP_MAX_HOURS * HOUR_MS);
  // Which hours hold stored minutes (and the tick's own, not stored yet): those are read.
  const stored = await run.db
    .prepare("SELECT ts FROM ticks WHERE ts >= ?1 AND ts < ?2")
    .bind(c0, target)
    .all<{ ts: number }>();
  run.rowsRead += stored.meta.rows_read;
  const minutes = new Map<number, number>();
  const tickTs = [...stored.results.map((r) => r.ts), ...(run.input.tick && run.input.tick.ts >= c0 && run.input.tick.ts < target ? [run.input.tick.ts] : [])];
  for (const ts of tickTs) minutes.set(floorHour(ts), (minutes.get(floorHour(ts)) ?? 0) + 1);
  let until = c0;
  let frameRows = 0;
  const rolled: [number, Cells][] = [];
  for (let h = c0; h < target; h += HOUR_MS) {
    const rows = (minutes.get(h) ?? 0) * run.input.blocks.length;
    if (rolled.length > 0 && frameRows + rows > ROLLUP_FRAME_ROWS) break;
    frameRows += rows;
    if (rows > 0) rolled.push([h, await hourCells(run, h)]);
    until = h + HOUR_MS;
  }
  // The windows: the new hours in, the hours a week and a month older out.
  const leavingWeek = await readRows(run, HOURLY_SPAN, c0 - WEEK_HOURS * HOUR_MS, until - WEEK_HOURS * HOUR_MS);
  const leavingMonth = await readRows(run, HOURLY_SPAN, c0 - MONTH_HOURS * HOUR_MS, until - MONTH_HOURS * HOUR_MS);
  applyRows(run, leavingWeek, (w, c) => [remove(w[0], c), w[1]]);
  applyRows(run, leavingMonth, (w, c) => [w[0], remove(w[1], c)]);
  for (const [, cells] of rolled) applyCells(run, cells, (w, c) => [combine(w[0], c), combine(w[1], c)]);
  writeRows(run, HOURLY_SPAN, rolled.flatMap(([h, cells]) => flatCells(cells, h)));
  await mergeDays(run, rolled);
  run.cursors.candlesUntil = until;
  run.cursors.daysUntil = floorDay(until);
  run.changed = true;
  run.summary.candles = { hours: rolled.length, until: iso(until) };
}

/**
 * After a month or more without a stored minute, C jumps to the newest hour
 * at once: both windows end up holding no value (every hour in them had
 * none), so they are emptied instead of stepped through, hour by hour.
 */
async function monthWithoutValues(run: Run, c0: number, newest: number): Promise<boolean> {
  if (newest - c0 < MONTH_HOURS * HOUR_MS) return false;
  const first = await run.db.prepare("SELECT min(ts) AS ts FROM ticks WHERE ts >= ?1 AND ts < ?2").bind(c0, newest).first<{ ts: number | null }>();
  run.rowsRead += 1;
  const tick = run.input.tick;
  if (first?.ts != null || (tick && tick.ts >= c0 && tick.ts < newest)) return false;
  for (const slots of run.input.slots.values()) for (const s of slots) if (s) s.windows = null;
  run.cursors.candlesUntil = newest;
  run.cursors.daysUntil = floorDay(newest);
  run.changed = true;
  run.summary.candles = { hours: 0, until: iso(newest), windows: "emptied after a month without values" };
  return true;
}

const flatCells = (cells: Cells, ts: number): [string, number, number, Cell[]][] =>
  [...cells].flatMap(([type, byBlock]) => [...byBlock].map(([block, c]) => [type, block, ts, c] as [string, number, number, Cell[]]));

/** Each day's row covers its hours before C: merged with the hours rolled now, in order. */
async function mergeDays(run: Run, rolled: [number, Cells][]): Promise<void> {
  const days = [...new Set(rolled.map(([h]) => floorDay(h)))];
  for (const day of days) {
    const stored = await readRows(run, DAILY_SPAN, day, day + 1);
    const hours = rolled.filter(([h]) => floorDay(h) === day);
    const out: [string, number, number, Cell[]][] = [];
    for (const [type, block] of run.input.blocks) {
      const before = stored.get(type)?.get(block)?.get(day);
      const cells = Array.from({ length: BLOCK_SLOTS }, (_, i): Cell => {
        const parts = [cellOf(run, type, block, i, before), ...hours.map(([, c]) => c.get(type)?.get(block)?.[i] ?? null)].filter(
          (c): c is Candle => c !== null,
        );
        const merged = mergeCandles(parts);
        const slot = run.input.slots.get(type)?.[block * BLOCK_SLOTS + i];
        return merged && slot ? { symbol: slot.symbol, ...merged } : null;
      });
      if (cells.some((c) => c !== null)) out.push([type, block, day, cells]);
    }
    writeRows(run, DAILY_SPAN, out);
  }
}

/** A late tick into a closed hour: that hour again from its frames and the tick, replacing the stored one; its day again from its hours. */
async function reroll(run: Run, c0: number, ts: number): Promise<void> {
  const h = floorHour(ts);
  // Frames of the hour already purged: it cannot be recomputed; the candle stays as it was.
  if (h <= run.input.purgedUntil) {
    run.summary.late_tick_ignored = iso(ts);
    return;
  }
  const old = await readRows(run, HOURLY_SPAN, h, h + 1);
  const fresh = await hourCells(run, h);
  const inWeek = h >= c0 - WEEK_HOURS * HOUR_MS;
  const inMonth = h >= c0 - MONTH_HOURS * HOUR_MS;
  applyRows(run, old, (w, c) => [inWeek ? remove(w[0], c) : w[0], inMonth ? remove(w[1], c) : w[1]]);
  applyCells(run, fresh, (w, c) => [inWeek ? combine(w[0], c) : w[0], inMonth ? combine(w[1], c) : w[1]]);
  writeRows(run, HOURLY_SPAN, flatCells(fresh, h));
  // Its day's row: the day's other stored hours before C, with this one as recomputed.
  const day = floorDay(h);
  const hours = await readRows(run, HOURLY_SPAN, day, Math.min(day + DAY_MS, c0));
  const out: [string, number, number, Cell[]][] = [];
  for (const [type, block] of run.input.blocks) {
    const byTs = hours.get(type)?.get(block) ?? new Map<number, Cell[]>();
    const cells = Array.from({ length: BLOCK_SLOTS }, (_, i): Cell => {
      const parts: Candle[] = [];
      for (let t = day; t < Math.min(day + DAY_MS, c0); t += HOUR_MS) {
        const c = t === h ? (fresh.get(type)?.get(block)?.[i] ?? null) : cellOf(run, type, block, i, byTs.get(t));
        if (c) parts.push(c);
      }
      const merged = mergeCandles(parts);
      const slot = run.input.slots.get(type)?.[block * BLOCK_SLOTS + i];
      return merged && slot ? { symbol: slot.symbol, ...merged } : null;
    });
    out.push([type, block, day, cells]);
  }
  writeRows(run, DAILY_SPAN, out);
  run.changed = true;
  run.summary.rerolled = iso(h);
}

// ---------------------------------------------------------------------------
// Windows

type WindowUpdate = (w: [Moments, Moments], c: Candle) => [Moments, Moments];

function windowsOf(s: CandleSlot): [Moments, Moments] {
  return s.windows ?? [NO_MOMENTS, NO_MOMENTS];
}

function applyCells(run: Run, cells: Cells, update: WindowUpdate): void {
  for (const [type, byBlock] of cells) {
    for (const [block, row] of byBlock) applyRow(run, type, block, row, update);
  }
}

function applyRows(run: Run, rows: Rows, update: WindowUpdate): void {
  for (const [type, byBlock] of rows) {
    for (const [block, byTs] of byBlock) for (const row of byTs.values()) applyRow(run, type, block, row, update);
  }
}

function applyRow(run: Run, type: string, block: number, row: readonly Cell[], update: WindowUpdate): void {
  const slots = run.input.slots.get(type);
  if (!slots) return;
  row.forEach((_, i) => {
    const c = cellOf(run, type, block, i, row);
    const s = slots[block * BLOCK_SLOTS + i];
    if (c && s) s.windows = nonEmpty(update(windowsOf(s), c));
  });
  run.changed = true;
}

const nonEmpty = (w: [Moments, Moments]): [Moments, Moments] | null => (w[0].n === 0 && w[1].n === 0 ? null : w);

/**
 * The windows of the next WINDOW_REBUILDS blocks in turn again from the stored
 * candles, as of C = c0, in a run that closes an hour: every block once a day
 * (ceil(blocks / 24) an hour), so the rounding of the hourly add and remove
 * never accumulates beyond a day's.
 */
async function rebuildWindows(run: Run, c0: number): Promise<void> {
  const { blocks } = run.input;
  const turns = Math.min(blocks.length, Math.ceil(blocks.length / 24));
  for (let i = 0; i < turns; i++) {
    const index = run.cursors.windowsBlock % blocks.length;
    run.cursors.windowsBlock = (index + 1) % blocks.length;
    await rebuildBlockWindows(run, c0, blocks[index]!);
  }
}

/** One block's windows from hourly rows for the partial day at each window's start and daily rows for the rest (a day's row covers its hours before C, so the current day's too). */
async function rebuildBlockWindows(run: Run, c0: number, [type, block]: [string, number]): Promise<void> {
  const one: [string, number][] = [[type, block]];
  const weekFrom = c0 - WEEK_HOURS * HOUR_MS;
  const monthFrom = c0 - MONTH_HOURS * HOUR_MS;
  const hourly = new Map<number, Cell[]>();
  for (const from of [monthFrom, weekFrom]) {
    const rows = await readRows(run, HOURLY_SPAN, from, Math.min(ceilDay(from), c0), one);
    for (const [ts, cells] of rows.get(type)?.get(block) ?? []) hourly.set(ts, cells);
  }
  const daily = (await readRows(run, DAILY_SPAN, ceilDay(monthFrom), c0, one)).get(type)?.get(block) ?? new Map<number, Cell[]>();
  const slots = run.input.slots.get(type)!;
  for (let i = 0; i < BLOCK_SLOTS; i++) {
    const s = slots[block * BLOCK_SLOTS + i];
    if (!s) continue;
    const moments = (from: number): Moments => {
      let m: Moments = NO_MOMENTS;
      for (const [ts, cells] of hourly) if (ts >= from && ts < ceilDay(from)) m = combine(m, cellOf(run, type, block, i, cells) ?? NO_MOMENTS);
      for (const [ts, cells] of daily) if (ts >= ceilDay(from)) m = combine(m, cellOf(run, type, block, i, cells) ?? NO_MOMENTS);
      return m;
    };
    s.windows = nonEmpty([moments(weekFrom), moments(monthFrom)]);
  }
  run.changed = true;
}

// ---------------------------------------------------------------------------
// The open hour

/** The tick's values into the open hour's candles; a tick of a later hour starts them again. */
async function openHour(run: Run): Promise<void> {
  const tick = run.input.tick;
  if (!tick) return;
  const h = floorHour(tick.ts);
  const current = run.cursors.hourTs;
  if (current !== null && h < current) return;
  if (current === null || h > current) {
    for (const slots of run.input.slots.values()) for (const s of slots) if (s) s.hour = null;
    // Minutes of this hour stored before (a restart, an upgrade): normally none.
    const points = await readPoints(run, h, tick.ts);
    for (const [type, byBlock] of points) {
      const slots = run.input.slots.get(type) ?? [];
      for (const [block, bySlot] of byBlock) {
        bySlot.forEach((p, i) => {
          const s = slots[block * BLOCK_SLOTS + i];
          if (s && p.length > 0) s.hour = candleOf(p);
        });
      }
    }
    run.cursors.hourTs = h;
  }
  for (const { metricType, slot, value } of tick.values) {
    const s = run.input.slots.get(metricType)?.[slot];
    if (s) s.hour = addValue(s.hour, tick.ts, value);
  }
  run.changed = true;
}

// ---------------------------------------------------------------------------
// Retention

function retention(run: Run, { hourlyDays, dailyDays }: Retention): void {
  const c = run.cursors.candlesUntil!;
  const byType = new Map<string, number[]>();
  for (const [type, block] of run.input.blocks) byType.set(type, [...(byType.get(type) ?? []), block]);
  for (const [type, blocks] of byType) {
    const list = blocks.join(",");
    run.statements.push(
      run.db
        .prepare(`DELETE FROM candles WHERE metric_type = ?1 AND span = ?2 AND block IN (${list}) AND ts < ?3`)
        .bind(type, HOURLY_SPAN, floorHour(c) - hourlyDays * DAY_MS),
    );
    if (dailyDays !== null) {
      run.statements.push(
        run.db
          .prepare(`DELETE FROM candles WHERE metric_type = ?1 AND span = ?2 AND block IN (${list}) AND ts < ?3`)
          .bind(type, DAILY_SPAN, floorDay(c) - dailyDays * DAY_MS),
      );
    }
  }
}

/**
 * What the 7 d and 30 d rankings read: each window's closed hours with the
 * open hour (when it is after them), as a variance; null when it holds no value.
 */
export function slotVariances(s: CandleSlot, openHour: boolean): VariancesEntry {
  const variance = (closed: Moments | undefined) => {
    const m = openHour && s.hour ? combine(closed ?? NO_MOMENTS, s.hour) : (closed ?? NO_MOMENTS);
    return m.n > 0 ? Math.max(m.m2, 0) / m.n : null;
  };
  return { symbol: s.symbol, week: variance(s.windows?.[0]), month: variance(s.windows?.[1]) };
}

/** For the sums rows: a slot's windows entry. */
export const windowsEntry = (s: CandleSlot): WindowsEntry | null => s.windows;
