/** Every source the tracker can read, by the name `SOURCES` selects it with. */
import type { TrackerEnv } from "../domain/env";
import { binance } from "./binance";
import { bitfinex } from "./bitfinex";
import { bitstamp } from "./bitstamp";
import { coinbase } from "./coinbase";
import { cryptowatch } from "./cryptowatch";
import { kraken } from "./kraken";
import { kucoin } from "./kucoin";
import { okx } from "./okx";
import type { Source } from "./types";

export interface SourceDefinition {
  /** The var holding the base URL, and the exchange's public host when it is unset. */
  urlVar: keyof TrackerEnv & `${string}_API_URL`;
  defaultUrl: string;
  create(baseUrl: string, env: TrackerEnv): Source;
}

export const SOURCES = {
  kraken: { urlVar: "KRAKEN_API_URL", defaultUrl: "https://api.kraken.com", create: (baseUrl) => kraken({ baseUrl }) },
  coinbase: {
    urlVar: "COINBASE_API_URL",
    defaultUrl: "https://api.exchange.coinbase.com",
    create: (baseUrl) => coinbase({ baseUrl }),
  },
  bitstamp: { urlVar: "BITSTAMP_API_URL", defaultUrl: "https://www.bitstamp.net", create: (baseUrl) => bitstamp({ baseUrl }) },
  okx: { urlVar: "OKX_API_URL", defaultUrl: "https://www.okx.com", create: (baseUrl) => okx({ baseUrl }) },
  kucoin: { urlVar: "KUCOIN_API_URL", defaultUrl: "https://api.kucoin.com", create: (baseUrl) => kucoin({ baseUrl }) },
  bitfinex: { urlVar: "BITFINEX_API_URL", defaultUrl: "https://api-pub.bitfinex.com", create: (baseUrl) => bitfinex({ baseUrl }) },
  binance: { urlVar: "BINANCE_API_URL", defaultUrl: "https://api.binance.com", create: (baseUrl) => binance({ baseUrl }) },
  cryptowatch: {
    urlVar: "CRYPTOWATCH_API_URL",
    defaultUrl: "https://api.cryptowat.ch",
    create: (baseUrl, env) => cryptowatch({ baseUrl, apiKey: env.CRYPTOWATCH_API_KEY || undefined }),
  },
} as const satisfies Record<string, SourceDefinition>;

export type SourceName = keyof typeof SOURCES;

/** What `SOURCES` means when unset: every live exchange (Cryptowatch was retired in 2023). */
export const DEFAULT_SOURCES: readonly SourceName[] = ["kraken", "coinbase", "bitstamp", "okx", "kucoin", "bitfinex", "binance"];

export function isSourceName(name: string): name is SourceName {
  return Object.hasOwn(SOURCES, name);
}
