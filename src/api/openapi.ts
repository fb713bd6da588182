/**
 * The OpenAPI 3.1 description of the API, served at /openapi.json and rendered
 * at /docs. Hand-written; test/unit/openapi-check.ts validates every response
 * the unit tests receive against it, and openapi.test.ts checks that it names
 * exactly the routes of router.ts, so it cannot drift from the code.
 */
import { METRIC_TYPES } from "../metric-types";

const json = (schema: object, example?: unknown) => ({
  "application/json": { schema, ...(example === undefined ? {} : { example }) },
});
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const response = (name: string) => ({ $ref: `#/components/responses/${name}` });
const param = (name: string) => ({ $ref: `#/components/parameters/${name}` });

/** Every successful read: cacheable until the next tick, with a validator. */
const cached = (description: string, schema: object, example: unknown) => ({
  description,
  headers: {
    "Cache-Control": { $ref: "#/components/headers/CacheControl" },
    ETag: { $ref: "#/components/headers/ETag" },
    "Access-Control-Allow-Origin": { $ref: "#/components/headers/AccessControlAllowOrigin" },
  },
  content: json(schema, example),
});

/** Alerts change between ticks: answered fresh, never cached, no ETag. */
const fresh = (description: string, schema: object, example: unknown) => ({
  description,
  headers: {
    "Cache-Control": { $ref: "#/components/headers/NoStore" },
    "Access-Control-Allow-Origin": { $ref: "#/components/headers/AccessControlAllowOrigin" },
  },
  content: json(schema, example),
});

const T = "2026-11-29T17:04:00.000Z";
const HEALTH_EXAMPLE = {
  status: "ok",
  reason: null,
  last_tick: T,
  last_tick_age_seconds: 12,
  sums_lag_seconds: 0,
  purge_lag_seconds: 0,
};
const metricTypeNames = METRIC_TYPES.map((type) => type.metric_type);

/** What /health and / report about the tracker itself. */
const HEALTH_PROPERTIES = {
  status: {
    description: "degraded: the last tick is older than 5 minutes, or maintenance is more than 30 minutes behind it",
    enum: ["ok", "degraded"],
  },
  reason: { description: "Why degraded (null when ok)", type: ["string", "null"] },
  last_tick: { description: "The latest stored tick; null before the first", oneOf: [ref("Time"), { type: "null" }] },
  last_tick_age_seconds: {
    description: "Seconds since that tick was stored",
    type: ["integer", "null"],
    minimum: 0,
  },
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
};
const HEALTH_FIELDS = Object.keys(HEALTH_PROPERTIES);

/** Responses of every operation besides its 200. */
const common = { "304": response("NotModified"), "503": response("Unavailable") };
const ALERT_EXAMPLE = {
  alerts: [
    {
      id: 7,
      metric_type: "price",
      symbol: "btceur",
      time: T,
      value: 200200,
      average: 50050,
      threshold: 150150,
      points: 59,
      created_at: "2026-11-29T17:04:02.311Z",
      delivery: { state: "delivered", attempts: 1, last_error: null, delivered_at: "2026-11-29T17:04:03.020Z" },
    },
  ],
};

