/**
 * Bitfinex (docs.bitfinex.com, v2): GET /v2/tickers?symbols=ALL answers arrays.
 * A trading pair is [SYMBOL, BID, BID_SIZE, ASK, ASK_SIZE, DAILY_CHANGE,
 * DAILY_CHANGE_RELATIVE, LAST_PRICE, VOLUME, HIGH, LOW] with SYMBOL "tBTCUSD"
 * (two 3-letter codes) or "tTESTBTC:TESTUSD" (longer codes, colon-separated);
 * funding rows ("fUSD") are not markets and are left out. VOLUME is in base
 * units; no VWAP, no quote volume: derived as volume x last.
 */
import { jsonNumber } from "../lib/number";
import { getJson } from "./http";
import { derivedQuoteVolume, Drops, joinUrl, marketSummary } from "./market";
import { UpstreamError, type MarketSummary, type Source } from "./types";

const NAME = "bitfinex";
const EXCHANGE = "bitfinex";
const LAST_PRICE = 7;
const VOLUME = 8;

/** "tBTCUSD" -> ["BTC", "USD"]; "tTESTBTC:TESTUSD" -> ["TESTBTC", "TESTUSD"]. */
export function splitBitfinexSymbol(symbol: string): [string, string] | undefined {
  const body = symbol.slice(1);
  if (body.includes(":")) {
    const parts = body.split(":");
    return parts.length === 2 && parts[0] && parts[1] ? [parts[0], parts[1]] : undefined;
  }
  return body.length === 6 ? [body.slice(0, 3), body.slice(3)] : undefined;
}

export function bitfinex(options: { baseUrl: string }): Source {
  return {
    name: NAME,
    async read(ctx) {
      const body = await getJson(ctx, NAME, joinUrl(options.baseUrl, "/v2/tickers?symbols=ALL"));
      if (!Array.isArray(body)) throw new UpstreamError(NAME, "tickers: expected an array of tickers");
      if (body[0] === "error") throw new UpstreamError(NAME, `tickers: ${body.slice(1).join(" ")}`);
      const drops = new Drops();
      const markets: MarketSummary[] = [];
      for (const row of body) {
        const symbol = Array.isArray(row) ? row[0] : undefined;
        if (typeof symbol === "string" && symbol.startsWith("f")) continue; // funding
        const split = typeof symbol === "string" && symbol.startsWith("t") ? splitBitfinexSymbol(symbol) : undefined;
        if (!Array.isArray(row) || row.length < 11 || !split) {
          drops.add("malformed_market");
          continue;
        }
        // Perpetual futures ("tBTCF0:USTF0") and the paper-trading pairs (TEST...).
        if (split.some((code) => code.endsWith("F0"))) {
          drops.add("not_spot");
          continue;
        }
        if (split.some((code) => code.startsWith("TEST"))) {
          drops.add("test_market");
          continue;
        }
        const last = jsonNumber(row[LAST_PRICE]);
        const volume = jsonNumber(row[VOLUME]);
        const market = marketSummary(NAME, EXCHANGE, {
          base: split[0],
          quote: split[1],
          last,
          volume,
          volumeQuote: derivedQuoteVolume(volume, undefined, last),
          volumeQuoteDerived: true,
        }, drops);
        if (market) markets.push(market);
      }
      return { markets, dropped: drops.counts };
    },
  };
}

/** Its entry in the registry: SOURCES names it "bitfinex", BITFINEX_API_URL moves it from its public host. */
export const definition = { name: NAME, defaultUrl: "https://api-pub.bitfinex.com", create: bitfinex } as const;
