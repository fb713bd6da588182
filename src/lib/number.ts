/**
 * Strict reading of the numbers upstreams send, and the bounds a stored value
 * must keep. Exchanges send decimals as JSON numbers or as strings ("123.45",
 * "8.12E-6": Java's Double.toString writes every value below 1e-3 in exponent
 * notation); anything else (hex, blanks, "NaN", "Infinity", booleans, arrays,
 * objects) is no number. Whether a number is usable is aggregation's call (src/ingest/aggregate.ts).
 */

/**
 * The largest magnitude of a value the tracker keeps: any market value (price,
 * volume, quote volume) and any aggregated point. Real data stays far below it
 * (24 h volumes of meme coins in base units reach ~1e16, prices in the weakest
 * fiat ~1e10), and a metric's rank sums over a day of points at this bound
 * (1,440 x (1e24)^2 ~ 1e51) stay finite with room to spare.
 */
export const MAX_VALUE = 1e24;
/** The smallest positive price kept (a price in BTC of the cheapest tokens is ~1e-12). */
export const MIN_PRICE = 1e-24;

/**
 * Exactly the grammar of a JSON number (RFC 8259, section 6), exponent included:
 * no leading "+", no leading zero ("01"), digits on both sides of a point ("1.", ".5" are not numbers).
 */
const DECIMAL = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;

/** A JSON number as is; anything else (strings included) is no number. -0 reads as 0. */
export function jsonNumber(value: unknown): number | undefined {
  return typeof value === "number" ? value + 0 : undefined;
}

/**
 * A JSON number, or a string that is exactly a JSON number ("123.45", "-1.5e-7",
 * "8.12E-6", "1e+3"), with no blanks, hex, "NaN" or "Infinity". A decimal too large for a double
 * ("1e309") reads as Infinity, for aggregation to count as non-finite. -0 reads as 0.
 */
export function decimal(value: unknown): number | undefined {
  if (typeof value === "number") return value + 0;
  if (typeof value === "string" && DECIMAL.test(value)) return Number(value) + 0;
  return undefined;
}
