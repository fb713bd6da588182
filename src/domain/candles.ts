/** What the candles keep (src/storage/candles.ts, docs/candles.md). */

/** The ranking's windows besides the day, in hours: the week and the month (30 days). */
export const WEEK_HOURS = 168;
export const MONTH_HOURS = 720;

/** How long candles are kept, in days; dailyDays null: for ever. */
export interface Retention {
  hourlyDays: number;
  dailyDays: number | null;
}

/** HOURLY_CANDLE_DAYS and DAILY_CANDLE_DAYS when unset. */
export const DEFAULT_RETENTION: Retention = { hourlyDays: 90, dailyDays: null };
