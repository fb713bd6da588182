/**
 * SCRATCH: a made-up exchange proving the registry: GET /v1/tickers answers
 * [{"id": "BTC-USD", "last", "vol", "volQuote"}].
 */
import { decimal } from "../lib/number";
import { getJson } from "./http";
import { dashedTickers, joinUrl } from "./market";
import { UpstreamError, type Source } from "./types";

const NAME = "dummyx";

export function dummyx(options: { baseUrl: string }): Source {
  return {
    name: NAME,
    async read(ctx) {
      const body = await getJson(ctx, NAME, joinUrl(options.baseUrl, "/v1/tickers"));
      if (!Array.isArray(body)) throw new UpstreamError(NAME, "tickers: expected an array of tickers");
      return dashedTickers(NAME, NAME, body, (ticker) => ({
        name: ticker.id,
        last: decimal(ticker.last),
        volume: decimal(ticker.vol),
        volumeQuote: decimal(ticker.volQuote),
      }));
    },
  };
}

export const definition = { name: NAME, defaultUrl: "https://api.dummyx.example", create: dummyx } as const;
