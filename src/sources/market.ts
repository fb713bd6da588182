/** Helpers the exchange sources share to build MarketSummary lists. */
import { normalisePair } from "./aliases";
import { isRecord } from "./http";
import type { MarketSummary, SourceReading } from "./types";

/** Counts the markets a source could not use, by reason. */
export class Drops {
  readonly counts: Record<string, number> = {};
  add(reason: string): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1;
  }
}

const positive = (value: number | undefined): value is number =>
  value !== undefined && Number.isFinite(value) && value > 0;

/**
 * For exchanges that report no 24 h quote volume: base volume x VWAP where the
 * exchange gives a usable VWAP, else x last price; undefined when either
 * factor is missing (aggregation then counts nothing for the quote side).
 */
export function derivedQuoteVolume(
  volume: number | undefined,
  vwap: number | undefined,
  last: number | undefined,
): number | undefined {
  if (volume === undefined) return undefined;
  const price = positive(vwap) ? vwap : positive(last) ? last : undefined;
  return price === undefined ? undefined : volume * price;
}

/** A market as an upstream names it: a MarketSummary before its symbol is made. */
export type RawMarket = Omit<MarketSummary, "exchange" | "pair">;

/**
 * A market in our vocabulary, or undefined (counted as "unsupported_symbol")
 * when its codes cannot make a symbol.
 */
export function marketSummary(source: string, exchange: string, raw: RawMarket, drops: Drops): MarketSummary | undefined {
  const names = normalisePair(source, raw.base, raw.quote);
  if (!names) {
    drops.add("unsupported_symbol");
    return undefined;
  }
  const market: MarketSummary = { exchange, ...names, last: raw.last, volume: raw.volume, volumeQuote: raw.volumeQuote };
  if (raw.volumeQuoteDerived) market.volumeQuoteDerived = true;
  return market;
}

export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}`;
}

/**
 * Tickers that name their market "BASE-QUOTE" (OKX, KuCoin): `fields` picks the
 * name, the market type when the exchange gives one, and the values out of one
 * ticker. A ticker that is no object or whose name has no dash is malformed; a
 * name with more dashes ("BTC-USD-SWAP", "BTC-USD-250328") or a market type
 * other than "SPOT" is a derivative, dropped as not spot.
 */
export function dashedTickers(
  source: string,
  exchange: string,
  tickers: readonly unknown[],
  fields: (ticker: Record<string, unknown>) => { name: unknown; marketType?: unknown } & Omit<RawMarket, "base" | "quote">,
): SourceReading {
  const drops = new Drops();
  const markets: MarketSummary[] = [];
  for (const ticker of tickers) {
    const picked = isRecord(ticker) ? fields(ticker) : undefined;
    const parts = typeof picked?.name === "string" ? picked.name.split("-") : [];
    if (!picked || parts.length < 2) {
      drops.add("malformed_market");
      continue;
    }
    const { name: _name, marketType, ...values } = picked;
    if (parts.length > 2 || (marketType !== undefined && marketType !== "SPOT")) {
      drops.add("not_spot");
      continue;
    }
    const market = marketSummary(source, exchange, { base: parts[0]!, quote: parts[1]!, ...values }, drops);
    if (market) markets.push(market);
  }
  return { markets, dropped: drops.counts };
}
