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

export interface RawMarket {
  base: string;
  quote: string;
  last: number | undefined;
  volume: number | undefined;
  volumeQuote: number | undefined;
}

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
  return { exchange, ...names, last: raw.last, volume: raw.volume, volumeQuote: raw.volumeQuote };
}

export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, "")}${path}`;
}

/**
 * Tickers that name their market "BASE-QUOTE" (OKX, KuCoin): `fields` picks the
 * name and values out of one ticker; a ticker that is no object or whose name
 * does not split in two is counted as malformed.
 */
export function dashedTickers(
  source: string,
  exchange: string,
  tickers: readonly unknown[],
  fields: (ticker: Record<string, unknown>) => { name: unknown } & Omit<RawMarket, "base" | "quote">,
): SourceReading {
  const drops = new Drops();
  const markets: MarketSummary[] = [];
  for (const ticker of tickers) {
    const picked = isRecord(ticker) ? fields(ticker) : undefined;
    const parts = typeof picked?.name === "string" ? picked.name.split("-") : [];
    if (!picked || parts.length !== 2) {
      drops.add("malformed_market");
      continue;
    }
    const { name: _name, ...values } = picked;
    const market = marketSummary(source, exchange, { base: parts[0]!, quote: parts[1]!, ...values }, drops);
    if (market) markets.push(market);
  }
  return { markets, dropped: drops.counts };
}
