/**
 * Cryptowatch REST API (docs.cryptowat.ch/rest-api): GET /markets/summaries for
 * every market ("<exchange>:<pair>"), GET /pairs to split a pair symbol into
 * base and quote, kept in D1 like the exchanges' metadata (src/sources/catalog.ts).
 * A pair's symbol is its identity and names its price metric: bitFlyer's
 * `btcjpy` (spot) and `btcfxjpy` (FX_BTC_JPY) share base `btc` and quote `jpy`
 * and are two markets, two metrics.
 * Futures share the summaries: a pair whose /pairs entry has a `futuresType`
 * or whose symbol carries a suffix ("btcusd-perpetual-future-inverse") is not
 * spot. A pair symbol outside the symbol grammar (src/lib/symbol.ts) is dropped
 * as "unsupported_symbol" before anything else.
 */
import { jsonNumber } from "../lib/number";
import { foldSymbol } from "../lib/symbol";
import { normalisePair } from "./aliases";
import { catalogInfo, lookup, pairCatalog, type PairCatalog } from "./catalog";
import { getJson, isRecord } from "./http";
import { Drops, joinUrl } from "./market";
import { UpstreamError, type MarketSummary, type Source, type SourceContext } from "./types";

const NAME = "cryptowatch";
/** Guards against an upstream whose cursor never ends. */
const MAX_PAIR_PAGES = 100;

export interface CryptowatchOptions {
  baseUrl: string;
  apiKey?: string;
}

const isFutures = (pair: Record<string, unknown>, symbol: string) =>
  (typeof pair.futuresType === "string" && pair.futuresType !== "") || symbol.includes("-");

export function cryptowatch(options: CryptowatchOptions): Source {
  const headers: Record<string, string> = options.apiKey ? { "X-CW-API-Key": options.apiKey } : {};
  const url = (path: string) => joinUrl(options.baseUrl, path);

  async function fetchPairs(ctx: SourceContext): Promise<PairCatalog> {
    const catalog: PairCatalog = {};
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAIR_PAGES; page++) {
      const query = cursor === undefined ? "" : `?cursor=${encodeURIComponent(cursor)}`;
      const body = await getJson(ctx, NAME, url(`/pairs${query}`), headers);
      if (!isRecord(body) || !Array.isArray(body.result)) {
        throw new UpstreamError(NAME, "/pairs: expected {result: [...]}");
      }
      for (const pair of body.result) {
        if (!isRecord(pair) || !isRecord(pair.base) || !isRecord(pair.quote)) continue;
        const symbol = typeof pair.symbol === "string" ? foldSymbol(pair.symbol) : undefined;
        const base = pair.base.symbol;
        const quote = pair.quote.symbol;
        if (symbol !== undefined && typeof base === "string" && typeof quote === "string") {
          catalog[symbol] = isFutures(pair, symbol) ? "not_spot" : [base, quote];
        }
      }
      const next = isRecord(body.cursor) && body.cursor.hasMore === true ? body.cursor.last : undefined;
      if (typeof next !== "string" || next === "") return catalog;
      cursor = next;
    }
    throw new UpstreamError(NAME, `/pairs: more than ${MAX_PAIR_PAGES} pages`);
  }

  return {
    name: NAME,
    async read(ctx) {
      const body = await getJson(ctx, NAME, url("/markets/summaries"), headers);
      if (!isRecord(body) || !isRecord(body.result)) {
        throw new UpstreamError(NAME, "/markets/summaries: expected {result: {...}}");
      }
      const drops = new Drops();

      const entries: { exchange: string; pair: string; summary: Record<string, unknown> }[] = [];
      for (const [key, summary] of Object.entries(body.result)) {
        // "<exchange>:<pair>"; exchange names may contain hyphens, never a colon.
        const colon = key.lastIndexOf(":");
        if (colon <= 0 || colon === key.length - 1 || !isRecord(summary)) {
          drops.add("malformed_market");
          continue;
        }
        const pair = foldSymbol(key.slice(colon + 1));
        if (pair === undefined) {
          drops.add("unsupported_symbol");
          continue;
        }
        entries.push({ exchange: key.slice(0, colon).toLowerCase(), pair, summary });
      }

      const catalog = await pairCatalog(ctx, NAME, [...new Set(entries.map((entry) => entry.pair))], () => fetchPairs(ctx));

      const markets: MarketSummary[] = [];
      for (const { exchange, pair, summary } of entries) {
        const split = lookup(catalog.pairs, pair);
        if (typeof split === "string") {
          drops.add(split);
          continue;
        }
        const names = normalisePair(NAME, split[0], split[1]);
        if (!names) {
          drops.add("unsupported_symbol");
          continue;
        }
        const price = isRecord(summary.price) ? summary.price : {};
        markets.push({
          exchange,
          pair,
          base: names.base,
          quote: names.quote,
          last: jsonNumber(price.last),
          volume: jsonNumber(summary.volume),
          volumeQuote: jsonNumber(summary.volumeQuote),
        });
      }
      const info = { ...(isRecord(body.allowance) ? { allowance: body.allowance } : {}), ...catalogInfo(catalog) };
      return { markets, dropped: drops.counts, info: Object.keys(info).length > 0 ? info : undefined };
    },
  };
}

/** Its entry in the registry: an optional API key secret; retired upstream in 2023, so read only when SOURCES names it. */
export const definition = { name: NAME, defaultUrl: "https://api.cryptowat.ch", apiKeyVar: "CRYPTOWATCH_API_KEY", retired: true, create: cryptowatch } as const;
