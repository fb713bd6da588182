/**
 * The reads of the candles (docs/candles.md, "Reading"): one metric's hourly
 * or daily candles, and the ranking of a type over 7 or 30 days. The roll-up
 * (candles.ts) writes what these read: the `candles` rows, the `hour` and
 * `windows` columns of `sums` and the cursors of tracker_state.
 *
 * A metric's candles read one row per candle: only its cell of each row
 * (JSON extraction in SQL, never json_each, whose rows D1 counts as read).
 */
import { INTERVAL_MS, type CandleInterval, type RankWindow } from "../domain/intervals";
import { combine, meanOf, mergeCandles, NO_MOMENTS, stdOf, type Candle, type Moments } from "../lib/moments";
import { DAY_MS, HOUR_MS, iso } from "../lib/time";
import { BLOCK_SLOTS, inPart, partOf, readCandleTuple, readHourTuple, readVariancesTuple } from "./layout";
import type { Reader, RankRow } from "./queries";

/** A candle as the API shows it. */
export interface CandleRow {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  n: number;
  mean: number;
  /** Population standard deviation, sqrt(m2 / n). */
  std: number;
  /** The interval has ended: time + interval <= now. */
  complete: boolean;
}

/** The tracker_state cursors of the roll-up (NULL: not started). */
interface Cursors {
  candles_until: number | null;
  days_until: number | null;
  hour_ts: number | null;
}

/** Hours before `candles_until` have their stored rows; the open hour counts when it is not rolled yet: its start, else null. */
const openHour = ({ candles_until, hour_ts }: Cursors): number | null =>
  hour_ts !== null && (candles_until === null || hour_ts >= candles_until) ? hour_ts : null;

const floorTo = (ms: number, interval: number) => Math.floor(ms / interval) * interval;

/**
 * The metric's slot, the roll-up's cursors and, only when the open hour is in
 * [from, until] and not rolled yet, the slot's `sums.hour` entry: one row of
 * each (the CASE reads the sums row only when it is needed).
 */
const HEAD_SQL = `
  SELECT m.slot, st.candles_until, st.days_until, st.hour_ts,
         CASE WHEN st.hour_ts IS NOT NULL AND st.hour_ts >= coalesce(st.candles_until, st.hour_ts)
                   AND st.hour_ts >= ?3 AND st.hour_ts <= ?4
              THEN (SELECT s.hour -> (${inPart("m.slot")}) FROM sums s
                    WHERE s.metric_type = m.metric_type AND s.part = ${partOf("m.slot")}) END AS hour
  FROM metrics m, tracker_state st
  WHERE m.metric_type = ?1 AND m.symbol = ?2 AND st.id = 1`;

/**
 * One span's stored rows of a block in [from, to], the metric's cell only
 * (JSON text, or NULL). CAST: D1 may bind a JavaScript number as REAL, and a
 * REAL is no array index.
 */
const ROWS_SQL = `
  SELECT ts, c -> CAST(?4 AS INTEGER) AS cell FROM candles
  WHERE metric_type = ?1 AND span = ?5 AND block = ?2 AND ts >= ?3 AND ts <= ?6`;

interface Head extends Cursors {
  slot: number;
  hour: string | null;
}

type StoredCandle = Candle & { ts: number };

/** The stored cells of one span in [from, to], the metric's (its symbol) only, oldest first. */
async function storedCandles(
  db: Reader,
  metricType: string,
  symbol: string,
  slot: number,
  span: number,
  from: number,
  to: number,
): Promise<StoredCandle[]> {
  if (to < from) return [];
  const { results } = await db
    .prepare(ROWS_SQL)
    .bind(metricType, Math.floor(slot / BLOCK_SLOTS), from, slot % BLOCK_SLOTS, span, to)
    .all<{ ts: number; cell: string | null }>();
  const candles: StoredCandle[] = [];
  for (const { ts, cell } of results) {
    const candle = cell === null ? null : readCandleTuple(JSON.parse(cell) as unknown[] | null);
    // A slot is reused once its metric is forgotten: another symbol's cell is not this metric's.
    if (!candle || candle.symbol !== symbol) continue;
    const { symbol: _, ...values } = candle;
    candles.push({ ts, ...values });
  }
  // The primary key's order already; sorted here rather than trusting the plan.
  return candles.sort((a, b) => a.ts - b.ts);
}

/**
 * The hourly candles in [from, to]: stored rows for the hours before
 * candles_until, and the open hour from `sums.hour` when it is not rolled yet.
 */
