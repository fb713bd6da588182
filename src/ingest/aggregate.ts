/**
 * From market summaries to metric points, with the tracker's semantics:
 * - price of a pair: arithmetic mean of the last price over every market
 *   trading the pair, leaving out outliers: when at least 3 markets give the
 *   pair a price, a market whose price lies outside
 *   [median / (1 + t), median x (1 + t)] (t: the outlier tolerance) is dropped
 *   from the mean. When that leaves no market (two far-apart groups around an
 *   even median), the pair gets no price this minute ("no_consensus");
 * - volume of an asset: sum of `volume` where it is the base plus sum of
 *   `volumeQuote` where it is the quote (outliers included: volume is not
 *   filtered).
 * A value that is missing or out of range (price <= 0, volume < 0) contributes
 * nothing; one that is not finite or beyond the bounds of src/lib/number.ts
 * (|value| > MAX_VALUE, or a price below MIN_PRICE) contributes nothing and is
 * counted "non_finite"; the rest of its market still counts. A point whose
 * aggregated value leaves the bounds is dropped and counted "non_finite" too.
 * A market reported twice (same exchange and pair: symbol, base and quote,
 * e.g. by two sources) counts once: the first. Two pairs of one exchange with
 * the same base and quote (bitFlyer's btcjpy and btcfxjpy, as Cryptowatch names
 * them) are two markets and two price metrics. Markets of different bases and quotes that
 * make the same pair symbol ("ab" + "cd", "abc" + "d") are different assets:
 * that pair gets no price ("ambiguous_pair").
 * Pure: no I/O.
 */
import { MAX_VALUE, MIN_PRICE } from "../lib/number";
import { marketKey } from "../lib/symbol";
import { DEFAULT_OUTLIER_TOLERANCE } from "../config";
import type { Decision, MarketOutcome, MarketSummary, RejectReason } from "../domain/market";
import type { MetricType } from "../domain/metric-types";
import type { Point } from "../domain/point";

export interface AggregateStats {
  markets: number;
  /** Markets that contributed no value at all. */
  skipped: number;
  /** Values left out, by reason. */
  ignored: { price: number; volume: number; volume_quote: number };
  /** Markets reported twice (same exchange and pair: symbol, base and quote), counted once. */
  duplicates: number;
  /** Markets whose price was left out of their pair's mean as an outlier. */
  outliers: number;
  /** Market values, and aggregated points, dropped for being not finite or out of bounds. */
  nonFinite: { values: number; points: number };
  /** Pairs given no price because the outlier rule kept none of their markets. */
  noConsensus: number;
  /** Pair symbols given no price because their markets name different bases and quotes. */
  ambiguousPairs: number;
}

export interface Aggregate {
  points: Point[];
  stats: AggregateStats;
  /** The markets that were counted once, not at all, or without some value, and why. */
  rejected: { market: MarketSummary; reason: RejectReason }[];
  /** What became of each market, in the order given (the order of every mean and sum). */
  outcomes: MarketOutcome[];
  /** Each pair's median, where the outlier rule applied (at least OUTLIER_MIN_MARKETS prices). */
  medians: Map<string, number>;
}

export interface AggregateOptions {
  /** t of the outlier rule; Infinity keeps every price. */
  outlierTolerance: number;
}

/** Outliers need a median, and a median means something from 3 markets on. */
export const OUTLIER_MIN_MARKETS = 3;
/**
 * Relative slack at the bounds of the outlier rule: a price within a billionth
 * of a bound is on it, so a price exactly at the tolerance in decimal (3.6 for
 * median 3, t = 0.2, where 3 x 1.2 = 3.5999999999999996 in binary) is kept.
 */
const BOUND_SLACK = 1e-9;

type Judgement = "usable" | "unusable" | "non_finite";

/** A price: usable, missing or <= 0 (unusable), or not finite / out of bounds. */
function judgePrice(value: number | undefined): Judgement {
  if (value === undefined || value <= 0) return "unusable";
  return Number.isFinite(value) && value >= MIN_PRICE && value <= MAX_VALUE ? "usable" : "non_finite";
}

/** A volume: usable, missing or < 0 (unusable), or not finite / out of bounds. */
function judgeVolume(value: number | undefined): Judgement {
  if (value === undefined || value < 0) return "unusable";
  return Number.isFinite(value) && value <= MAX_VALUE ? "usable" : "non_finite";
}

