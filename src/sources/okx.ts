/**
 * OKX (www.okx.com/docs-v5): GET /api/v5/market/tickers?instType=SPOT answers
 * {"code": "0", "data": [{"instId": "BTC-USDT", "last", "vol24h" (base),
 * "volCcy24h" (quote)}]}; any other code is an error. A row of another
 * instType (SWAP, FUTURES...) or instId ("BTC-USD-SWAP") is dropped as not
 * spot. Markets are reported as exchange "okex", Cryptowatch's name for the
 * same exchange.
 */
import { decimal } from "../lib/number";
import { getJson, isRecord } from "./http";
import { dashedTickers, joinUrl } from "./market";
import { UpstreamError, type Source } from "./types";

const NAME = "okx";
const EXCHANGE = "okex";

export function okx(options: { baseUrl: string }): Source {
  return {
    name: NAME,
    async read(ctx) {
      const body = await getJson(ctx, NAME, joinUrl(options.baseUrl, "/api/v5/market/tickers?instType=SPOT"));
      if (!isRecord(body)) throw new UpstreamError(NAME, "tickers: expected {code, data: [...]}");
      if (body.code !== "0") throw new UpstreamError(NAME, `tickers: code ${String(body.code)}: ${String(body.msg ?? "")}`);
      if (!Array.isArray(body.data)) throw new UpstreamError(NAME, "tickers: expected {code, data: [...]}");
      return dashedTickers(NAME, EXCHANGE, body.data, (ticker) => ({
        name: ticker.instId,
        marketType: ticker.instType,
        last: decimal(ticker.last),
        volume: decimal(ticker.vol24h),
        volumeQuote: decimal(ticker.volCcy24h),
      }));
    },
  };
}

/** Its entry in the registry: SOURCES names it "okx", OKX_API_URL moves it from its public host. */
export const definition = { name: NAME, defaultUrl: "https://www.okx.com", create: okx } as const;
