/**
 * The source interface: every upstream turns its own payload into a list of
 * MarketSummary, so that aggregation, storage and the API never see an
 * exchange's format.
 */

/** One market (an exchange trading one pair), normalised. */
export interface MarketSummary {
  exchange: string;
  /**
   * Pair symbol, the market's identity and its price metric: lower-case base +
   * quote as Cryptowatch writes it ("btceur"), or the upstream's own symbol
   * where it names its pairs (Cryptowatch's "btcfxjpy": base btc, quote jpy).
   */
  pair: string;
  base: string;
  quote: string;
  /**
   * Last price, 24 h base volume and 24 h quote volume as the upstream gave
   * them, or undefined when missing or not a number. Aggregation decides what
   * counts (finite, positive...).
   */
  last: number | undefined;
  volume: number | undefined;
  volumeQuote: number | undefined;
  /** Set when the exchange reports no quote volume and the source derived it (base volume x VWAP or last). */
  volumeQuoteDerived?: true;
}

/** What a source read in one tick. */
export interface SourceReading {
  markets: MarketSummary[];
  /** Markets the source could not use, by reason ("unknown_pair": 3). */
  dropped: Record<string, number>;
  /** Anything worth logging about the call (Cryptowatch's allowance). */
  info?: Record<string, unknown>;
}

export interface SourceContext {
  /** Fetch with the tick's timeout already applied. */
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  db: D1Database;
  /** The source's timeout: aborts the reading of a body as well as the requests. */
  signal?: AbortSignal;
  /** The tick's time, epoch ms. */
  now: number;
}

export interface Source {
  name: string;
  read(ctx: SourceContext): Promise<SourceReading>;
}

/** A failure of an upstream: bad status, bad payload, rate limit... */
export class UpstreamError extends Error {
  constructor(
    readonly source: string,
    message: string,
    readonly status?: number,
  ) {
    super(`${source}: ${message}`);
    this.name = "UpstreamError";
  }
}
