/**
 * The per-market breakdown of a tick: every market a source delivered and
 * what became of it in aggregation (included, or why not: per price and per
 * volume side), as one JSON document per source. The tick stores them in its
 * own transaction, replacing the previous tick's (src/storage/breakdowns.ts);
 * GET .../markets picks one metric's markets out of them in SQL. Pure: no I/O.
 *
 * A document is
 *   { "tolerance": t, "markets": [Entry, ...],
 *     "index": { "price": { pair: [i, ...] }, "volume": { asset: [i, ...] } } }
 * with each market once, as an array (a tick describes thousands of markets
 * every minute: one JSON.stringify of arrays is the cheapest form), and for
 * each metric the places of its markets in `markets`, so that a read touches
 * only those (json_each rows count as rows read in D1).
 * `seq` is the market's place in the tick's aggregation: every mean and sum
 * ran in that order (a market's base side before its quote side).
 */
import type { Decision, MarketOutcome } from "./aggregate";
import type { MarketSummary } from "../sources/types";
import { utf8Length } from "../lib/utf8";

/** D1 keeps at most 2,000,000 bytes (UTF-8) per value; a source whose document would be larger is described as omitted. */
export const BREAKDOWN_MAX_BYTES = 1_900_000;

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

/** JSON has no NaN or Infinity (JSON.stringify would write null anyway: explicit here). */
const finite = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? value : null);

/** A JSON object of symbol -> places, written directly: JSON.stringify of an object with thousands of keys is slow. */
function indexText(index: Map<string, number[]>): string {
  const members: string[] = [];
  for (const [key, places] of index) members.push(`${JSON.stringify(key)}:[${places.join(",")}]`);
  return `{${members.join(",")}}`;
}

export function breakdownsBySource(
  outcomes: readonly MarketOutcome[],
  medians: ReadonlyMap<string, number>,
  sourceOf: (market: MarketSummary) => string | undefined,
  tolerance: number,
): SourceBreakdown[] {
  const documents = new Map<string, { markets: Entry[]; price: Map<string, number[]>; volume: Map<string, number[]> }>();
  const place = (index: Map<string, number[]>, key: string, i: number) => {
    const list = index.get(key);
    if (list) list.push(i);
    else index.set(key, [i]);
  };
  outcomes.forEach(({ market, price, deviation, base, quote }, seq) => {
    const source = sourceOf(market);
    if (source === undefined) return;
    let document = documents.get(source);
    if (!document) documents.set(source, (document = { markets: [], price: new Map(), volume: new Map() }));
    const i = document.markets.length;
    place(document.price, market.pair, i);
    place(document.volume, market.base, i);
    if (market.quote !== market.base) place(document.volume, market.quote, i);
    document.markets.push([
      seq,
      market.exchange,
      market.pair,
      market.base,
      market.quote,
      finite(market.last),
      finite(market.volume),
      finite(market.volumeQuote),
      market.volumeQuoteDerived ? 1 : 0,
      price,
      medians.get(market.pair) ?? null,
      deviation,
      base,
      quote,
    ]);
  });
  return [...documents].map(([source, { markets, price, volume }]) => {
    const data = `{"tolerance":${JSON.stringify(tolerance)},"markets":${JSON.stringify(markets)},"index":{"price":${indexText(price)},"volume":${indexText(volume)}}}`;
    if (utf8Length(data) <= BREAKDOWN_MAX_BYTES) return { source, data };
    return { source, data: JSON.stringify({ tolerance, omitted: true }), omitted: true as const };
  });
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
