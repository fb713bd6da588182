/**
 * The stored layout, named once: how many slots a frame row (block) and a sums
 * row (part) hold, the position of each field in the JSON tuples of a sums row,
 * and the SQL fragments that read them. The numbers and field names live in
 * layout.json, which scripts/seed.mjs reads too; migration 0008 records them
 * in tracker_state, and every read of the state refuses a database written
 * with another layout (LayoutMismatchError) instead of misreading its frames.
 * A change of any of them is a new layout: a new version and a migration that
 * rewrites the stored rows.
 */
import layout from "./layout.json";
import type { Candle, Moments, TimedCandle } from "../lib/moments";

/** The version of the layout below, recorded in tracker_state.layout_version. */
export const LAYOUT_VERSION: number = layout.version;
/**
 * Metrics per frame row: a tick writes (and the purge deletes) one row per
 * block. 48 values of ~19 bytes keep a row under SQLite's ~1,000 bytes of local
 * payload (4 KB pages): no overflow page, so a history reads ~4 rows per page.
 */
export const BLOCK_SLOTS: number = layout.blockSlots;
/** Metrics per sums row (~110 bytes each). */
export const PART_SLOTS: number = layout.partSlots;

type Positions<F extends string> = { readonly [name in F]: number };
const positions = <F extends string>(fields: readonly string[], names: readonly F[]): Positions<F> => {
  const at = Object.fromEntries(names.map((name) => [name, fields.indexOf(name)])) as Record<F, number>;
  const missing = names.filter((name) => at[name] < 0);
  if (missing.length > 0) throw new Error(`src/storage/layout.json names no field ${missing.join(", ")}`);
  return at;
};

/** A slot's entry of `sums.data`: [symbol, n, s1, s2, K, e] (ledger.ts). */
export const SUMS = positions(layout.sums, ["symbol", "n", "s1", "s2", "k", "e"] as const);
/** A slot's entry of `sums.latest`: [symbol, ts, value] and, while the 24 h figures are exact, [first ts, first, min, max]. */
export const LATEST = positions(layout.latest, ["symbol", "ts", "value", "firstTs", "first", "min", "max"] as const);
/** A slot's entry of `sums.day`: [front figures, [[segment, figures], ...]] (day.ts). */
export const DAY = positions(layout.day, ["front", "segments"] as const);

/** A slot's cell of a `candles` row: [symbol, open, high, low, close, n, d, m2], mean = open + d (candles.ts). */
export const CANDLE = positions(layout.candle, ["symbol", "open", "high", "low", "close", "n", "d", "m2"] as const);
/** A slot's entry of `sums.hour`: the open hour's [open, high, low, close, n, k, d, m2, open ts, close ts], mean = k + d. */
export const HOUR = positions(layout.hour, ["open", "high", "low", "close", "n", "k", "d", "m2", "openTs", "closeTs"] as const);

/** A slot's entry of `sums.variances`: [symbol, variance of the 7 d window, of the 30 d one] (null: no value in it). */
export const VARIANCES = positions(layout.variances, ["symbol", "week", "month"] as const);

export type SumsField = keyof typeof SUMS;
export type LatestField = keyof typeof LATEST;

/** The fields of a sums entry, by name. */
export interface SumsEntry {
  symbol: string;
  n: number;
  s1: number;
  s2: number;
  k: number;
  e: number | null;
}

/** The fields of a latest entry, by name; the figures null unless stored. */
export interface LatestEntry {
  symbol: string;
  ts: number | null;
  value: number | null;
  figures: readonly [firstTs: number, first: number, min: number, max: number] | null;
}

/** An entry as its tuple: the fields in their stored order. */
const tupleOf = <F extends string>(order: readonly string[], values: { [name in F]: unknown }): unknown[] =>
  order.map((name) => values[name as F]);

export const sumsTuple = (entry: SumsEntry): unknown[] => tupleOf(layout.sums, entry);

export const readSumsTuple = (t: readonly unknown[]): SumsEntry => ({
  symbol: t[SUMS.symbol] as string,
  n: t[SUMS.n] as number,
  s1: t[SUMS.s1] as number,
  s2: t[SUMS.s2] as number,
  k: t[SUMS.k] as number,
  e: (t[SUMS.e] ?? null) as number | null,
});

/** The figures are the latest entry's tail, stored only while exact: a tuple this short has none. */
const LATEST_WITHOUT_FIGURES = LATEST.firstTs;

export function latestTuple({ symbol, ts, value, figures }: LatestEntry): unknown[] {
  if (!figures) return tupleOf(layout.latest.slice(0, LATEST_WITHOUT_FIGURES), { symbol, ts, value });
  const [firstTs, first, min, max] = figures;
  return tupleOf(layout.latest, { symbol, ts, value, firstTs, first, min, max });
}

export function readLatestTuple(t: readonly unknown[]): LatestEntry {
  return {
    symbol: t[LATEST.symbol] as string,
    ts: (t[LATEST.ts] ?? null) as number | null,
    value: (t[LATEST.value] ?? null) as number | null,
    figures:
      t.length > LATEST_WITHOUT_FIGURES
        ? ([t[LATEST.firstTs], t[LATEST.first], t[LATEST.min], t[LATEST.max]] as [number, number, number, number])
        : null,
  };
}

