/// <reference types="vite/client" />
/**
 * Plays the sources for the Worker's outbound fetch (same isolate), routing by
 * host and path: https://kraken.test/0/public/Ticker ... (vitest.config.ts binds
 * each registered source's <NAME>_API_URL to https://<name>.test). What each one
 * serves is its test/fixtures/<name>/upstream.json: nothing here names a source.
 */
import { vi } from "vitest";
import { DEFAULT_SOURCES, type SourceName } from "../../src/sources/registry";
import { jsonResponse } from "./helpers";

export type Reply = Response | ((request: Request) => Response | Promise<Response>);

/** A source's fake upstream: `routes` maps a path (with its query where that matters) to a fixture file of its folder. */
export interface Upstream {
  /** The route every read calls (its tickers or summaries). */
  ticker: string;
  routes: Record<string, string>;
}

/** Every fixture, by its path under test/fixtures/ ("kraken/ticker.json"). */
export const FIXTURES: Readonly<Record<string, unknown>> = Object.fromEntries(
  Object.entries(import.meta.glob("../fixtures/*/*.json", { eager: true, import: "default" })).map(([path, json]) => [
    path.slice("../fixtures/".length),
    json,
  ]),
);

export function fixture(source: string, file: string): unknown {
  const path = `${source}/${file}`;
  if (!Object.hasOwn(FIXTURES, path)) throw new Error(`no fixture test/fixtures/${path}`);
  return FIXTURES[path];
}

export const upstream = (source: string) => fixture(source, "upstream.json") as Upstream;

/** One source's routes (host + path [+ query]) and their fixtures. */
export function sourceRoutes(source: string): Record<string, Reply> {
  return Object.fromEntries(
    Object.entries(upstream(source).routes).map(([path, file]) => [`${source}.test${path}`, () => jsonResponse(fixture(source, file))]),
  );
}

/** The routes of every source an unset SOURCES reads (the live exchanges). */
export const exchangeRoutes = (): Record<string, Reply> => Object.assign({}, ...DEFAULT_SOURCES.map(sourceRoutes));

/** The route of each live exchange's ticker endpoint (the call a tick always makes). */
export const TICKER_ROUTES = Object.fromEntries(DEFAULT_SOURCES.map((name) => [name, `${name}.test${upstream(name).ticker}`])) as Readonly<
  Record<SourceName, string>
>;

/**
 * The seven exchanges whose fixtures the cross-exchange tests (multi-source, markets) worked out
 * by hand: a source added later is not among them, so those figures hold; the tests of "every
 * source" iterate the registry instead (DEFAULT_SOURCES, sources.test.ts).
 */
export const SEVEN_EXCHANGES = "kraken,coinbase,bitstamp,okx,kucoin,bitfinex,binance";

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
    // A route with its query (cryptowatch.test/pairs?cursor=page2) before the path alone.
    const reply = fake.routes[routeOf(request) + new URL(request.url).search] ?? fake.routes[routeOf(request)];
    if (!reply) return jsonResponse({ error: "Route not found" }, 404);
    return typeof reply === "function" ? reply(request) : reply.clone();
  });
  return fake;
}

export function routeOf(request: Request): string {
  const url = new URL(request.url);
  return url.host + url.pathname;
}
