/**
 * The API's parameters, each parsed once to its canonical value with the error
 * text clients see. Endpoints declare which ones they read; the edge-cache key
 * is built from the canonical values, so `BTCEUR` and `btceur`, or a query in
 * another order, share one cached answer.
 */
import { StatusError } from "itty-router";
import { foldSymbol, SYMBOL, SYMBOL_RULE } from "../lib/symbol";
import { findMetricType, METRIC_TYPES, type MetricTypeDefinition } from "../domain/metric-types";

/** `since`: epoch milliseconds, or an ISO-8601 time with a date ("2026-11-29", "2026-11-29T17:04:00Z"). */
const SINCE = /^(\d{1,15}|\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?)$/;

export const ALERTS_DEFAULT_LIMIT = 100;
export const ALERTS_MAX_LIMIT = 1000;

/** Every parameter an endpoint can read, by name, parsed. */
export interface Args {
  metric_type: MetricTypeDefinition;
  symbol: string;
  since: number;
  limit: number;
  strict: boolean;
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
    parse(raw) {
      const ms = !SINCE.test(raw) ? NaN : /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
      if (!Number.isFinite(ms)) {
        throw new StatusError(400, `Malformed since "${raw}": expected an ISO-8601 time (2026-11-29T17:04:00Z) or epoch milliseconds`);
      }
      return ms;
    },
    doc: {
      query: "Only alerts of ticks at or after this time: ISO-8601 with a date, or epoch milliseconds",
      schema: { type: "string", pattern: SINCE.source },
      example: "2026-11-29T00:00:00Z",
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
};

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
 * name order; any other query parameter is ignored.
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
  return { args: args as Partial<Args>, canonical: search.size > 0 ? `${pathname}?${search}` : pathname };
}