/** A candle cell as its tuple (d around the open: the stored shift), and back (null stays null). */
export function candleTuple(symbol: string, c: Candle): unknown[] {
  const d = c.k === c.open ? c.d : c.k - c.open + c.d;
  return tupleOf(layout.candle, { symbol, open: c.open, high: c.high, low: c.low, close: c.close, n: c.n, d, m2: c.m2 });
}
export function readCandleTuple(t: readonly unknown[] | null | undefined): (Candle & { symbol: string }) | null {
  if (!t) return null;
  const open = t[CANDLE.open] as number;
  return {
    symbol: t[CANDLE.symbol] as string,
    open,
    high: t[CANDLE.high] as number,
    low: t[CANDLE.low] as number,
    close: t[CANDLE.close] as number,
    n: t[CANDLE.n] as number,
    k: open,
    d: t[CANDLE.d] as number,
    m2: t[CANDLE.m2] as number,
  };
}

/** An open hour's entry as its tuple, and back. */
export const hourTuple = (c: TimedCandle): unknown[] => tupleOf(layout.hour, c);
export function readHourTuple(t: readonly unknown[] | null | undefined): TimedCandle | null {
  if (!t) return null;
  return {
    open: t[HOUR.open] as number,
    high: t[HOUR.high] as number,
    low: t[HOUR.low] as number,
    close: t[HOUR.close] as number,
    n: t[HOUR.n] as number,
    k: t[HOUR.k] as number,
    d: t[HOUR.d] as number,
    m2: t[HOUR.m2] as number,
    openTs: t[HOUR.openTs] as number,
    closeTs: t[HOUR.closeTs] as number,
  };
}

/** A slot's entry of `sums.windows`: [[n, k, d, m2] of the 7 d window's closed hours, the same of the 30 d one]. */
export type WindowsEntry = readonly [week: Moments, month: Moments];
export const windowsTuple = ([week, month]: WindowsEntry): unknown[] => [
  [week.n, week.k, week.d, week.m2],
  [month.n, month.k, month.d, month.m2],
];
export function readWindowsTuple(t: readonly unknown[] | null | undefined): WindowsEntry | null {
  if (!t) return null;
  const moments = (m: unknown): Moments => {
    const [n, k, d, m2] = m as [number, number, number, number];
    return { n, k, d, m2 };
  };
  return [moments(t[0]), moments(t[1])];
}

export interface VariancesEntry {
  symbol: string;
  week: number | null;
  month: number | null;
}
export const variancesTuple = (entry: VariancesEntry): unknown[] => tupleOf(layout.variances, entry);
export const readVariancesTuple = (t: readonly unknown[]): VariancesEntry => ({
  symbol: t[VARIANCES.symbol] as string,
  week: (t[VARIANCES.week] ?? null) as number | null,
  month: (t[VARIANCES.month] ?? null) as number | null,
});

/** SQL: a field of the sums entry `tuple` (a JSON array), e.g. sumsField("n") is `t ->> 1`. */
export const sumsField = (field: SumsField, tuple = "t") => `${tuple} ->> ${SUMS[field]}`;
/** SQL: a field of the latest entry `tuple`, e.g. latestField("ts", "j.value") is `j.value ->> 1`. */
export const latestField = (field: LatestField, tuple: string) => `${tuple} ->> ${LATEST[field]}`;
/** SQL: the block of the slot expression `slot`, and its index in that block (a frame's `v` or a suffix row). */
export const blockOf = (slot: string) => `${slot} / ${BLOCK_SLOTS}`;
export const inBlock = (slot: string) => `${slot} % ${BLOCK_SLOTS}`;
/** SQL: the part (sums row) of the slot expression `slot`, and its index in that part. */
export const partOf = (slot: string) => `${slot} / ${PART_SLOTS}`;
export const inPart = (slot: string) => `${slot} % ${PART_SLOTS}`;

/** The layout columns of tracker_state (migration 0008). */
export interface StoredLayout {
  layout_version: number;
  block_slots: number;
  part_slots: number;
}

/** The columns to select with the state row: the check costs no extra read. */
export const LAYOUT_COLUMNS = "layout_version, block_slots, part_slots";

export class LayoutMismatchError extends Error {
  constructor(stored: StoredLayout) {
    super(
      `The database was written with storage layout ${describe(stored)}; this code reads layout ` +
        `${describe({ layout_version: LAYOUT_VERSION, block_slots: BLOCK_SLOTS, part_slots: PART_SLOTS })}: ` +
        "nothing is read or written until they match (deploy the code that matches the database, or migrate it)",
    );
    this.name = "LayoutMismatchError";
  }
}

const describe = (l: StoredLayout) => `v${l.layout_version} (${l.block_slots} slots a block, ${l.part_slots} a part)`;

/** Throws LayoutMismatchError unless the state row records this code's layout. */
export function checkLayout(stored: StoredLayout): void {
  if (stored.layout_version !== LAYOUT_VERSION || stored.block_slots !== BLOCK_SLOTS || stored.part_slots !== PART_SLOTS) {
    throw new LayoutMismatchError(stored);
  }
}
