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
/**
 * Hourly: 31 days, the least the month window allows, not 90: at 40,000
 * metrics 90 days of hourly rows alone take ~10.5 GB of D1's 10 GB
 * (docs/candles.md, "Size"); 31 take 3.6 GB.
 */
export const DEFAULT_RETENTION: Retention = { hourlyDays: 31, dailyDays: null };
