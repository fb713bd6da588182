/**
 * Binance spot (developers.binance.com): GET /api/v3/ticker/24hr?type=MINI for
 * every symbol ("lastPrice", "volume" (base), "quoteVolume"), GET
 * /api/v3/exchangeInfo for base, quote and status. Binance answers 451 or 403
 * to some regions and cloud networks: that is a failure of this source only.
 */
import { catalogInfo, lookup, pairCatalog, type PairCatalog } from "./catalog";
import { decimal } from "../lib/number";
import { getJson, isRecord } from "./http";
import { Drops, joinUrl, marketSummary } from "./market";
import { UpstreamError, type MarketSummary, type Source, type SourceContext } from "./types";

const NAME = "binance";
const EXCHANGE = "binance";

export function binance(options: { baseUrl: string }): Source {
  const url = (path: string) => joinUrl(options.baseUrl, path);

  async function get(ctx: SourceContext, path: string): Promise<unknown> {
    try {
      return await getJson(ctx, NAME, url(path));
    } catch (err) {
      if (err instanceof UpstreamError && (err.status === 451 || err.status === 403)) {
        throw new UpstreamError(NAME, `unavailable from this location (${err.message.replace(`${NAME}: `, "")})`, err.status);
      }
      throw err;
    }
  }

  async function fetchSymbols(ctx: SourceContext): Promise<PairCatalog> {
    // Without the permission sets (a list of ~20 permissions per symbol), the body is a fraction of its size.
    const body = await get(ctx, "/api/v3/exchangeInfo?showPermissionSets=false");
    if (!isRecord(body) || !Array.isArray(body.symbols)) throw new UpstreamError(NAME, "exchangeInfo: expected {symbols: [...]}");
    const catalog: PairCatalog = {};
    for (const info of body.symbols) {
      if (!isRecord(info) || typeof info.symbol !== "string") continue;
      const { baseAsset: base, quoteAsset: quote } = info;
      if (typeof base !== "string" || typeof quote !== "string") continue;
      catalog[info.symbol] = info.isSpotTradingAllowed === false ? "not_spot" : info.status === "TRADING" ? [base, quote] : null;
    }
    return catalog;
  }

  return {
    name: NAME,
    async read(ctx) {
      const body = await get(ctx, "/api/v3/ticker/24hr?type=MINI");
      if (!Array.isArray(body)) throw new UpstreamError(NAME, "ticker/24hr: expected an array of tickers");
      const symbols = body.flatMap((t) => (isRecord(t) && typeof t.symbol === "string" ? [t.symbol] : []));
      const catalog = await pairCatalog(ctx, NAME, symbols, () => fetchSymbols(ctx));
      const drops = new Drops();
      const markets: MarketSummary[] = [];
      for (const ticker of body) {
        if (!isRecord(ticker) || typeof ticker.symbol !== "string") {
          drops.add("malformed_market");
          continue;
        }
        const split = lookup(catalog.pairs, ticker.symbol);
        if (typeof split === "string") {
          drops.add(split);
          continue;
        }
        const market = marketSummary(NAME, EXCHANGE, {
          base: split[0],
          quote: split[1],
          last: decimal(ticker.lastPrice),
          volume: decimal(ticker.volume),
          volumeQuote: decimal(ticker.quoteVolume),
        }, drops);
        if (market) markets.push(market);
      }
      return { markets, dropped: drops.counts, info: catalogInfo(catalog) };
    },
  };
}

/** Its entry in the registry: SOURCES names it "binance", BINANCE_API_URL moves it from its public host. */
export const definition = { name: NAME, defaultUrl: "https://api.binance.com", create: binance } as const;
