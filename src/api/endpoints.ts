/**
 * Every endpoint, once: its path, the query parameters it reads, how its
 * answer may be cached, and its 200 body (JSON Schema and example). router.ts
 * registers each with its handler (routes.ts), which the definition types;
 * openapi.ts documents each: the path parameters, the errors (400, 404, 503),
 * 304 and the cache headers follow from the path and the freshness.
 */
import { METRIC_TYPES } from "../domain/metric-types";
import { SYMBOL } from "../lib/symbol";
import { CANDLES_DEFAULT_DAYS, CANDLES_MAX_INTERVALS, candleRange, PARAMS, type Args, type ParamName } from "./params";

/**
 * - `tick`: depends on the stored data and the minute only; ETag of both, 304s.
 * - `fresh`: changes between ticks (alerts); no ETag, `no-store`.
 * - `constant`: the same until a deploy (the OpenAPI document); ETag of its body, no D1.
 */
export type Freshness = "tick" | "fresh" | "constant";

/** The names of a path template's parameters: "/a/:metric_type/b/:symbol" -> "metric_type" | "symbol". */
export type PathParams<Path extends string> = Path extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParams<`/${Rest}`>
  : Path extends `${string}:${infer Name}`
    ? Name
    : never;

export interface Endpoint<Path extends string = string, Query extends ParamName = ParamName> {
  path: Path;
  operationId: string;
  tag: "status" | "metrics" | "volatility" | "alerts";
  summary: string;
  description?: string;
  /** Query parameters it reads, in the order they are checked; any other is ignored. */
  query?: readonly Query[];
  /** What a query parameter means here, when not what params.ts says. */
  queryDoc?: { [K in Query]?: string };
  /** Checks that involve several parameters (or the time): throws a StatusError (400), before any conditional answer. */
  check?: (args: Partial<Args>, now: number) => void;
  freshness: Freshness;
  /** Kept in Cloudflare's cache (the expensive reads). */
  edgeCache?: boolean;
  /** The 200 answer. `headers` and `content` add to (or replace) the standard ones. */
  ok: { description: string; schema: object; example?: unknown; headers?: object; content?: object };
  /** Other answers, by status, added to (or replacing) the standard ones. */
  responses?: Record<string, object>;
}

/** Keeps the path and the query parameters as types, so that the handler registered with it is checked against them. */
export const define = <Path extends string, Query extends ParamName = never>(endpoint: Endpoint<Path, Query>) => endpoint;

