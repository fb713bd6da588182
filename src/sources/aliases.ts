/**
 * One vocabulary for asset symbols: lower-case, as Cryptowatch wrote them
 * (btc, usd, usdt, doge). Exchanges that use other codes for the same asset
 * are mapped here, per source, because a code can mean different assets on
 * different exchanges (Bitfinex's UST is Tether; Kraken's UST is TerraUSD).
 */
import { assetCode, isSymbol, pairSymbol } from "../lib/symbol";

/** Per source: the exchange's code (upper-case) -> our symbol. */
export const ASSET_ALIASES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  kraken: {
    XBT: "btc",
    XDG: "doge",
    // Kraken's legacy asset codes, X-prefixed for crypto and Z-prefixed for
    // fiat, as AssetPairs' base/quote fields still give them. A general
    // "strip X/Z" rule would break XTZ, ZRX, ZEUS..., so they are listed.
    XXBT: "btc",
    XXDG: "doge",
    XETH: "eth",
    XETC: "etc",
    XLTC: "ltc",
    XMLN: "mln",
    XREP: "rep",
    XXLM: "xlm",
    XXMR: "xmr",
    XXRP: "xrp",
    XZEC: "zec",
    ZUSD: "usd",
    ZEUR: "eur",
    ZGBP: "gbp",
    ZJPY: "jpy",
    ZCAD: "cad",
    ZAUD: "aud",
  },
  bitfinex: {
    UST: "usdt",
    UDC: "usdc",
    EUT: "eurt",
    DSH: "dash",
    IOT: "iota",
    QTM: "qtum",
    MNA: "mana",
    DAT: "data",
    QSH: "qash",
    YYW: "yoyow",
    ALG: "algo",
    BCHN: "bch",
  },
};

/**
 * Our symbol for an exchange's asset code, or undefined when the code is not
 * ASCII of the symbol alphabet (checked before case-folding: src/lib/symbol.ts).
 */
export function normaliseAsset(source: string, code: string): string | undefined {
  const upper = assetCode(code);
  if (upper === undefined) return undefined;
  const symbol = ASSET_ALIASES[source]?.[upper] ?? upper.toLowerCase();
  return isSymbol(symbol) ? symbol : undefined;
}

export interface NormalisedPair {
  pair: string;
  base: string;
  quote: string;
}

/**
 * base + quote, normalised; undefined when a code is empty, has characters
 * no symbol may have, or the pair symbol would be longer than a symbol may be.
 */
export function normalisePair(source: string, base: string, quote: string): NormalisedPair | undefined {
  const b = normaliseAsset(source, base);
  const q = normaliseAsset(source, quote);
  const pair = b !== undefined && q !== undefined ? pairSymbol(b, q) : undefined;
  return pair === undefined ? undefined : { pair, base: b!, quote: q! };
}
