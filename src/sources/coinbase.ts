/**
 * Coinbase Exchange (docs.cdp.coinbase.com/exchange): GET /products/stats for
 * every product's 24 h stats (stats_24hour.last, .volume in base units; no
 * quote volume: derived as volume x last), GET /products for base, quote and
 * status. Markets are reported as exchange "coinbase-pro", Cryptowatch's name
 * for the same exchange.
 */
import { catalogInfo, lookup, pairCatalog, type PairCatalog } from "./catalog";
import { decimal } from "../lib/number";
import { getJson, isRecord } from "./http";
import { derivedQuoteVolume, Drops, joinUrl, marketSummary } from "./market";
import { UpstreamError, type MarketSummary, type Source, type SourceContext } from "./types";

const NAME = "coinbase";
const EXCHANGE = "coinbase-pro";

export function coinbase(options: { baseUrl: string }): Source {
  const url = (path: string) => joinUrl(options.baseUrl, path);

  async function fetchProducts(ctx: SourceContext): Promise<PairCatalog> {
    const body = await getJson(ctx, NAME, url("/products"));
    if (!Array.isArray(body)) throw new UpstreamError(NAME, "/products: expected an array of products");
    const catalog: PairCatalog = {};
    for (const product of body) {
      if (!isRecord(product) || typeof product.id !== "string") continue;
      const { base_currency: base, quote_currency: quote } = product;
      if (typeof base !== "string" || typeof quote !== "string") continue;
      const trading = product.status === "online" && product.trading_disabled !== true && product.cancel_only !== true;
      catalog[product.id] = trading ? [base, quote] : null;
    }
    return catalog;
  }

  return {
    name: NAME,
    async read(ctx) {
      const stats = await getJson(ctx, NAME, url("/products/stats"));
      if (!isRecord(stats)) throw new UpstreamError(NAME, "/products/stats: expected {\"<product>\": {stats_24hour: {...}}}");
      const catalog = await pairCatalog(ctx, NAME, Object.keys(stats), () => fetchProducts(ctx));
      const drops = new Drops();
      const markets: MarketSummary[] = [];
      for (const [id, entry] of Object.entries(stats)) {
        const split = lookup(catalog.pairs, id);
        if (typeof split === "string") drops.add(split);
        else if (!isRecord(entry) || !isRecord(entry.stats_24hour)) drops.add("malformed_market");
        else {
          const last = decimal(entry.stats_24hour.last);
          const volume = decimal(entry.stats_24hour.volume);
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
      }
      return { markets, dropped: drops.counts, info: catalogInfo(catalog) };
    },
  };
}

/** Its entry in the registry: SOURCES names it "coinbase", COINBASE_API_URL moves it from its public host. */
export const definition = { name: NAME, defaultUrl: "https://api.exchange.coinbase.com", create: coinbase } as const;
