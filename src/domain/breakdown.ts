/**
 * A tick's per-market breakdown as stored: one document per source (written
 * by src/ingest/breakdown.ts, whose header describes it), each market an
 * `Entry` tuple; and the two readings of stored entries the API serves.
 */
import type { Decision } from "./market";

export type Entry = [
  seq: number,
  exchange: string,
  pair: string,
  base: string,
  quote: string,
  last: number | null,
  volume: number | null,
  volumeQuote: number | null,
  derived: 0 | 1,
  price: Decision,
  /** The pair's median, when the outlier rule applied. */
  median: number | null,
  deviation: number | null,
  baseSide: Decision,
  quoteSide: Decision,
];

export interface SourceBreakdown {
  source: string;
  /** The document, or `{"tolerance": t, "omitted": true}` when too large. */
  data: string;
  omitted?: true;
}

/** A market of one metric, as the storage picked it out of a source's document. */
export interface StoredEntry {
  source: string;
  /** JSON text of its Entry. */
  entry: string;
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

function inOrder(rows: readonly StoredEntry[]): [string, Entry][] {
  return rows.map((row): [string, Entry] => [row.source, JSON.parse(row.entry) as Entry]).sort((a, b) => a[1][0] - b[1][0]);
}

/** A pair's markets across sources, in aggregation order, and its median. */
export function priceMarkets(rows: readonly StoredEntry[]): { median: number | null; markets: PriceMarket[] } {
  const entries = inOrder(rows);
  const markets = entries.map(([source, [, exchange, , , , last, volume, volumeQuote, derived, decision, , deviation]]) => ({
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
  return { median: entries[0]?.[1][10] ?? null, markets };
}

/** An asset's markets across sources, in aggregation order (a market's base side before its quote side). */
export function volumeMarkets(rows: readonly StoredEntry[], asset: string): VolumeMarket[] {
  const markets: VolumeMarket[] = [];
  for (const [source, [, exchange, pair, base, quote, last, volume, volumeQuote, derived, , , , baseSide, quoteSide]] of inOrder(rows)) {
    const common = { exchange, source, pair, last, base_volume: volume, quote_volume: volumeQuote, quote_volume_derived: derived === 1 };
    if (base === asset) {
      markets.push({ ...common, side: "base", amount: baseSide === "included" ? volume : null, included: baseSide === "included", reason: reasonOf(baseSide) });
    }
    if (quote === asset) {
      markets.push({ ...common, side: "quote", amount: quoteSide === "included" ? volumeQuote : null, included: quoteSide === "included", reason: reasonOf(quoteSide) });
    }
  }
  return markets;
}
