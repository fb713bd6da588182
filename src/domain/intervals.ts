/** The intervals of the candles and the windows of the rankings, as the API names them. */
import { DAY_MS, HOUR_MS } from "../lib/time";

/** A candle's interval: a UTC hour or a UTC day (docs/candles.md). */
export type CandleInterval = "1h" | "1d";
/** A ranking window longer than the 24 h of stored points, kept as the candles' moments. */
export type RankWindow = "7d" | "30d";

/** The length of each interval, ms (the `span` of its stored candle rows). */
export const INTERVAL_MS: Record<CandleInterval, number> = { "1h": HOUR_MS, "1d": DAY_MS };
