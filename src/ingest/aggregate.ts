/**
 * From market summaries to metric points, with the tracker's semantics:
 * - price of a pair: arithmetic mean of the last price over every market
 *   trading the pair;
 * - volume of an asset: sum of `volume` where it is the base plus sum of
 *   `volumeQuote` where it is the quote.
 * A value that is missing, not finite, or out of range (price <= 0, volume < 0)
 * contributes nothing; the rest of its market still counts.
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
}

export interface Aggregate {
  points: Point[];
  stats: AggregateStats;
}

const validPrice = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value > 0;

const validVolume = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value >= 0;

export function aggregate(markets: readonly MarketSummary[]): Aggregate {
  const prices = new Map<string, { sum: number; count: number }>();
  const volumes = new Map<string, number>();
  const seen = new Set<string>();
  const stats: AggregateStats = {
    markets: 0,
    skipped: 0,
    ignored: { price: 0, volume: 0, volume_quote: 0 },
    duplicates: 0,
  };

  for (const market of markets) {
    const key = `${market.exchange}:${market.pair}`;
    if (seen.has(key)) {
      stats.duplicates++;
      continue;
    }
    seen.add(key);
    stats.markets++;
    let contributed = false;

    if (validPrice(market.last)) {
      const price = prices.get(market.pair) ?? { sum: 0, count: 0 };
      price.sum += market.last;
      price.count++;
      prices.set(market.pair, price);
      contributed = true;
    } else {
      stats.ignored.price++;
    }
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
    if (!contributed) stats.skipped++;
  }

  const points: Point[] = [];
  for (const [symbol, { sum, count }] of prices) {
    points.push({ metric_type: "price", symbol, value: sum / count });
  }
  for (const [symbol, value] of volumes) {
    points.push({ metric_type: "volume", symbol, value });
  }
  return { points, stats };
}