// Building blocks of the bodies' JSON Schemas: every object is closed and all its fields are present.
export const object = (properties: Record<string, object>, extra: object = {}) => ({
  type: "object",
  additionalProperties: false,
  required: Object.keys(properties),
  properties,
  ...extra,
});
const array = (items: object) => ({ type: "array", items });
const integer = (minimum = 0, extra: object = {}) => ({ type: "integer", minimum, ...extra });
const nullable = (schema: object) => ({ oneOf: [schema, { type: "null" }] });
const T = "2026-11-29T17:04:00.000Z";
const TIME = { type: "string", description: "ISO-8601 UTC, a whole minute (the tick's)", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:00\\.000Z$", examples: [T] };
const METRIC_TYPE_NAME = PARAMS.metric_type.doc.schema;
const SYMBOL_NAME = { type: "string", pattern: SYMBOL.source, examples: ["btceur"] };
const METRIC_TYPE = object({ metric_type: METRIC_TYPE_NAME, description: { type: "string" } });
const describedTypes = METRIC_TYPES.map(({ metric_type, description }) => ({ metric_type, description }));

/** What /health and / report about the tracker itself (routes.ts, healthOf). */
const HEALTH_FIELDS = {
  status: {
    description: "degraded: the last tick is older than 5 minutes, or maintenance is more than 30 minutes behind it",
    enum: ["ok", "degraded"],
  },
  reason: { description: "Why degraded (null when ok)", type: ["string", "null"] },
  last_tick: { description: "The latest stored tick; null before the first", ...nullable(TIME) },
  last_tick_age_seconds: { description: "Seconds since that tick was stored", type: ["integer", "null"], minimum: 0 },
  sums_lag_seconds: {
    description: "How far the rank sums are behind the last tick (0 in steady state); null before the first tick",
    type: ["integer", "null"],
    minimum: 0,
  },
  purge_lag_seconds: {
    description: "How far the purge of values older than 24 h is behind the last tick (0 in steady state); null before the first tick",
    type: ["integer", "null"],
    minimum: 0,
  },
  figures_24h: {
    description:
      "exact: change_24h, min_24h and max_24h describe the 24 h ending at the last tick; rebuilding: they are null for a few " +
      "minutes after an outage of 12 h or more, or the first deploy, while the tracker rebuilds them from the stored values",
    enum: ["exact", "rebuilding"],
  },
};
const HEALTH_EXAMPLE = {
  status: "ok",
  reason: null,
  last_tick: T,
  last_tick_age_seconds: 12,
  sums_lag_seconds: 0,
  purge_lag_seconds: 0,
  figures_24h: "exact",
};

const ALERTS = {
  description: "The alerts",
  schema: object({
    alerts: array(
      object({
        id: { type: "integer" },
        metric_type: METRIC_TYPE_NAME,
        symbol: SYMBOL_NAME,
        time: { ...TIME, description: "The tick whose point jumped" },
        value: { type: "number", description: "That point" },
        average: { type: "number", description: "Mean of the metric's points in the hour before" },
        threshold: { type: "number", description: "average x ALERT_MULTIPLIER: value was above it" },
        points: integer(1, { description: "Points in that hour" }),
        created_at: { type: "string", format: "date-time" },
        delivery: object({
          state: { enum: ["pending", "delivered", "failed", "not_configured"] },
          attempts: integer(),
          last_error: { type: ["string", "null"] },
          delivered_at: nullable({ type: "string", format: "date-time" }),
        }),
      }),
    ),
  }),
  example: {
    alerts: [
      { id: 7, metric_type: "price", symbol: "btceur", time: T, value: 200200, average: 50050, threshold: 150150, points: 59,
        created_at: "2026-11-29T17:04:02.311Z", delivery: { state: "delivered", attempts: 1, last_error: null, delivered_at: "2026-11-29T17:04:03.020Z" } },
    ],
  },
};

const WINDOW_DOC =
  "`window=7d` (`30d`) ranks the points of the 168 (720) hourly candles ending with the current hour " +
  "(docs/candles.md), from per-metric moments kept with the rank sums: as cheap as the 24 h ranking. The body is the " +
  "same for every window (it does not repeat the window: the request names it), so the default answer is unchanged; " +
  "each window has its own ETag and cache entry.";

const HOUR_TIME = {
  type: "string",
  description: "ISO-8601 UTC: the start of the interval (a whole hour; midnight for a day)",
  pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:00:00\\.000Z$",
  examples: ["2026-11-29T17:00:00.000Z"],
};
const CANDLE = object({
  time: HOUR_TIME,
  open: { type: "number", description: "The first point of the interval" },
  high: { type: "number", description: "The highest point" },
  low: { type: "number", description: "The lowest point" },
  close: { type: "number", description: "The last point (so far, while the interval is open)" },
  n: integer(1, { description: "How many points (minutes with a value)" }),
  mean: { type: "number", description: "Their mean" },
  std: { type: "number", minimum: 0, description: "Their population standard deviation, as the ranking's" },
  complete: { type: "boolean", description: "The interval has ended (time + interval <= now); false for the open hour or day" },
});

const REASON = {
  description: "Why the value was left out (null when included)",
  enum: ["duplicate", "outlier", "no_usable_value", "non_finite", "no_consensus", "ambiguous_pair", null],
};
const NUMBER_OR_NULL = { type: ["number", "null"] };
/** A metric's latest point with its 24 h figures (src/storage/day.ts), over the 24 h ending at the latest tick. */
const LATEST_POINT = {
  time: TIME,
  value: { type: "number" },
  change_24h: {
    ...NUMBER_OR_NULL,
    description:
      "(value - oldest) / oldest, the oldest being the metric's oldest point in the 24 h ending at the latest tick, " +
      "(latest tick - 24 h, latest tick]: a point exactly 24 h older than the latest tick is out. Not the 24 h before the " +
      "request that /history covers: between ticks the two windows differ. Null with fewer than 2 points, when the oldest is 0, " +
      "or while the figures are rebuilt",
  },
  min_24h: {
    ...NUMBER_OR_NULL,
    description:
      "The lowest point in the 24 h ending at the latest tick, as for change_24h (a point exactly 24 h older is out); " +
      "null only while the figures are rebuilt",
  },
  max_24h: {
    ...NUMBER_OR_NULL,
    description:
      "The highest point in the 24 h ending at the latest tick, as for change_24h (a point exactly 24 h older is out); " +
      "null only while the figures are rebuilt",
  },
};
const MARKET_VALUES = {
  exchange: { type: "string", examples: ["kraken"] },
  source: { type: "string", description: "The source that reported the market", examples: ["kraken"] },
  last: { ...NUMBER_OR_NULL, description: "The market's last price as reported (null: missing or not a number)" },
  base_volume: { ...NUMBER_OR_NULL, description: "24 h volume in the base asset as reported" },
  quote_volume: { ...NUMBER_OR_NULL, description: "24 h volume in the quote asset, reported or derived" },
  quote_volume_derived: { type: "boolean", description: "The exchange reports no quote volume: base volume x its VWAP (or last price)" },
};
const MARKETS_COMMON = {
  symbol: SYMBOL_NAME,
  time: { ...TIME, description: "The point described (the latest tick's), or the metric's latest point when it has none in the latest tick" },
  value: { type: "number", description: "The stored value at `time`" },
  complete: { type: "boolean", description: "false when a source's breakdown was too large to keep (markets then misses its markets)" },
};
const PRICE_MARKETS = object({
  metric_type: { const: "price" },
  ...MARKETS_COMMON,
  median: { ...NUMBER_OR_NULL, description: "Median of the pair's usable prices, when the outlier rule applied (3 markets or more)" },
  tolerance: { ...NUMBER_OR_NULL, description: "t of the outlier rule: prices outside [median / (1 + t), median x (1 + t)] are left out" },
  markets: array(
    object({
      ...MARKET_VALUES,
      included: { type: "boolean", description: "Its last price is in the mean" },
      reason: REASON,
      deviation: { ...NUMBER_OR_NULL, description: "last / median - 1 (a fraction), where the pair has a median" },
    }),
  ),
});
const VOLUME_MARKETS = object({
  metric_type: { const: "volume" },
  ...MARKETS_COMMON,
  markets: array(
    object({
      ...MARKET_VALUES,
      pair: SYMBOL_NAME,
      side: { enum: ["base", "quote"], description: "Whether the asset is the market's base (base_volume counts) or its quote (quote_volume counts)" },
      amount: { ...NUMBER_OR_NULL, description: "What it added to the value (null when left out)" },
      included: { type: "boolean" },
      reason: REASON,
    }),
  ),
});

export const ENDPOINTS = {
  status: define({
    path: "/",
    operationId: "status",
    tag: "status",
    summary: "Status, with the time of the last successful tick",
    description: "A client that prefers `text/html` to JSON (a browser) gets the dashboard page instead (`Vary: Accept`).",
    freshness: "tick",
    ok: {
      description: "The tracker's status (JSON), or the dashboard page for a browser",
      schema: object({
        ...HEALTH_FIELDS,
        metric_types: array(METRIC_TYPE_NAME),
        sources: {
          description: "Of the sources the latest tick read, how many answered (details: /sources); null before any",
          type: ["string", "null"],
          pattern: "^[0-9]+/[0-9]+ ok$",
        },
      }),
      example: { ...HEALTH_EXAMPLE, metric_types: METRIC_TYPES.map((type) => type.metric_type), sources: "6/7 ok" },
      headers: {
        "Cache-Control": { description: "For JSON as on every endpoint; the page carries the static assets' own caching", required: true, schema: { type: "string" } },
        ETag: { description: "For JSON as on every endpoint; the page's own otherwise", required: true, schema: { type: "string" } },
        Vary: { description: "The answer depends on Accept", required: true, schema: { type: "string", pattern: "Accept" } },
        "Access-Control-Allow-Origin": { description: "On the JSON answer", schema: { type: "string", const: "*" } },
      },
      content: { "text/html": { schema: { type: "string" } } },
    },
  }),
  health: define({
    path: "/health",
    operationId: "health",
    tag: "status",
    summary: "Liveness and health: always JSON; with ?strict=1 a degraded tracker answers 503",
    description:
      "200 while the Worker and D1 answer, with status `degraded` and a reason when the last tick was stored more than " +
      "5 minutes ago or the rank sums or the purge are more than 30 minutes behind it. Never cached: a monitor sees now.",
    query: ["strict"],
    freshness: "fresh",
    ok: { description: "Up (ok or degraded)", schema: object(HEALTH_FIELDS), example: HEALTH_EXAMPLE },
    responses: {
      "503": {
        description: "Degraded (with ?strict=1; the same body as the 200), or the database is temporarily unavailable",
        headers: { "Cache-Control": { $ref: "#/components/headers/NoStore" } },
        content: {
          "application/json": {
            schema: { oneOf: [object(HEALTH_FIELDS), { $ref: "#/components/schemas/Error" }] },
            example: { ...HEALTH_EXAMPLE, status: "degraded", reason: "the last tick was stored 1260 s ago (limit 300 s)", last_tick_age_seconds: 1260 },
          },
        },
      },
    },
  }),
  sources: define({
    path: "/sources",
    operationId: "sources",
    tag: "status",
    summary: "The health of each source at the latest tick that read any",
    freshness: "tick",
    edgeCache: true,
    ok: {
      description: "Each source read by the latest tick, by name",
      schema: object({
        sources: array(
          object({
            source: { type: "string", examples: ["kraken"] },
            status: { enum: ["ok", "error"] },
            markets: integer(0, { description: "Markets the source delivered to aggregation" }),
            dropped: {
              type: "object",
              description:
                "Markets left out, by reason: unknown_pair, not_trading, not_spot, test_market, malformed_market, " +
                "unsupported_symbol at the source; duplicate, outlier, no_consensus, ambiguous_pair, non_finite, no_usable_value in aggregation",
              additionalProperties: integer(),
            },
            latency_ms: integer(),
            error: {
              type: ["string", "null"],
              description:
                "This tick's error, or null (at most 500 characters, secrets redacted). A source that answered when the tick " +
                "could not be stored is an error too, \"tick not stored: <reason>\": its markets were not kept",
            },
            tick: TIME,
            last_success: nullable(TIME),
            last_error: nullable(TIME),
            last_error_message: { type: ["string", "null"] },
          }),
        ),
      }),
      example: {
        sources: [
          { source: "kraken", status: "ok", markets: 612, dropped: { unknown_pair: 0, not_trading: 3, outlier: 1 }, latency_ms: 230, error: null,
            tick: T, last_success: T, last_error: "2026-11-29T16:31:00.000Z", last_error_message: "kraken: HTTP 502" },
        ],
      },
    },
  }),
  alerts: define({
    path: "/alerts",
    operationId: "listAlerts",
    tag: "alerts",
    summary: "Alerts raised when a metric jumped, newest first (by tick time)",
    description:
      "A point alerts when it exceeds ALERT_MULTIPLIER x the mean of its metric's last hour. Every parameter is " +
      "optional; a bad one (including an unknown metric_type here) is a 400. Alerts are kept 30 days.",
    query: ["limit", "since", "metric_type", "symbol"],
    freshness: "fresh",
    ok: ALERTS,
  }),
  metricAlerts: define({
    path: "/metric_types/:metric_type/metrics/:symbol/alerts",
    operationId: "getMetricAlerts",
    tag: "alerts",
    summary: "A metric's alerts, newest first (an empty list when it has none)",
    query: ["limit", "since"],
    freshness: "fresh",
    ok: { ...ALERTS, description: "The metric's alerts" },
  }),
  metricTypes: define({
    path: "/metric_types",
    operationId: "listMetricTypes",
    tag: "metrics",
    summary: "The metric types the tracker computes",
    freshness: "tick",
    edgeCache: true,
    ok: { description: "Every metric type", schema: object({ metric_types: array(METRIC_TYPE) }), example: { metric_types: describedTypes } },
  }),
  metricType: define({
    path: "/metric_types/:metric_type",
    operationId: "getMetricType",
    tag: "metrics",
    summary: "One metric type",
    freshness: "tick",
    edgeCache: true,
    ok: { description: "The metric type", schema: METRIC_TYPE, example: describedTypes[0] },
  }),
  metrics: define({
    path: "/metric_types/:metric_type/metrics",
    operationId: "listMetrics",
    tag: "metrics",
    summary: "The metrics of a type with at least one point in the last 24 h, by symbol",
    freshness: "tick",
    edgeCache: true,
    ok: {
      description: "The metrics",
      schema: object({ metrics: array(object({ metric_type: METRIC_TYPE_NAME, symbol: SYMBOL_NAME })) }),
      example: { metrics: [{ metric_type: "price", symbol: "adausd" }, { metric_type: "price", symbol: "btceur" }] },
    },
  }),
  latest: define({
    path: "/metric_types/:metric_type/latest",
    operationId: "latestValues",
    tag: "metrics",
    summary: "The latest value of every metric of a type, with its 24 h change, min and max, by symbol",
    freshness: "tick",
    edgeCache: true,
    ok: {
      description: "The latest point of each metric with a point in the last 24 h",
      schema: object({ metric_type: METRIC_TYPE_NAME, latest: array(object({ symbol: SYMBOL_NAME, ...LATEST_POINT })) }),
      example: {
        metric_type: "price",
        latest: [
          { symbol: "adausd", time: T, value: 1.1122, change_24h: -0.0213, min_24h: 1.0981, max_24h: 1.1499 },
          { symbol: "btceur", time: T, value: 50050, change_24h: 0.0042, min_24h: 49610, max_24h: 50390 },
        ],
      },
    },
  }),
  ranking: define({
    path: "/metric_types/:metric_type/ranking",
    operationId: "ranking",
    tag: "volatility",
    summary: "Every metric of a type ranked by the standard deviation of its last 24 h (or 7 or 30 days)",
    description:
      "Population standard deviation of each metric's points in the window; `RANK()` over it, most volatile first " +
      "(ties share a rank, so the last rank may be below `total`). Ordered by rank, then symbol. " + WINDOW_DOC,
    query: ["window"],
    freshness: "tick",
    edgeCache: true,
    ok: {
      description: "The ranking",
      schema: object({
        metric_type: METRIC_TYPE_NAME,
        total: integer(),
        ranking: array(object({ rank: integer(1), symbol: SYMBOL_NAME, stddev: { type: "number", minimum: 0 } })),
      }),
      example: {
        metric_type: "price",
        total: 3,
        ranking: [
          { rank: 1, symbol: "btceur", stddev: 212.5 },
          { rank: 2, symbol: "adausd", stddev: 0.004 },
          { rank: 2, symbol: "ethbtc", stddev: 0.004 },
        ],
      },
    },
  }),
  metric: define({
    path: "/metric_types/:metric_type/metrics/:symbol",
    operationId: "getMetric",
    tag: "metrics",
    summary: "One metric, with its latest value and its 24 h change, min and max",
    freshness: "tick",
    edgeCache: true,
    ok: {
      description: "The metric",
      schema: object({
        metric_type: METRIC_TYPE_NAME,
        symbol: SYMBOL_NAME,
        latest: object(LATEST_POINT),
      }),
      example: { metric_type: "volume", symbol: "btc", latest: { time: T, value: 40, change_24h: -0.1, min_24h: 38.5, max_24h: 44.25 } },
    },
  }),
  history: define({
    path: "/metric_types/:metric_type/metrics/:symbol/history",
    operationId: "getHistory",
    tag: "metrics",
    summary: "Every point of a metric in the last 24 h, oldest first",
    freshness: "tick",
    edgeCache: true,
    ok: {
      description: "The history: ISO-8601 UTC minute -> value",
      schema: object({
        history: { type: "object", description: "Time -> value, oldest first", propertyNames: TIME, additionalProperties: { type: "number" } },
      }),
      example: { history: { "2026-11-29T17:03:00.000Z": 1458881474.98, [T]: 1458902210.5 } },
    },
  }),
  candles: define({
    path: "/metric_types/:metric_type/metrics/:symbol/candles",
    operationId: "getCandles",
    tag: "metrics",
    summary: "A metric's hourly or daily candles (open, high, low, close, count, mean, standard deviation), oldest first",
    description:
      "The candles of the UTC hours (`interval=1h`) or days (`1d`) whose start is in [since floored to the interval, until]; " +
      "the current hour and day are included while open (`complete: false`). An interval without a point has no candle. " +
      `Defaults: until = now, since = ${CANDLES_DEFAULT_DAYS["1h"]} days (1h) or ${CANDLES_DEFAULT_DAYS["1d"]} days (1d) before until. ` +
      `At most ${CANDLES_MAX_INTERVALS} intervals a request (until - since): more is a 400, as is since after until. ` +
      "Candles outlive the 24 h of points (hourly and daily retention: docs/candles.md); a metric is known while it has a " +
      "point in the last 24 h, else 404.",
    query: ["interval", "since", "until"],
    queryDoc: {
      since: "From the interval holding this time: ISO-8601 with a date, or epoch milliseconds",
      until: "Up to the intervals starting at or before this time (default now): ISO-8601 with a date, or epoch milliseconds",
    },
    check: (args, now) => void candleRange(args, now),
    freshness: "tick",
    edgeCache: true,
    ok: {
      description: "The candles",
      schema: object({ metric_type: METRIC_TYPE_NAME, symbol: SYMBOL_NAME, interval: { enum: ["1h", "1d"] }, candles: array(CANDLE) }),
      example: {
        metric_type: "price",
        symbol: "btceur",
        interval: "1h",
        candles: [
          { time: "2026-11-29T16:00:00.000Z", open: 50010, high: 50390, low: 49950, close: 50120, n: 60, mean: 50140.5, std: 98.25, complete: true },
          { time: "2026-11-29T17:00:00.000Z", open: 50125, high: 50180, low: 50040, close: 50050, n: 5, mean: 50101, std: 51.5, complete: false },
        ],
      },
    },
  }),
  rank: define({
    path: "/metric_types/:metric_type/metrics/:symbol/rank",
    operationId: "getRank",
    tag: "volatility",
    summary: "A metric's volatility rank among the metrics of its type",
    description:
      "The metric's row of `/metric_types/{metric_type}/ranking` over the same window: rank 1 is the most volatile. " +
      "A metric without a point in the window is a 404.",
    query: ["window"],
    freshness: "tick",
    edgeCache: true,
    ok: { description: "The rank", schema: object({ rank: integer(1), total: integer(1) }), example: { rank: 53, total: 1050 } },
  }),
  markets: define({
    path: "/metric_types/:metric_type/metrics/:symbol/markets",
    operationId: "getMarkets",
    tag: "metrics",
    summary: "The markets behind a metric's latest point, and what became of each",
    description:
      "As of the latest tick. A price lists every market of the pair with its last price, whether it is in the mean " +
      "and, when left out, why (`outlier` with its `deviation` from the median, `duplicate`, `no_usable_value`, " +
      "`non_finite`, `no_consensus`, `ambiguous_pair`); the mean of the included `last`s, taken in the listed order, " +
      "is `value` exactly. A volume lists every market where the asset is base or quote, with the side and the " +
      "`amount` it contributed; their sum in the listed order is `value` exactly. A metric with no point in the " +
      "latest tick has `markets: []` and the `time` and `value` of its latest point.",
    freshness: "tick",
    edgeCache: true,
    ok: {
      description: "The metric's markets, in aggregation order",
      schema: { oneOf: [PRICE_MARKETS, VOLUME_MARKETS] },
      example: {
        metric_type: "price", symbol: "ethusdt", time: T, value: 2505, complete: true, median: 2510, tolerance: 0.1,
        markets: [
          { exchange: "okex", source: "okx", last: 2500, base_volume: 100, quote_volume: 250000, quote_volume_derived: false, included: true, reason: null, deviation: -0.00398406374501992 },
          { exchange: "kucoin", source: "kucoin", last: 2510, base_volume: 10, quote_volume: 25100, quote_volume_derived: false, included: true, reason: null, deviation: 0 },
          { exchange: "bitfinex", source: "bitfinex", last: 25000, base_volume: 1, quote_volume: 25000, quote_volume_derived: true, included: false, reason: "outlier", deviation: 8.960159362549801 },
        ],
      },
    },
  }),
};
