/**
 * Bitstamp (www.bitstamp.net/api): GET /api/v2/ticker/ answers every market
 * ({"pair": "BTC/USD", "market_type": "SPOT", "last", "volume" in base units,
 * "vwap"}), perpetual futures included ("market_type": "PERPETUAL", pair
 * "BTC/USD-PERP"): those are dropped. No quote volume: derived as volume x
 * vwap (x last when vwap is missing or 0).
 */
import { decimal } from "../lib/number";
import { getJson, isRecord } from "./http";
import { derivedQuoteVolume, Drops, joinUrl, marketSummary } from "./market";
import { UpstreamError, type MarketSummary, type Source } from "./types";

const NAME = "bitstamp";
const EXCHANGE = "bitstamp";

export function bitstamp(options: { baseUrl: string }): Source {
  return {
    name: NAME,
    async read(ctx) {
      const body = await getJson(ctx, NAME, joinUrl(options.baseUrl, "/api/v2/ticker/"));
      if (!Array.isArray(body)) throw new UpstreamError(NAME, "/api/v2/ticker/: expected an array of tickers");
      const drops = new Drops();
      const markets: MarketSummary[] = [];
      for (const ticker of body) {
        const parts = isRecord(ticker) && typeof ticker.pair === "string" ? ticker.pair.split("/") : [];
        if (!isRecord(ticker) || parts.length !== 2) {
          drops.add("malformed_market");
          continue;
        }
        // The all-tickers call lists perpetual futures too: market_type "PERPETUAL", pairs "BTC/USD-PERP".
        if ((ticker.market_type !== undefined && ticker.market_type !== "SPOT") || parts[1]!.toUpperCase().endsWith("-PERP")) {
          drops.add("not_spot");
          continue;
        }
        const last = decimal(ticker.last);
        const volume = decimal(ticker.volume);
        const market = marketSummary(NAME, EXCHANGE, {
          base: parts[0]!,
          quote: parts[1]!,
          last,
          volume,
          volumeQuote: derivedQuoteVolume(volume, decimal(ticker.vwap), last),
          volumeQuoteDerived: true,
        }, drops);
        if (market) markets.push(market);
      }
      return { markets, dropped: drops.counts };
    },
  };
}

/** Its entry in the registry: SOURCES names it "bitstamp", BITSTAMP_API_URL moves it from its public host. */
export const definition = { name: NAME, defaultUrl: "https://www.bitstamp.net", create: bitstamp } as const;
