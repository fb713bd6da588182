/**
 * Cryptowatch REST API (docs.cryptowat.ch/rest-api): GET /markets/summaries for
 * every market, GET /pairs to split a pair symbol into base and quote.
 */
import { loadCatalog, saveCatalog } from "../storage/catalogs";
import { jsonNumber } from "../lib/number";
import { getJson, isRecord } from "./http";
import { Drops, joinUrl } from "./market";
import { UpstreamError, type MarketSummary, type Source, type SourceContext } from "./types";

const NAME = "cryptowatch";
/** Guards against an upstream whose cursor never ends. */
const MAX_PAIR_PAGES = 100;

type PairCatalog = Record<string, [base: string, quote: string]>;

export interface CryptowatchOptions {
  baseUrl: string;
  apiKey?: string;
}

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
        const { symbol } = pair;
        const base = pair.base.symbol;
        const quote = pair.quote.symbol;
        if (typeof symbol === "string" && typeof base === "string" && typeof quote === "string") {
          catalog[symbol.toLowerCase()] = [base.toLowerCase(), quote.toLowerCase()];
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
        entries.push({
          exchange: key.slice(0, colon).toLowerCase(),
          pair: key.slice(colon + 1).toLowerCase(),
          summary,
        });
      }

      let catalog = ((await loadCatalog(ctx.db, NAME)) ?? {}) as PairCatalog;
      if (entries.some((entry) => !Object.hasOwn(catalog, entry.pair))) {
        catalog = await fetchPairs(ctx);
        await saveCatalog(ctx.db, NAME, catalog, ctx.now);
      }

      const markets: MarketSummary[] = [];
      for (const { exchange, pair, summary } of entries) {
        const split = Object.hasOwn(catalog, pair) ? catalog[pair] : undefined;
        if (split === undefined) {
          drops.add("unknown_pair");
          continue;
        }
        const price = isRecord(summary.price) ? summary.price : {};
        markets.push({
          exchange,
          pair,
          base: split[0],
          quote: split[1],
          last: jsonNumber(price.last),
          volume: jsonNumber(summary.volume),
          volumeQuote: jsonNumber(summary.volumeQuote),
        });
      }
      return { markets, dropped: drops.counts, info: isRecord(body.allowance) ? { allowance: body.allowance } : undefined };
    },
  };
}
