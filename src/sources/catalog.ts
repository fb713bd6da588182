/**
 * Exchange metadata (which symbol is which base and quote) kept in D1, so that
 * a tick parses only the tickers: the large metadata call is made when the
 * stored copy is an hour old, or when a ticker names a symbol it lacks (at most
 * once per tick; a symbol still unknown after that refresh does not trigger
 * another one before the hour is up).
 *
 * A failed refresh never fails the tickers while the stored copy is at most
 * CATALOG_FALLBACK_MAX_AGE_MS old: the tick maps what the stored copy knows,
 * counts the rest as "unknown_pair", and reports the fallback in the source's
 * `info` (logged). The symbols the stored copy lacks are remembered, so a
 * metadata endpoint that is down costs one request per tick at most.
 */
import { errorText } from "../lib/errors";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../lib/time";
import type { SourceContext } from "./types";

export const CATALOG_MAX_AGE_MS = HOUR_MS;
/** How old a stored catalogue may be and still stand in for a failed refresh. */
export const CATALOG_FALLBACK_MAX_AGE_MS = DAY_MS;

/**
 * Exchange symbol -> [base, quote] as the exchange writes them; null: listed,
 * not trading; "not_spot": a derivative or other non-spot instrument.
 */
export type CatalogEntry = [base: string, quote: string] | null | "not_spot";
export type PairCatalog = Record<string, CatalogEntry>;

interface StoredCatalog {
  pairs: PairCatalog;
  /** Symbols the tickers named that the last refresh did not know. */
  missing: string[];
}

export interface CatalogResult {
  pairs: PairCatalog;
  /** Set when a failed refresh was replaced by the stored copy: what failed and how old the copy is. */
  fallback?: { error: string; catalogue_age_minutes: number };
}

function isStoredCatalog(value: unknown): value is StoredCatalog {
  const catalog = value as Partial<StoredCatalog> | null;
  return typeof catalog === "object" && catalog !== null && typeof catalog.pairs === "object" && catalog.pairs !== null &&
    Array.isArray(catalog.missing);
}

export async function pairCatalog(
  ctx: SourceContext,
  source: string,
  symbols: readonly string[],
  fetchPairs: () => Promise<PairCatalog>,
): Promise<CatalogResult> {
  const entry = await ctx.catalogs.load(source);
  const stored = entry && isStoredCatalog(entry.catalog) ? { ...entry.catalog, fetchedAt: entry.fetchedAt } : undefined;
  const age = stored ? ctx.now - stored.fetchedAt : Infinity;
  if (stored && age < CATALOG_MAX_AGE_MS) {
    const missing = new Set(stored.missing);
    if (symbols.every((symbol) => Object.hasOwn(stored.pairs, symbol) || missing.has(symbol))) return { pairs: stored.pairs };
  }
  let pairs: PairCatalog;
  try {
    pairs = await fetchPairs();
  } catch (err) {
    if (!stored || age > CATALOG_FALLBACK_MAX_AGE_MS) throw err;
    if (age < CATALOG_MAX_AGE_MS) {
      // Fresh but incomplete: remember what it lacks, so the next ticks do not ask again before the hour is up.
      const missing = [...new Set([...stored.missing, ...symbols.filter((symbol) => !Object.hasOwn(stored.pairs, symbol))])];
      await save(ctx, source, { pairs: stored.pairs, missing }, stored.fetchedAt);
    }
    return { pairs: stored.pairs, fallback: { error: errorText(err), catalogue_age_minutes: Math.floor(age / MINUTE_MS) } };
  }
  const missing = symbols.filter((symbol) => !Object.hasOwn(pairs, symbol));
  await save(ctx, source, { pairs, missing }, ctx.now);
  return { pairs };
}

function save(ctx: SourceContext, source: string, catalog: StoredCatalog, fetchedAt: number): Promise<void> {
  return ctx.catalogs.save(source, catalog as unknown as Record<string, unknown>, fetchedAt);
}

/** What a ticker's symbol is: its pair, or why it is dropped. */
export function lookup(catalog: PairCatalog, symbol: string): [string, string] | "unknown_pair" | "not_trading" | "not_spot" {
  if (!Object.hasOwn(catalog, symbol)) return "unknown_pair";
  const entry = catalog[symbol] as CatalogEntry;
  return entry === null ? "not_trading" : entry;
}

/** The `info` a source reports when its catalogue stood in for a failed refresh. */
export function catalogInfo(result: CatalogResult): Record<string, unknown> | undefined {
  return result.fallback ? { catalogue_fallback: result.fallback } : undefined;
}
