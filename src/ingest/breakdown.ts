/**
 * The per-market breakdown of a tick: for every metric, the markets behind it
 * and what became of each (included, or why not), as one JSON document per
 * source. The tick stores them in its own transaction, replacing the previous
 * tick's (src/storage/breakdowns.ts); GET .../markets reads them. Pure: no I/O.
 *
 * A document indexes the source's markets by metric, so that a read extracts
 * one metric's entries without parsing them into JavaScript:
 *   { "tolerance": t,
 *     "price":  { pair:  [median | null, [[seq, exchange, last, volume, volumeQuote, derived, decision, deviation], ...]] },
 *     "volume": { asset: [[seq, exchange, pair, side, last, volume, volumeQuote, derived, decision], ...] } }
 * seq is the market's place in the tick's aggregation (every mean and sum runs
 * in that order, base side before quote side); side is 0 for base, 1 for
 * quote; derived is 1 when the quote volume was derived by the source.
 */
import type { Decision, MarketOutcome } from "./aggregate";
import type { MarketSummary } from "../sources/types";

/** D1 keeps at most 2 MB per value; a source whose document would be larger is described as omitted. */
export const BREAKDOWN_MAX_CHARS = 1_900_000;

export type PriceEntry = [
  seq: number,
  exchange: string,
  last: number | null,
  volume: number | null,
  volumeQuote: number | null,
  derived: 0 | 1,
  decision: Decision,
  deviation: number | null,
];
export type VolumeEntry = [
  seq: number,
  exchange: string,
  pair: string,
  side: 0 | 1,
  last: number | null,
  volume: number | null,
  volumeQuote: number | null,
  derived: 0 | 1,
  decision: Decision,
];

export interface SourceBreakdown {
  source: string;
  /** The JSON document described above, or `{"tolerance": t, "omitted": true}` when too large. */
  data: string;
  /** The source's document was too large: `data` only says so. */
  omitted?: true;
}

interface Document {
  tolerance: number;
  price: Record<string, [number | null, PriceEntry[]]>;
  volume: Record<string, VolumeEntry[]>;
}

/** JSON has no NaN or Infinity: such values (never used) are written as null. */
const raw = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? value : null);

export function breakdownsBySource(
  outcomes: readonly MarketOutcome[],
  medians: ReadonlyMap<string, number>,
  sourceOf: (market: MarketSummary) => string | undefined,
  tolerance: number,
): SourceBreakdown[] {
  const documents = new Map<string, Document>();
  outcomes.forEach(({ market, price, deviation, base, quote }, seq) => {
    const source = sourceOf(market);
    if (source === undefined) return;
    let document = documents.get(source);
    if (!document) {
      // Objects without a prototype: a symbol such as "constructor" is just a key.
      document = { tolerance, price: Object.create(null), volume: Object.create(null) };
      documents.set(source, document);
    }
    const values = [raw(market.last), raw(market.volume), raw(market.volumeQuote), market.volumeQuoteDerived ? 1 : 0] as const;
    const pair = (document.price[market.pair] ??= [medians.get(market.pair) ?? null, []]);
    pair[1].push([seq, market.exchange, ...values, price, deviation]);
    (document.volume[market.base] ??= []).push([seq, market.exchange, market.pair, 0, ...values, base]);
    (document.volume[market.quote] ??= []).push([seq, market.exchange, market.pair, 1, ...values, quote]);
  });
  return [...documents].map(([source, document]) => {
    const data = JSON.stringify(document);
    if (data.length <= BREAKDOWN_MAX_CHARS) return { source, data };
    return { source, data: JSON.stringify({ tolerance, omitted: true }), omitted: true as const };
  });
}

/** One source's entries for one metric, as the storage returns them. */
export interface StoredEntries {
  source: string;
  /** JSON text of the metric's entries in the source's document, or null. */
  entries: string | null;
}

export interface PriceMarket {
  exchange: string;
  source: string;
  last: number | null;
  base_volume: number | null;
  quote_volume: number | null;
  quote_volume_derived: boolean;
  included: boolean;
  reason: Exclude<Decision, "included"> | null;
  deviation: number | null;
}

export interface VolumeMarket extends Omit<PriceMarket, "deviation"> {
  pair: string;
  side: "base" | "quote";
  amount: number | null;
}

const reasonOf = (decision: Decision) => (decision === "included" ? null : decision);

/** A pair's markets across sources, in aggregation order, and its median. */
export function priceMarkets(rows: readonly StoredEntries[]): { median: number | null; markets: PriceMarket[] } {
  let median: number | null = null;
  const entries: [string, PriceEntry][] = [];
  for (const row of rows) {
    if (row.entries === null) continue;
    const [pairMedian, list] = JSON.parse(row.entries) as [number | null, PriceEntry[]];
    median ??= pairMedian;
    for (const entry of list) entries.push([row.source, entry]);
  }
  entries.sort((a, b) => a[1][0] - b[1][0]);
  const markets = entries.map(([source, [, exchange, last, volume, volumeQuote, derived, decision, deviation]]) => ({
    exchange,
    source,
    last,
    base_volume: volume,
    quote_volume: volumeQuote,
    quote_volume_derived: derived === 1,
    included: decision === "included",
    reason: reasonOf(decision),
    deviation,
  }));
  return { median, markets };
}

/** An asset's markets across sources, in aggregation order (a market's base side before its quote side). */
export function volumeMarkets(rows: readonly StoredEntries[]): VolumeMarket[] {
  const entries: [string, VolumeEntry][] = [];
  for (const row of rows) {
    if (row.entries === null) continue;
    for (const entry of JSON.parse(row.entries) as VolumeEntry[]) entries.push([row.source, entry]);
  }
  entries.sort((a, b) => a[1][0] - b[1][0] || a[1][3] - b[1][3]);
  return entries.map(([source, [, exchange, pair, side, last, volume, volumeQuote, derived, decision]]) => ({
    exchange,
    source,
    pair,
    side: side === 0 ? "base" : "quote",
    last,
    base_volume: volume,
    quote_volume: volumeQuote,
    quote_volume_derived: derived === 1,
    amount: decision === "included" ? (side === 0 ? volume : volumeQuote) : null,
    included: decision === "included",
    reason: reasonOf(decision),
  }));
}
