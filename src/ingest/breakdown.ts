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
import type { Entry, SourceBreakdown } from "../domain/breakdown";
import type { MarketOutcome, MarketSummary } from "../domain/market";
import { utf8Length } from "../lib/utf8";

/** D1 keeps at most 2,000,000 bytes (UTF-8) per value; a source whose document would be larger is described as omitted. */
export const BREAKDOWN_MAX_BYTES = 1_900_000;

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