async function hourlyCandles(db: Reader, metricType: string, symbol: string, head: Head, from: number, to: number): Promise<StoredCandle[]> {
  const rolledTo = head.candles_until === null ? from - 1 : Math.min(to, head.candles_until - 1);
  const candles = await storedCandles(db, metricType, symbol, head.slot, HOUR_MS, from, rolledTo);
  const open = head.hour === null ? null : readHourTuple(JSON.parse(head.hour) as unknown[] | null);
  const ts = openHour(head);
  if (open && ts !== null && ts >= from && ts <= to) {
    const { openTs: _, closeTs: __, ...values } = open;
    candles.push({ ts, ...values });
  }
  return candles;
}

/**
 * The daily candles in [from, to]: stored rows for the days before
 * days_until; each later day is the merge of its hourly candles (the closed
 * hours' rows and the open hour), so the current day is always there.
 */
async function dailyCandles(db: Reader, metricType: string, symbol: string, head: Head, from: number, to: number): Promise<StoredCandle[]> {
  // days_until is a day's start: every day before it has its row, none from it on.
  const rolled = head.days_until ?? from;
  const stored = await storedCandles(db, metricType, symbol, head.slot, DAY_MS, from, Math.min(to, rolled - 1));
  const hoursFrom = Math.max(from, rolled);
  const hours = hoursFrom > to ? [] : await hourlyCandles(db, metricType, symbol, head, hoursFrom, floorTo(to, DAY_MS) + DAY_MS - 1);
  const byDay = new Map<number, Candle[]>();
  for (const { ts, ...hour } of hours) {
    const day = floorTo(ts, DAY_MS);
    const list = byDay.get(day);
    if (list) list.push(hour);
    else byDay.set(day, [hour]);
  }
  const merged: StoredCandle[] = [];
  for (const [ts, list] of byDay) {
    const candle = mergeCandles(list);
    if (candle) merged.push({ ts, ...candle });
  }
  return [...stored, ...merged.sort((a, b) => a.ts - b.ts)];
}

/**
 * A metric's candles of one interval whose start `time` is in
 * [floor(since to the interval), until], oldest first; null when the type has
 * no such metric. An interval without any value has no candle.
 */
export async function candles(
  db: Reader,
  metricType: string,
  symbol: string,
  interval: CandleInterval,
  since: number,
  until: number,
  now: number,
): Promise<CandleRow[] | null> {
  const span = INTERVAL_MS[interval];
  const from = floorTo(since, span);
  // The open hour matters for any hour of a day in range, not only for the hours in range.
  const hourTo = interval === "1d" ? floorTo(until, DAY_MS) + DAY_MS - 1 : until;
  const head = await db.prepare(HEAD_SQL).bind(metricType, symbol, from, hourTo).first<Head>();
  if (!head) return null;
  const found =
    interval === "1h"
      ? await hourlyCandles(db, metricType, symbol, head, from, until)
      : await dailyCandles(db, metricType, symbol, head, from, until);
  return found.map(({ ts, open, high, low, close, n, k, d, m2 }) => ({
    time: iso(ts),
    open,
    high,
    low,
    close,
    n,
    mean: meanOf({ n, k, d, m2 }),
    std: stdOf({ n, k, d, m2 }) ?? 0,
    complete: ts + span <= now,
  }));
}

/**
 * Every metric of a type ranked by the standard deviation of its values over
 * the 7 (30) days ending with the current hour: per slot the variance the
 * ledger writes with every sums row (`sums.variances`: the closed hours'
 * moments of `sums.windows` with the open hour's `sums.hour`), so a request
 * reads one small document per 512 metrics and combines nothing.
 * Ranked as rankAll (queries.ts): most volatile first, ties share a rank.
 */
export async function rankWindow(db: Reader, metricType: string, window: RankWindow): Promise<RankRow[]> {
  const parts = await db.prepare("SELECT variances FROM sums WHERE metric_type = ?1").bind(metricType).all<{ variances: string }>();
  const rows: { symbol: string; variance: number }[] = [];
  for (const part of parts.results) {
    for (const entry of JSON.parse(part.variances) as (unknown[] | null)[]) {
      if (!entry) continue;
      const { symbol, week, month } = readVariancesTuple(entry);
      const variance = window === "7d" ? week : month;
      if (variance !== null) rows.push({ symbol, variance });
    }
  }
  rows.sort((a, b) => b.variance - a.variance || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  let rank = 0;
  return rows.map((row, i) => {
    if (i === 0 || row.variance !== rows[i - 1]!.variance) rank = i + 1;
    return { symbol: row.symbol, stddev: Math.sqrt(row.variance), rank, total: rows.length };
  });
}
