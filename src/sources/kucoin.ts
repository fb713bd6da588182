/**
 * KuCoin (www.kucoin.com/docs): GET /api/v1/market/allTickers answers
 * {"code": "200000", "data": {"time", "ticker": [{"symbol": "BTC-USDT",
 * "symbolName", "last", "vol" (base), "volValue" (quote)}]}}; any other code
 * is an error. symbolName is the pair's current name (it changes when an
 * asset is renamed, symbol does not), so it is preferred. The endpoint is
 * spot only (futures live on api-futures.kucoin.com) and carries no market
 * type; a name with more than one dash would be a derivative and is dropped.
 */
import { decimal } from "../lib/number";
import { getJson, isRecord } from "./http";
import { dashedTickers, joinUrl } from "./market";
import { UpstreamError, type Source } from "./types";

const NAME = "kucoin";
const EXCHANGE = "kucoin";

export function kucoin(options: { baseUrl: string }): Source {
  return {
    name: NAME,
    async read(ctx) {
      const body = await getJson(ctx, NAME, joinUrl(options.baseUrl, "/api/v1/market/allTickers"));
      if (!isRecord(body)) throw new UpstreamError(NAME, "allTickers: expected {code, data: {ticker: [...]}}");
      if (body.code !== "200000") throw new UpstreamError(NAME, `allTickers: code ${String(body.code)}: ${String(body.msg ?? "")}`);
      if (!isRecord(body.data) || !Array.isArray(body.data.ticker)) {
        throw new UpstreamError(NAME, "allTickers: expected {code, data: {ticker: [...]}}");
      }
      return dashedTickers(NAME, EXCHANGE, body.data.ticker, (ticker) => ({
        name: typeof ticker.symbolName === "string" ? ticker.symbolName : ticker.symbol,
        last: decimal(ticker.last),
        volume: decimal(ticker.vol),
        volumeQuote: decimal(ticker.volValue),
      }));
    },
  };
}

/** Its entry in the registry: SOURCES names it "kucoin", KUCOIN_API_URL moves it from its public host. */
export const definition = { name: NAME, defaultUrl: "https://api.kucoin.com", create: kucoin } as const;
