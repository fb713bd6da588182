/**
 * The API's parameters, each parsed once to its canonical value with the error
 * text clients see. Endpoints declare which ones they read; the edge-cache key
 * is built from the canonical values, so `BTCEUR` and `btceur`, or a query in
 * another order, share one cached answer.
 */
import { StatusError } from "itty-router";
import { foldSymbol, SYMBOL, SYMBOL_RULE } from "../lib/symbol";
import { findMetricType, METRIC_TYPES, type MetricTypeDefinition } from "../domain/metric-types";
import { DAY_MS, iso } from "../lib/time";
import { INTERVAL_MS, type CandleInterval, type RankWindow } from "../domain/intervals";

/** `since`: epoch milliseconds, or an ISO-8601 time with a date ("2026-11-29", "2026-11-29T17:04:00Z"). */
const SINCE = /^(\d{1,15}|\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?)$/;

/** Epoch ms of a time parameter (`since`, `until`), or a 400 naming it. */
function parseTime(name: string, raw: string): number {
  const ms = !SINCE.test(raw) ? NaN : /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms)) {
    throw new StatusError(400, `Malformed ${name} "${raw}": expected an ISO-8601 time (2026-11-29T17:04:00Z) or epoch milliseconds`);
  }
  return ms;
}

/** A value among a few, or a 400 naming the parameter and listing them. */
function oneOf<T extends string>(name: string, values: readonly T[]) {
  return (raw: string): T => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new StatusError(400, `Malformed ${name} "${raw}": expected one of ${values.join(", ")}`);
  };
}

export const CANDLE_INTERVALS = ["1h", "1d"] as const satisfies readonly CandleInterval[];
export const RANK_WINDOWS = ["24h", "7d", "30d"] as const satisfies readonly ("24h" | RankWindow)[];

export const ALERTS_DEFAULT_LIMIT = 100;
export const ALERTS_MAX_LIMIT = 1000;

/** Every parameter an endpoint can read, by name, parsed. */
export interface Args {
  metric_type: MetricTypeDefinition;
  symbol: string;
  since: number;
  until: number;
  limit: number;
  strict: boolean;
  interval: CandleInterval;
  window: (typeof RANK_WINDOWS)[number];
}
export type ParamName = keyof Args;

interface ParamRule<T> {
  parse(raw: string, where: "path" | "query"): T;
  /** The canonical text of a parsed value, for cache keys (its String() when absent). */
  canonical?(value: T): string;
  default?: T;
  /** For the OpenAPI document: what the parameter means in the path and as a filter in the query. */
  doc: { path?: string; query?: string; schema: object; example: unknown };
}

export const PARAMS: { [K in ParamName]: ParamRule<Args[K]> } = {
  metric_type: {
    parse(name, where) {
      const definition = findMetricType(name);
      if (definition) return definition;
      if (where === "path") throw new StatusError(404, `Metric type "${name}" does not exist`);
      throw new StatusError(400, `Unknown metric_type "${name}": expected one of ${METRIC_TYPES.map((t) => t.metric_type).join(", ")}`);
    },
    canonical: (definition) => definition.metric_type,
    doc: {
      path: "A metric type (see `/metric_types`)",
      query: "Only alerts of this metric type",
      schema: { type: "string", enum: METRIC_TYPES.map((type) => type.metric_type) },
      example: "price",
    },
  },
  symbol: {
    parse(raw) {
      const name = foldSymbol(raw);
      if (name === undefined) throw new StatusError(400, `Malformed symbol "${raw}": expected ${SYMBOL_RULE}`);
      return name;
    },
    doc: {
      path: "A pair (`btceur`) for `price`, an asset (`btc`) for `volume`. Read lower-case (`BTCEUR` is `btceur`).",
      query: "Only alerts of this symbol (read lower-case)",
      schema: { type: "string", pattern: SYMBOL.source.replaceAll("a-z", "A-Za-z") },
      example: "btceur",
    },
  },
  since: {
    parse: (raw) => parseTime("since", raw),
    doc: {
      query: "Only alerts of ticks at or after this time: ISO-8601 with a date, or epoch milliseconds",
      schema: { type: "string", pattern: SINCE.source },
      example: "2026-11-29T00:00:00Z",
    },
  },
  until: {
    parse: (raw) => parseTime("until", raw),
    doc: {
      query: "Up to this time: ISO-8601 with a date, or epoch milliseconds",
      schema: { type: "string", pattern: SINCE.source },
      example: "2026-12-01T00:00:00Z",
    },
  },
  limit: {
    parse(raw) {
      if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1 || Number(raw) > ALERTS_MAX_LIMIT) {
        throw new StatusError(400, `Malformed limit "${raw}": expected an integer from 1 to ${ALERTS_MAX_LIMIT}`);
      }
      return Number(raw);
    },
    default: ALERTS_DEFAULT_LIMIT,
    doc: {
      query: "At most this many alerts",
      schema: { type: "integer", minimum: 1, maximum: ALERTS_MAX_LIMIT, default: ALERTS_DEFAULT_LIMIT },
      example: 20,
    },
  },
  strict: {
    parse(raw) {
      if (raw === "1" || raw === "true") return true;
      if (raw === "0" || raw === "false") return false;
      throw new StatusError(400, `Malformed strict "${raw}": expected 1, true, 0 or false`);
    },
    default: false,
    doc: {
      query: "1 (or true): answer 503, with the same body, when the tracker is degraded, for monitors that read only status codes",
      schema: { type: "string", enum: ["1", "true", "0", "false"], default: "0" },
      example: "1",
    },
  },
  interval: {
    parse: oneOf("interval", CANDLE_INTERVALS),
    default: "1h",
    doc: {
      query: "The candles' interval: `1h` (UTC hours) or `1d` (UTC days)",
      schema: { type: "string", enum: CANDLE_INTERVALS, default: "1h" },
      example: "1d",
    },
  },
  window: {
    parse: oneOf("window", RANK_WINDOWS),
    default: "24h",
    doc: {
      query:
        "The standard deviation's window: `24h` (every point of the last 24 h), `7d` or `30d` (the points of the 168 " +
        "or 720 hourly candles ending with the current hour)",
      schema: { type: "string", enum: RANK_WINDOWS, default: "24h" },
      example: "7d",
    },
  },
};

