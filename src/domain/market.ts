/** A market as every source delivers it, and what aggregation made of it. */

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

export type RejectReason = "duplicate" | "outlier" | "no_usable_value" | "non_finite" | "no_consensus" | "ambiguous_pair";

/** Whether a value of a market went into its metric, or why not. */
export type Decision = "included" | RejectReason;

/** One market's part in the tick: its price in its pair's mean, its volumes in its two assets'. */
export interface MarketOutcome {
  market: MarketSummary;
  price: Decision;
  /** last / median - 1, where the pair had a median and the market a usable price. */
  deviation: number | null;
  /** The base volume towards the base asset's volume, the quote volume towards the quote asset's. */
  base: Decision;
  quote: Decision;
}
