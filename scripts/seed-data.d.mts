// Types of scripts/seed-data.mjs (plain Node, so that `npm run seed` needs no build), for the tests that regenerate the seed.
/** As src/lib/moments.ts: the mean is k + d (k a value of the set, a candle's open). */
export interface Moments {
  n: number;
  k: number;
  d: number;
  m2: number;
}
export interface Candle extends Moments {
  open: number;
  high: number;
  low: number;
  close: number;
}
/** [symbol, starting value, volatility per minute] */
export type SeedMetric = [symbol: string, start: number, volatility: number];
export type SeedType = "price" | "volume";
export interface HistoryBounds {
  candlesUntil: number;
  daysUntil: number;
  from: number;
  hourlyFrom: number;
}

export const MINUTE: number;
export const HOUR: number;
export const DAY: number;
export const HOURLY_CANDLE_DAYS: number;
export const WINDOW_HOURS: number[];
export const NAMED_METRICS: number;
export function floorHour(ts: number): number;
export function floorDay(ts: number): number;
export function random(seed: number): () => number;
export function minuteDay(
  total: number,
  minutes: number,
): { metrics: Record<SeedType, SeedMetric[]>; series: Record<SeedType, number[][]>; states: Record<SeedType, number[]> };
export function pastWalk(type: SeedType, metric: SeedMetric, state: number): () => number;
export function historyBounds(first: number, end: number, days: number): HistoryBounds;
export function momentsOf(values: readonly number[], k?: number): Moments;
export function combine(a: Moments, b: Moments): Moments;
export function candleOf(values: readonly number[]): Candle;
export function mergeCandles(candles: readonly Candle[]): Candle;
export function metricHistory(
  previous: () => number,
  walk: readonly number[],
  first: number,
  bounds: HistoryBounds,
): { hourly: [number, Candle][]; daily: [number, Candle][]; windows: Moments[] };
