/**
 * From market summaries to metric points, with the tracker's semantics:
 * - price of a pair: arithmetic mean of the last price over every market
 *   trading the pair, leaving out outliers: when at least 3 markets give the
 *   pair a price, a market whose price lies outside
 *   [median / (1 + t), median x (1 + t)] (t: the outlier tolerance) is dropped
 *   from the mean;
 * - volume of an asset: sum of `volume` where it is the base plus sum of
 *   `volumeQuote` where it is the quote (outliers included: volume is not
 *   filtered).
 * A value that is missing, not finite, or out of range (price <= 0, volume < 0)
 * contributes nothing; the rest of its market still counts. A market reported
 * twice (same exchange and pair, e.g. by two sources) counts once: the first.
 * Pure: no I/O.
 */
import type { MetricType } from "../metric-types";
import type { MarketSummary } from "../sources/types";

export interface Point {
  metric_type: MetricType;
  symbol: string;
  value: number;
}

export interface AggregateStats {
  markets: number;
  /** Markets that contributed no value at all. */
  skipped: number;
  /** Values left out, by reason. */
  ignored: { price: number; volume: number; volume_quote: number };
  /** Markets reported twice (same exchange and pair), counted once. */
  duplicates: number;
  /** Markets whose price was left out of their pair's mean as an outlier. */
  outliers: number;
}

export type RejectReason = "duplicate" | "outlier" | "no_usable_value";

export interface Aggregate {
  points: Point[];
  stats: AggregateStats;
  /** The markets that were counted once, not at all, or without their price, and why. */
  rejected: { market: MarketSummary; reason: RejectReason }[];
}

export interface AggregateOptions {
  /** t of the outlier rule; Infinity keeps every price. */
  outlierTolerance: number;
}

export const DEFAULT_OUTLIER_TOLERANCE = 0.1;

/** Outliers need a median, and a median means something from 3 markets on. */
export const OUTLIER_MIN_MARKETS = 3;
/**
 * Relative slack at the bounds of the outlier rule: a price within a billionth
 * of a bound is on it, so a price exactly at the tolerance in decimal (3.6 for
 * median 3, t = 0.2, where 3 x 1.2 = 3.5999999999999996 in binary) is kept.
 */
const BOUND_SLACK = 1e-9;

const validPrice = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value > 0;

const validVolume = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value >= 0;

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Whether `price` lies within [median / (1 + t), median x (1 + t)] (bounds included). */
export function withinTolerance(price: number, median: number, tolerance: number): boolean {
  const factor = 1 + tolerance;
  return price <= median * factor * (1 + BOUND_SLACK) && price * factor * (1 + BOUND_SLACK) >= median;
}

export function aggregate(
  markets: readonly MarketSummary[],
  options: AggregateOptions = { outlierTolerance: DEFAULT_OUTLIER_TOLERANCE },
): Aggregate {
  const stats: AggregateStats = {
    markets: 0,
    skipped: 0,
    ignored: { price: 0, volume: 0, volume_quote: 0 },
    duplicates: 0,
    outliers: 0,
  };
  const rejected: Aggregate["rejected"] = [];

  const seen = new Set<string>();
  const unique: MarketSummary[] = [];
  for (const market of markets) {
    const key = `${market.exchange}:${market.pair}`;
    if (seen.has(key)) {
      stats.duplicates++;
      rejected.push({ market, reason: "duplicate" });
      continue;
    }
    seen.add(key);
    unique.push(market);
  }
  stats.markets = unique.length;

  const pricesByPair = new Map<string, MarketSummary[]>();
  for (const market of unique) {
    if (!validPrice(market.last)) continue;
    const list = pricesByPair.get(market.pair);
    if (list) list.push(market);
    else pricesByPair.set(market.pair, [market]);
  }

  const points: Point[] = [];
  const outliers = new Set<MarketSummary>();
  for (const [pair, priced] of pricesByPair) {
    let kept = priced;
    if (priced.length >= OUTLIER_MIN_MARKETS) {
      const mid = median(priced.map((market) => market.last!));
      kept = priced.filter((market) => withinTolerance(market.last!, mid, options.outlierTolerance));
      for (const market of priced) if (!kept.includes(market)) outliers.add(market);
    }
    const sum = kept.reduce((total, market) => total + market.last!, 0);
    points.push({ metric_type: "price", symbol: pair, value: sum / kept.length });
  }

  const volumes = new Map<string, number>();
  for (const market of unique) {
    let contributed = false;
    if (!validPrice(market.last)) stats.ignored.price++;
    else if (outliers.has(market)) {
      stats.outliers++;
      rejected.push({ market, reason: "outlier" });
    } else contributed = true;
    if (validVolume(market.volume)) {
      volumes.set(market.base, (volumes.get(market.base) ?? 0) + market.volume);
      contributed = true;
    } else {
      stats.ignored.volume++;
    }
    if (validVolume(market.volumeQuote)) {
      volumes.set(market.quote, (volumes.get(market.quote) ?? 0) + market.volumeQuote);
      contributed = true;
    } else {
      stats.ignored.volume_quote++;
    }
    if (!contributed) {
      stats.skipped++;
      if (!outliers.has(market)) rejected.push({ market, reason: "no_usable_value" });
    }
  }

  for (const [symbol, value] of volumes) {
    points.push({ metric_type: "volume", symbol, value });
  }
  return { points, stats, rejected };
}
