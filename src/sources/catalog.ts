/**
 * Exchange metadata (which symbol is which base and quote) kept in D1, so that
 * a tick parses only the tickers: the large metadata call is made when the
 * stored copy is an hour old, or when a ticker names a symbol it lacks (at most
 * once per tick; a symbol still unknown after that refresh does not trigger
 * another one before the hour is up).
 */
import { loadCatalogEntry, saveCatalog } from "../storage/catalogs";
import type { SourceContext } from "./types";

export const CATALOG_MAX_AGE_MS = 60 * 60 * 1000;

/** Exchange symbol -> [base, quote] as the exchange writes them, or null: listed, not trading. */
export type PairCatalog = Record<string, [base: string, quote: string] | null>;

interface StoredCatalog {
  pairs: PairCatalog;
  /** Symbols the tickers named that the last refresh did not know. */
  missing: string[];
}

export async function pairCatalog(
  ctx: SourceContext,
  source: string,
  symbols: readonly string[],
  fetchPairs: () => Promise<PairCatalog>,
): Promise<PairCatalog> {
  const stored = await loadCatalogEntry(ctx.db, source);
  if (stored && ctx.now - stored.fetchedAt < CATALOG_MAX_AGE_MS) {
    const { pairs, missing } = stored.catalog as unknown as StoredCatalog;
    const missingSet = new Set(missing);
    if (symbols.every((symbol) => Object.hasOwn(pairs, symbol) || missingSet.has(symbol))) return pairs;
  }
  const pairs = await fetchPairs();
  const missing = symbols.filter((symbol) => !Object.hasOwn(pairs, symbol));
  const catalog: StoredCatalog = { pairs, missing };
  await saveCatalog(ctx.db, source, catalog as unknown as Record<string, unknown>, ctx.now);
  return pairs;
}

/** The catalogue's entry for a symbol: a pair, null (not trading) or undefined (unknown). */
export function lookup(catalog: PairCatalog, symbol: string): [string, string] | null | undefined {
  return Object.hasOwn(catalog, symbol) ? catalog[symbol] : undefined;
}