/** ... and of the operations under /metric_types/{metric_type} (a malformed path parameter is a 400). */
const onType = { ...common, "400": response("BadRequest"), "404": response("NotFound") };

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Crypto Data Tracker",
    version: "0.1.0",
    description: [
      "Crypto market metrics aggregated across exchanges every minute, with 24 hours of history.",
      "",
      "Every endpoint answers `GET` (and `HEAD`, the same without a body) with JSON and allows cross-origin",
      "requests (`OPTIONS` preflight). The window of every endpoint is the 24 hours before the request:",
      "points with `now - 24 h < time <= now`. A successful answer carries `Cache-Control: public, max-age=<seconds",
      "to the next minute>` (the next tick) and a weak `ETag`; `If-None-Match` with it answers 304 (alerts, which change",
      "between ticks, are `no-store`). Errors are",
      "`{\"status\": <code>, \"error\": \"<message>\"}` with `Cache-Control: no-store`; any method but GET, HEAD",
      "and OPTIONS is a 405 of that shape.",
      "",
      "A browser asking for `/` (`Accept: text/html`) gets the dashboard; this reference is at `/docs`.",
    ].join("\n"),
    license: { name: "MIT", identifier: "MIT" },
  },
  tags: [
    { name: "status", description: "Is the tracker up, and when did it last tick" },
    { name: "metrics", description: "Metric types, metrics, their latest values and 24 h history" },
    { name: "volatility", description: "Metrics ranked by the standard deviation of their 24 h history" },
    { name: "alerts", description: "Jumps of a metric above its last hour's mean, and their webhook delivery" },
  ],
  paths: {
    "/": {
      get: {
        tags: ["status"],
        operationId: "status",
        summary: "Status, with the time of the last successful tick",
        description:
          "A client that prefers `text/html` to JSON (a browser) gets the dashboard page instead (`Vary: Accept`).",
        responses: {
          "200": {
            description: "The tracker's status (JSON), or the dashboard page for a browser",
            headers: {
              "Cache-Control": {
                description: "For JSON as on every endpoint; the page carries the static assets' own caching",
                required: true,
                schema: { type: "string" },
              },
              ETag: { description: "For JSON as on every endpoint; the page's own otherwise", required: true, schema: { type: "string" } },
              Vary: { description: "The answer depends on Accept", required: true, schema: { type: "string", pattern: "Accept" } },
            },
            content: {
              ...json(ref("Status"), { ...HEALTH_EXAMPLE, metric_types: metricTypeNames, sources: "6/7 ok" }),
              "text/html": { schema: { type: "string" } },
            },
          },
          ...common,
        },
      },
    },
    "/health": {
      get: {
        tags: ["status"],
        operationId: "health",
        summary: "Liveness and health: always JSON; with ?strict=1 a degraded tracker answers 503",
        description:
          "200 while the Worker and D1 answer, with status \"degraded\" and a reason when the last tick was stored more than 5 minutes ago or the rank sums or the purge are more than 30 minutes behind it.",
        parameters: [
          {
            name: "strict",
            in: "query",
            required: false,
            description: "1: answer 503 (with the same body) when degraded, for monitors that look only at status codes",
            schema: { type: "string" },
          },
        ],
        responses: {
          "200": cached("Up", ref("Health"), HEALTH_EXAMPLE),
          ...common,
          "503": {
            description: "Degraded (with ?strict=1), or the database is temporarily unavailable",
            headers: { "Cache-Control": { $ref: "#/components/headers/NoStore" } },
            content: json({ oneOf: [ref("Health"), ref("Error")] }, {
              ...HEALTH_EXAMPLE,
              status: "degraded",
              reason: "the last tick was stored 1260 s ago (limit 300 s)",
              last_tick_age_seconds: 1260,
            }),
          },
        },
      },
    },
    "/sources": {
      get: {
        tags: ["status"],
        operationId: "sources",
        summary: "The health of each source at the latest tick that read any",
        responses: {
          "200": cached("Each source read by the latest tick, by name", ref("SourceList"), {
            sources: [
              {
                source: "kraken",
                status: "ok",
                markets: 612,
                dropped: { unknown_pair: 0, not_trading: 3, outlier: 1 },
                latency_ms: 230,
                error: null,
                tick: T,
                last_success: T,
                last_error: "2026-11-29T16:31:00.000Z",
                last_error_message: "kraken: HTTP 502",
              },
            ],
          }),
          ...common,
        },
      },
    },
    "/alerts": {
      get: {
        tags: ["alerts"],
        operationId: "listAlerts",
        summary: "Alerts raised when a metric jumped, newest first (by tick time)",
        description:
          "A point alerts when it exceeds ALERT_MULTIPLIER x the mean of its metric's last hour. Every parameter is " +
          "optional; a bad one (including an unknown metric_type here) is a 400. Alerts are kept 30 days.",
        parameters: [
          {
            name: "metric_type",
            in: "query",
            description: "Only alerts of this metric type",
            schema: { type: "string", enum: metricTypeNames },
          },
          { name: "symbol", in: "query", description: "Only alerts of this symbol", schema: { type: "string" }, example: "btceur" },
          param("since"),
          param("limit"),
        ],
        responses: {
          "200": fresh("The alerts", ref("AlertList"), ALERT_EXAMPLE),
          "400": response("BadRequest"),
          "503": response("Unavailable"),
        },
      },
    },
    "/metric_types/{metric_type}/metrics/{symbol}/alerts": {
      parameters: [param("metric_type"), param("symbol")],
      get: {
        tags: ["alerts"],
        operationId: "getMetricAlerts",
        summary: "A metric's alerts, newest first (an empty list when it has none)",
        parameters: [param("since"), param("limit")],
        responses: {
          "200": fresh("The metric's alerts", ref("AlertList"), ALERT_EXAMPLE),
          "400": response("BadRequest"),
          "404": response("NotFound"),
          "503": response("Unavailable"),
        },
      },
    },
    "/openapi.json": {
      get: {
        tags: ["status"],
        operationId: "openapi",
        summary: "This document",
        responses: {
          "200": cached("The OpenAPI 3.1 description of the API", { type: "object", required: ["openapi", "paths"] }, undefined),
          ...common,
        },
      },
    },
    "/metric_types": {
      get: {
        tags: ["metrics"],
        operationId: "listMetricTypes",
        summary: "The metric types the tracker computes",
        responses: { "200": cached("Every metric type", ref("MetricTypeList"), { metric_types: METRIC_TYPES }), ...common },
      },
    },
    "/metric_types/{metric_type}": {
      parameters: [param("metric_type")],
      get: {
        tags: ["metrics"],
        operationId: "getMetricType",
        summary: "One metric type",
        responses: {
          "200": cached("The metric type", ref("MetricType"), METRIC_TYPES[0]),
          ...onType,
        },
      },
    },
    "/metric_types/{metric_type}/metrics": {
      parameters: [param("metric_type")],
      get: {
        tags: ["metrics"],
        operationId: "listMetrics",
        summary: "The metrics of a type with at least one point in the last 24 h, by symbol",
        responses: {
          "200": cached("The metrics", ref("MetricList"), {
            metrics: [
              { metric_type: "price", symbol: "adausd" },
              { metric_type: "price", symbol: "btceur" },
            ],
          }),
          ...onType,
        },
      },
    },
    "/metric_types/{metric_type}/latest": {
      parameters: [param("metric_type")],
      get: {
        tags: ["metrics"],
        operationId: "latestValues",
        summary: "The latest value of every metric of a type, by symbol",
        responses: {
          "200": cached("The latest point of each metric with a point in the last 24 h", ref("LatestList"), {
            metric_type: "price",
            latest: [
              { symbol: "adausd", time: T, value: 1.1122 },
              { symbol: "btceur", time: T, value: 50050 },
            ],
          }),
          ...onType,
        },
      },
    },
    "/metric_types/{metric_type}/ranking": {
      parameters: [param("metric_type")],
      get: {
        tags: ["volatility"],
        operationId: "ranking",
        summary: "Every metric of a type ranked by the standard deviation of its last 24 h",
        description:
          "Population standard deviation of each metric's points in the window; `RANK()` over it, most volatile first " +
          "(ties share a rank, so the last rank may be below `total`). Ordered by rank, then symbol.",
        responses: {
          "200": cached("The ranking", ref("Ranking"), {
            metric_type: "price",
            total: 3,
            ranking: [
              { rank: 1, symbol: "btceur", stddev: 212.5 },
              { rank: 2, symbol: "adausd", stddev: 0.004 },
              { rank: 2, symbol: "ethbtc", stddev: 0.004 },
            ],
          }),
          ...onType,
        },
      },
    },
    "/metric_types/{metric_type}/metrics/{symbol}": {
      parameters: [param("metric_type"), param("symbol")],
      get: {
        tags: ["metrics"],
        operationId: "getMetric",
        summary: "One metric, with its latest value",
        responses: {
          "200": cached("The metric", ref("Metric"), {
            metric_type: "volume",
            symbol: "btc",
            latest: { time: T, value: 40 },
          }),
          ...onType,
        },
      },
    },
    "/metric_types/{metric_type}/metrics/{symbol}/history": {
      parameters: [param("metric_type"), param("symbol")],
      get: {
        tags: ["metrics"],
        operationId: "getHistory",
        summary: "Every point of a metric in the last 24 h, oldest first",
        responses: {
          "200": cached("The history: ISO-8601 UTC minute -> value", ref("History"), {
            history: { "2026-11-29T17:03:00.000Z": 1458881474.98, [T]: 1458902210.5 },
          }),
          ...onType,
        },
      },
    },
    "/metric_types/{metric_type}/metrics/{symbol}/rank": {
      parameters: [param("metric_type"), param("symbol")],
      get: {
        tags: ["volatility"],
        operationId: "getRank",
        summary: "A metric's volatility rank among the metrics of its type",
        description: "The metric's row of `/metric_types/{metric_type}/ranking`: rank 1 is the most volatile.",
        responses: { "200": cached("The rank", ref("Rank"), { rank: 53, total: 1050 }), ...onType },
      },
    },
  },
  components: {
    parameters: {
      metric_type: {
        name: "metric_type",
        in: "path",
        required: true,
        description: "A metric type (see `/metric_types`)",
        schema: { type: "string", enum: metricTypeNames },
        example: "price",
      },
      symbol: {
        name: "symbol",
        in: "path",
        required: true,
        description:
          "A pair (`btceur`) for `price`, an asset (`btc`) for `volume`. Read lower-case (`BTCEUR` is `btceur`).",
        schema: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" },
        example: "btceur",
      },
      since: {
        name: "since",
        in: "query",
        description: "Only alerts of ticks at or after this time: ISO-8601 with a date, or epoch milliseconds",
        schema: { type: "string", pattern: "^([0-9]{1,15}|[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?)$" },
        example: "2026-11-29T00:00:00Z",
      },
      limit: {
        name: "limit",
        in: "query",
        description: "At most this many alerts",
        schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
        example: 20,
      },
    },
    headers: {
      CacheControl: {
        description: "`public, max-age=<seconds to the next minute>`: valid until the next tick",
        required: true,
        schema: { type: "string", pattern: "^public, max-age=[1-9][0-9]*$" },
        example: "public, max-age=37",
      },
      ETag: {
        description: "Weak validator of the stored data and the minute; send it back in `If-None-Match`",
        required: true,
        schema: { type: "string", pattern: '^W/"[^"]+"$' },
        example: 'W/"3f2a9c1d8e7b6a50-1042-29405044"',
      },
      AccessControlAllowOrigin: {
        description: "Cross-origin GET is allowed",
        required: true,
        schema: { type: "string", const: "*" },
      },
      NoStore: {
        description: "Errors are not cached",
        required: true,
        schema: { type: "string", const: "no-store" },
      },
    },
    responses: {
      NotModified: {
        description: "`If-None-Match` matched the current ETag: the cached answer is still valid",
        headers: {
          "Cache-Control": { $ref: "#/components/headers/CacheControl" },
          ETag: { $ref: "#/components/headers/ETag" },
        },
      },
      BadRequest: {
        description: "Malformed path parameter",
        headers: { "Cache-Control": { $ref: "#/components/headers/NoStore" } },
        content: json(ref("Error"), {
          status: 400,
          error: "Malformed symbol \"b c\": expected 1-64 characters of a-z, 0-9, '.', '_' or '-'",
        }),
      },
      NotFound: {
        description: "Unknown metric type, metric (no point in the last 24 h) or path; the message names it",
        headers: { "Cache-Control": { $ref: "#/components/headers/NoStore" } },
        content: json(ref("Error"), { status: 404, error: 'Metric type "foo" does not exist' }),
      },
      MethodNotAllowed: {
        description: "Any method but GET, HEAD and OPTIONS, on any path",
        headers: { "Cache-Control": { $ref: "#/components/headers/NoStore" } },
        content: json(ref("Error"), { status: 405, error: "Method POST is not allowed: the API is read-only (GET)" }),
      },
      Unavailable: {
        description: "The database is temporarily unavailable; retry shortly",
        headers: { "Cache-Control": { $ref: "#/components/headers/NoStore" } },
        content: json(ref("Error"), { status: 503, error: "The database is temporarily unavailable; try again shortly" }),
      },
    },
    schemas: {
      Time: {
        type: "string",
        description: "ISO-8601 UTC, a whole minute (the tick's)",
        pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:00\\.000Z$",
        examples: [T],
      },
      MetricTypeName: { type: "string", enum: metricTypeNames },
      Symbol: { type: "string", pattern: "^[a-z0-9][a-z0-9._-]{0,63}$", examples: ["btceur"] },
      Status: {
        type: "object",
        additionalProperties: false,
        required: [...HEALTH_FIELDS, "metric_types", "sources"],
        properties: {
          ...HEALTH_PROPERTIES,
          metric_types: { type: "array", items: ref("MetricTypeName") },
          sources: {
            description: "Of the sources the latest tick read, how many answered (details: /sources); null before any",
            type: ["string", "null"],
            pattern: "^[0-9]+/[0-9]+ ok$",
          },
        },
      },
      SourceList: {
        type: "object",
        additionalProperties: false,
        required: ["sources"],
        properties: {
          sources: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["source", "status", "markets", "dropped", "latency_ms", "error", "tick", "last_success", "last_error", "last_error_message"],
              properties: {
                source: { type: "string", examples: ["kraken"] },
                status: { enum: ["ok", "error"] },
                markets: { type: "integer", minimum: 0, description: "Markets the source delivered to aggregation" },
                dropped: {
                  type: "object",
                  description:
                    "Markets left out, by reason: unknown_pair, not_trading, not_spot, test_market, malformed_market, " +
                    "unsupported_symbol at the source; duplicate, outlier, no_usable_value in aggregation",
                  additionalProperties: { type: "integer", minimum: 0 },
                },
                latency_ms: { type: "integer", minimum: 0 },
                error: { type: ["string", "null"], description: "This tick's error, or null" },
                tick: ref("Time"),
                last_success: { oneOf: [ref("Time"), { type: "null" }] },
                last_error: { oneOf: [ref("Time"), { type: "null" }] },
                last_error_message: { type: ["string", "null"] },
              },
            },
          },
        },
      },
      AlertList: {
        type: "object",
        additionalProperties: false,
        required: ["alerts"],
        properties: {
          alerts: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["id", "metric_type", "symbol", "time", "value", "average", "threshold", "points", "created_at", "delivery"],
              properties: {
                id: { type: "integer" },
                metric_type: ref("MetricTypeName"),
                symbol: ref("Symbol"),
                time: { ...ref("Time"), description: "The tick whose point jumped" },
                value: { type: "number", description: "That point" },
                average: { type: "number", description: "Mean of the metric's points in the hour before" },
                threshold: { type: "number", description: "average x ALERT_MULTIPLIER: value was above it" },
                points: { type: "integer", minimum: 1, description: "Points in that hour" },
                created_at: { type: "string", format: "date-time" },
                delivery: {
                  type: "object",
                  additionalProperties: false,
                  required: ["state", "attempts", "last_error", "delivered_at"],
                  properties: {
                    state: { enum: ["pending", "delivered", "failed", "not_configured"] },
                    attempts: { type: "integer", minimum: 0 },
                    last_error: { type: ["string", "null"] },
                    delivered_at: { oneOf: [{ type: "string", format: "date-time" }, { type: "null" }] },
                  },
                },
              },
            },
          },
        },
      },
      Health: {
        type: "object",
        additionalProperties: false,
        required: HEALTH_FIELDS,
        properties: HEALTH_PROPERTIES,
      },
      MetricType: {
        type: "object",
        additionalProperties: false,
        required: ["metric_type", "description"],
        properties: { metric_type: ref("MetricTypeName"), description: { type: "string" } },
      },
      MetricTypeList: {
        type: "object",
        additionalProperties: false,
        required: ["metric_types"],
        properties: { metric_types: { type: "array", items: ref("MetricType") } },
      },
      MetricList: {
        type: "object",
        additionalProperties: false,
        required: ["metrics"],
        properties: {
          metrics: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["metric_type", "symbol"],
              properties: { metric_type: ref("MetricTypeName"), symbol: ref("Symbol") },
            },
          },
        },
      },
      Point: {
        type: "object",
        additionalProperties: false,
        required: ["time", "value"],
        properties: { time: ref("Time"), value: { type: "number" } },
      },
      Metric: {
        type: "object",
        additionalProperties: false,
        required: ["metric_type", "symbol", "latest"],
        properties: { metric_type: ref("MetricTypeName"), symbol: ref("Symbol"), latest: ref("Point") },
      },
      LatestList: {
        type: "object",
        additionalProperties: false,
        required: ["metric_type", "latest"],
        properties: {
          metric_type: ref("MetricTypeName"),
          latest: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["symbol", "time", "value"],
              properties: { symbol: ref("Symbol"), time: ref("Time"), value: { type: "number" } },
            },
          },
        },
      },
      History: {
        type: "object",
        additionalProperties: false,
        required: ["history"],
        properties: {
          history: {
            type: "object",
            description: "Time -> value, oldest first",
            propertyNames: ref("Time"),
            additionalProperties: { type: "number" },
          },
        },
      },
      Rank: {
        type: "object",
        additionalProperties: false,
        required: ["rank", "total"],
        properties: { rank: { type: "integer", minimum: 1 }, total: { type: "integer", minimum: 1 } },
      },
      Ranking: {
        type: "object",
        additionalProperties: false,
        required: ["metric_type", "total", "ranking"],
        properties: {
          metric_type: ref("MetricTypeName"),
          total: { type: "integer", minimum: 0 },
          ranking: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["rank", "symbol", "stddev"],
              properties: {
                rank: { type: "integer", minimum: 1 },
                symbol: ref("Symbol"),
                stddev: { type: "number", minimum: 0 },
              },
            },
          },
        },
      },
      Error: {
        type: "object",
        additionalProperties: false,
        required: ["status", "error"],
        properties: { status: { type: "integer", minimum: 400, maximum: 599 }, error: { type: "string" } },
      },
    },
  },
};
