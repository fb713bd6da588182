/**
 * The one symbol grammar: what the API accepts in a path and what a source may
 * turn into a metric. A symbol is 1-64 characters of a-z, 0-9, '.', '_' or
 * '-', starting with a letter or digit. An exchange's code is checked as ASCII
 * before it is case-folded, because folding is not ASCII-safe: "ſ" (long s)
 * upper-cases to "S" and "K" (Kelvin sign) lower-cases to "k", so "ſhib" must
 * be refused, not read as "shib".
 */

export const SYMBOL_MAX_LENGTH = 64;
/** The grammar itself; the OpenAPI document derives its patterns from it. */
export const SYMBOL = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** An exchange's asset code before folding: the same alphabet, either case. */
const ASSET_CODE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const SYMBOL_RULE = "1-64 characters of a-z, 0-9, '.', '_' or '-'";

/** Whether `name` is a symbol the API serves (already lower-case). */
export function isSymbol(name: string): boolean {
  return SYMBOL.test(name);
}

/**
 * An exchange's asset code, trimmed and upper-cased, or undefined when it has
 * any character outside the ASCII alphabet of symbols (checked before folding).
 */
export function assetCode(code: string): string | undefined {
  const trimmed = code.trim();
  return ASSET_CODE.test(trimmed) ? trimmed.toUpperCase() : undefined;
}

/**
 * The pair symbol of base + quote (both already symbols), or undefined when
 * the joined name would not be one (too long).
 */
export function pairSymbol(base: string, quote: string): string | undefined {
  if (!isSymbol(base) || !isSymbol(quote)) return undefined;
  const pair = base + quote;
  return isSymbol(pair) ? pair : undefined;
}

/**
 * A market's identity: exchange, pair symbol, base and quote kept apart, so
 * that "ab" + "cd" and "abc" + "d" (both the pair symbol "abcd") are different
 * markets, and so are two pairs of one base and quote (bitFlyer's "btcjpy" and
 * "btcfxjpy").
 */
export function marketKey(market: { exchange: string; pair: string; base: string; quote: string }): string {
  return JSON.stringify([market.exchange, market.pair, market.base, market.quote]);
}

/**
 * A symbol as a client or an exchange may write it, in either case: the
 * lower-case symbol, or undefined when it is not one. ASCII is checked first.
 */
export function foldSymbol(name: string): string | undefined {
  return ASSET_CODE.test(name) ? name.toLowerCase() : undefined;
}