/** Whether an aggregated value may be stored. */
export const withinBounds = (value: number): boolean => Number.isFinite(value) && Math.abs(value) <= MAX_VALUE;

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
    nonFinite: { values: 0, points: 0 },
    noConsensus: 0,
    ambiguousPairs: 0,
  };
  const rejected: Aggregate["rejected"] = [];
  const reject = new Map<MarketSummary, Set<RejectReason>>();
  const mark = (market: MarketSummary, reason: RejectReason) => {
    const reasons = reject.get(market) ?? new Set<RejectReason>();
    reasons.add(reason);
    reject.set(market, reasons);
  };

  const outcomes: MarketOutcome[] = [];
  const outcomeOf = new Map<MarketSummary, MarketOutcome>();
  const medians = new Map<string, number>();

  const seen = new Set<string>();
  const unique: MarketSummary[] = [];
  for (const market of markets) {
    const key = marketKey(market);
    if (seen.has(key)) {
      stats.duplicates++;
      rejected.push({ market, reason: "duplicate" });
      outcomes.push({ market, price: "duplicate", deviation: null, base: "duplicate", quote: "duplicate" });
      continue;
    }
    seen.add(key);
    unique.push(market);
    const outcome: MarketOutcome = { market, price: "included", deviation: null, base: "included", quote: "included" };
    outcomes.push(outcome);
    outcomeOf.set(market, outcome);
  }
  stats.markets = unique.length;

  // Prices, pair by pair.
  const pricesByPair = new Map<string, MarketSummary[]>();
  for (const market of unique) {
    const judgement = judgePrice(market.last);
    if (judgement !== "usable") {
      outcomeOf.get(market)!.price = judgement === "non_finite" ? "non_finite" : "no_usable_value";
      stats.ignored.price++;
      if (judgement === "non_finite") {
        stats.nonFinite.values++;
        mark(market, "non_finite");
      }
      continue;
    }
    const list = pricesByPair.get(market.pair);
    if (list) list.push(market);
    else pricesByPair.set(market.pair, [market]);
  }

  const points: Point[] = [];
  const priced = new Set<MarketSummary>();
  for (const [pair, candidates] of pricesByPair) {
    const [first] = candidates;
    if (candidates.some((market) => market.base !== first!.base || market.quote !== first!.quote)) {
      stats.ambiguousPairs++;
      for (const market of candidates) {
        mark(market, "ambiguous_pair");
        outcomeOf.get(market)!.price = "ambiguous_pair";
      }
      continue;
    }
    let kept = candidates;
    if (candidates.length >= OUTLIER_MIN_MARKETS) {
      const mid = median(candidates.map((market) => market.last!));
      medians.set(pair, mid);
      kept = candidates.filter((market) => withinTolerance(market.last!, mid, options.outlierTolerance));
      for (const market of candidates) outcomeOf.get(market)!.deviation = market.last! / mid - 1;
      if (kept.length === 0) {
        stats.noConsensus++;
        for (const market of candidates) {
          mark(market, "no_consensus");
          outcomeOf.get(market)!.price = "no_consensus";
        }
        continue;
      }
      for (const market of candidates) {
        if (!kept.includes(market)) {
          stats.outliers++;
          mark(market, "outlier");
          outcomeOf.get(market)!.price = "outlier";
        }
      }
    }
    const value = kept.reduce((total, market) => total + market.last!, 0) / kept.length;
    if (!withinBounds(value)) {
      stats.nonFinite.points++;
      for (const market of kept) {
        mark(market, "non_finite");
        outcomeOf.get(market)!.price = "non_finite";
      }
      continue;
    }
    for (const market of kept) priced.add(market);
    points.push({ metric_type: "price", symbol: pair, value });
  }

  // Volumes, asset by asset.
  const volumes = new Map<string, { value: number; markets: MarketSummary[] }>();
  const addVolume = (asset: string, value: number, market: MarketSummary) => {
    const entry = volumes.get(asset);
    if (entry) {
      entry.value += value;
      entry.markets.push(market);
    } else volumes.set(asset, { value, markets: [market] });
  };
  const addSide = (value: number | undefined, asset: string, side: "volume" | "volume_quote", market: MarketSummary) => {
    const judgement = judgeVolume(value);
    if (judgement === "usable") return addVolume(asset, value!, market);
    outcomeOf.get(market)![side === "volume" ? "base" : "quote"] = judgement === "non_finite" ? "non_finite" : "no_usable_value";
    stats.ignored[side]++;
    if (judgement === "non_finite") {
      stats.nonFinite.values++;
      mark(market, "non_finite");
    }
  };
  for (const market of unique) {
    addSide(market.volume, market.base, "volume", market);
    addSide(market.volumeQuote, market.quote, "volume_quote", market);
  }
  const volumed = new Set<MarketSummary>();
  for (const [symbol, { value, markets: contributors }] of volumes) {
    if (!withinBounds(value)) {
      stats.nonFinite.points++;
      for (const market of contributors) {
        mark(market, "non_finite");
        const outcome = outcomeOf.get(market)!;
        if (market.base === symbol) outcome.base = "non_finite";
        if (market.quote === symbol) outcome.quote = "non_finite";
      }
      continue;
    }
    for (const market of contributors) volumed.add(market);
    points.push({ metric_type: "volume", symbol, value: value + 0 });
  }

  for (const market of unique) {
    const reasons = reject.get(market);
    if (!priced.has(market) && !volumed.has(market)) {
      stats.skipped++;
      if (!reasons) rejected.push({ market, reason: "no_usable_value" });
    }
    for (const reason of reasons ?? []) rejected.push({ market, reason });
  }
  return { points, stats, rejected, outcomes, medians };
}
