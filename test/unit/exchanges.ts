/**
 * Plays the exchanges for the Worker's outbound fetch (same isolate), routing
 * by host and path: https://kraken.test/0/public/Ticker ... (the hosts are the
 * <NAME>_API_URL bindings of vitest.config.ts).
 */
import { vi } from "vitest";
import binanceExchangeInfo from "../fixtures/binance/exchange-info.json";
import binanceTicker from "../fixtures/binance/ticker-24hr.json";
import bitfinexTickers from "../fixtures/bitfinex/tickers.json";
import bitstampTicker from "../fixtures/bitstamp/ticker.json";
import coinbaseProducts from "../fixtures/coinbase/products.json";
import coinbaseStats from "../fixtures/coinbase/stats.json";
import krakenAssetPairs from "../fixtures/kraken/asset-pairs.json";
import krakenTicker from "../fixtures/kraken/ticker.json";
import kucoinTickers from "../fixtures/kucoin/all-tickers.json";
import okxTickers from "../fixtures/okx/tickers.json";
import { jsonResponse } from "./helpers";

export type Reply = Response | ((request: Request) => Response | Promise<Response>);

/** Every exchange source and the routes (host + path) it reads, with their fixtures. */
export const exchangeRoutes = () =>
  ({
    "kraken.test/0/public/Ticker": () => jsonResponse(krakenTicker),
    "kraken.test/0/public/AssetPairs": () => jsonResponse(krakenAssetPairs),
    "coinbase.test/products/stats": () => jsonResponse(coinbaseStats),
    "coinbase.test/products": () => jsonResponse(coinbaseProducts),
    "bitstamp.test/api/v2/ticker/": () => jsonResponse(bitstampTicker),
    "okx.test/api/v5/market/tickers": () => jsonResponse(okxTickers),
    "kucoin.test/api/v1/market/allTickers": () => jsonResponse(kucoinTickers),
    "bitfinex.test/v2/tickers": () => jsonResponse(bitfinexTickers),
    "binance.test/api/v3/ticker/24hr": () => jsonResponse(binanceTicker),
    "binance.test/api/v3/exchangeInfo": () => jsonResponse(binanceExchangeInfo),
  }) as Record<string, Reply>;

/** The routes of each source's ticker endpoint (the call a tick always makes). */
export const TICKER_ROUTES = {
  kraken: "kraken.test/0/public/Ticker",
  coinbase: "coinbase.test/products/stats",
  bitstamp: "bitstamp.test/api/v2/ticker/",
  okx: "okx.test/api/v5/market/tickers",
  kucoin: "kucoin.test/api/v1/market/allTickers",
  bitfinex: "bitfinex.test/v2/tickers",
  binance: "binance.test/api/v3/ticker/24hr",
} as const;

export const ALL_EXCHANGES = Object.keys(TICKER_ROUTES).join(",");

export interface FakeExchanges {
  routes: Record<string, Reply>;
  requests: Request[];
  /** Requests made to one route (host + path). */
  calls(route: string): Request[];
}

export function fakeExchanges(overrides: Record<string, Reply> = {}): FakeExchanges {
  const fake: FakeExchanges = {
    routes: { ...exchangeRoutes(), ...overrides },
    requests: [],
    calls: (route) => fake.requests.filter((r) => routeOf(r) === route),
  };
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    fake.requests.push(request);
    const reply = fake.routes[routeOf(request)];
    if (!reply) return jsonResponse({ error: "Route not found" }, 404);
    return typeof reply === "function" ? reply(request) : reply.clone();
  });
  return fake;
}

function routeOf(request: Request): string {
  const url = new URL(request.url);
  return url.host + url.pathname;
}
