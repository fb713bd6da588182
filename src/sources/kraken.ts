/**
 * Kraken spot (docs.kraken.com/api): GET /0/public/Ticker for every pair
 * (c[0] last, v[1] 24 h base volume, p[1] 24 h VWAP), GET /0/public/AssetPairs
 * for base and quote (wsname "XBT/USD"). Kraken reports errors as HTTP 200
 * with {"error": ["EAPI:Rate limit exceeded"]}.
 */
import { catalogInfo, lookup, pairCatalog, type PairCatalog } from "./catalog";
import { decimal } from "../lib/number";
import { getJson, isRecord } from "./http";
import { derivedQuoteVolume, Drops, joinUrl, marketSummary } from "./market";
import { UpstreamError, type MarketSummary, type Source, type SourceContext } from "./types";

const NAME = "kraken";
const EXCHANGE = "kraken";
/** Pairs Kraken still trades; cancel_only, reduce_only, delisted... are not. */
const TRADING = new Set(["online", "post_only", "limit_only"]);

async function krakenResult(ctx: SourceContext, url: string, what: string): Promise<Record<string, unknown>> {
  const body = await getJson(ctx, NAME, url);
  if (!isRecord(body)) throw new UpstreamError(NAME, `${what}: expected {error: [...], result: {...}}`);
  const errors = Array.isArray(body.error) ? body.error.filter((e) => typeof e === "string" && e.startsWith("E")) : [];
  if (errors.length > 0) throw new UpstreamError(NAME, `${what}: ${errors.join(", ")}`);
  if (!isRecord(body.result)) throw new UpstreamError(NAME, `${what}: expected {error: [...], result: {...}}`);
  return body.result;
}

/** "XBT/USD" from wsname, else the legacy codes in base/quote ("XXBT", "ZUSD"). */
function splitPair(info: Record<string, unknown>): [string, string] | undefined {
  if (typeof info.wsname === "string") {
    const parts = info.wsname.split("/");
    if (parts.length === 2 && parts[0] && parts[1]) return [parts[0], parts[1]];
  }
  if (typeof info.base === "string" && typeof info.quote === "string") return [info.base, info.quote];
  return undefined;
}

function nth(value: unknown, index: number): number | undefined {
  return Array.isArray(value) ? decimal(value[index]) : undefined;
}

export function kraken(options: { baseUrl: string }): Source {
  const url = (path: string) => joinUrl(options.baseUrl, path);

  async function fetchPairs(ctx: SourceContext): Promise<PairCatalog> {
    const result = await krakenResult(ctx, url("/0/public/AssetPairs"), "AssetPairs");
    const catalog: PairCatalog = {};
    for (const [name, info] of Object.entries(result)) {
      if (!isRecord(info)) continue;
      // Dark-pool books ("XXBTZUSD.d") are not the public spot market.
      if (name.endsWith(".d")) {
        catalog[name] = "not_spot";
        continue;
      }
      const split = splitPair(info);
      if (!split) continue;
      const trading = info.status === undefined || (typeof info.status === "string" && TRADING.has(info.status));
      catalog[name] = trading ? split : null;
    }
    return catalog;
  }

  return {
    name: NAME,
    async read(ctx) {
      const tickers = await krakenResult(ctx, url("/0/public/Ticker"), "Ticker");
      const catalog = await pairCatalog(ctx, NAME, Object.keys(tickers), () => fetchPairs(ctx));
      const drops = new Drops();
      const markets: MarketSummary[] = [];
      for (const [name, ticker] of Object.entries(tickers)) {
        const split = lookup(catalog.pairs, name);
        if (typeof split === "string") drops.add(split);
        else if (!isRecord(ticker)) drops.add("malformed_market");
        else {
          const last = nth(ticker.c, 0);
          const volume = nth(ticker.v, 1);
          const market = marketSummary(NAME, EXCHANGE, {
            base: split[0],
            quote: split[1],
            last,
            volume,
            volumeQuote: derivedQuoteVolume(volume, nth(ticker.p, 1), last),
            volumeQuoteDerived: true,
          }, drops);
          if (market) markets.push(market);
        }
      }
      return { markets, dropped: drops.counts, info: catalogInfo(catalog) };
    },
  };
}

/** Its entry in the registry: SOURCES names it "kraken", KRAKEN_API_URL moves it from its public host. */
export const definition = { name: NAME, defaultUrl: "https://api.kraken.com", create: kraken } as const;