/** The most intervals one request of candles may span (until - since). */
export const CANDLES_MAX_INTERVALS = 2000;
/** How far back the candles go when `since` is not given. */
export const CANDLES_DEFAULT_DAYS: Record<CandleInterval, number> = { "1h": 7, "1d": 365 };

/**
 * The candles' interval and range: until defaults to now, since to 7 days (1h)
 * or 365 days (1d) before until. A range that runs backwards or spans more
 * than CANDLES_MAX_INTERVALS intervals is a 400.
 */
export function candleRange({ interval = "1h", since, until }: Partial<Args>, now: number) {
  const end = until ?? now;
  const start = since ?? end - CANDLES_DEFAULT_DAYS[interval] * DAY_MS;
  if (start > end) {
    throw new StatusError(400, `Malformed since: ${iso(start)} is after until (${iso(end)})`);
  }
  const span = INTERVAL_MS[interval];
  if (end - start > CANDLES_MAX_INTERVALS * span) {
    throw new StatusError(
      400,
      `Malformed since/until: the range spans ${Math.ceil((end - start) / span)} intervals of ${interval}; ` +
        `at most ${CANDLES_MAX_INTERVALS} a request`,
    );
  }
  return { interval, since: start, until: end };
}

function pathValue(params: Record<string, string>, name: string): string {
  const raw = params[name] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new StatusError(400, `Malformed ${name.replace("_", " ")} in the path: "${raw}"`);
  }
}

function queryValue(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  if (values.length > 1) throw new StatusError(400, `Parameter ${name} is given ${values.length} times`);
  if (values.length === 1 && values[0] === "") throw new StatusError(400, `Parameter ${name} is empty`);
  return values[0];
}

/**
 * Parses the declared path parameters, then the declared query parameters, in
 * that order (the first bad one is the error). Returns the values and the
 * canonical URL path + query: the route's template filled with canonical
 * values, followed by the declared query parameters (defaults included) in
 * name order; any other query parameter is ignored. `variant` is the part of
 * that query whose values are not the defaults ("" when there is none).
 */
export function parseArgs(url: URL, route: string, params: Record<string, string>, query: readonly ParamName[]) {
  const args: Record<string, unknown> = {};
  const text: Record<string, string> = {};
  const read = <K extends ParamName>(name: K, raw: string | undefined, where: "path" | "query") => {
    const rule = PARAMS[name] as ParamRule<Args[K]>;
    const value = raw === undefined ? rule.default : rule.parse(raw, where);
    if (value === undefined) return;
    args[name] = value;
    text[name] = rule.canonical?.(value) ?? String(value);
  };
  for (const [, name] of route.matchAll(/:(\w+)/g)) read(name as ParamName, pathValue(params, name!), "path");
  const pathname = route.replace(/:([a-z_]+)/g, (_, name: string) => encodeURIComponent(text[name] ?? ""));
  for (const name of query) read(name, queryValue(url.searchParams, name), "query");
  const search = new URLSearchParams([...query].sort().filter((name) => name in text).map((name) => [name, text[name]!]));
  // The query values that are not the defaults: an answer to another window or range has its own validator.
  const variant = new URLSearchParams([...search].filter(([name, value]) => {
    const rule = PARAMS[name as ParamName] as ParamRule<unknown>;
    return rule.default === undefined || value !== (rule.canonical?.(rule.default) ?? String(rule.default));
  }));
  return {
    args: args as Partial<Args>,
    canonical: search.size > 0 ? `${pathname}?${search}` : pathname,
    variant: variant.toString(),
  };
}
