/**
 * The OpenAPI 3.1 document, served at /openapi.json and rendered at /docs,
 * generated from the endpoint definitions (endpoints.ts) and the parameters'
 * rules (params.ts). What every endpoint shares follows from its definition:
 * - path parameters: from the path; query parameters: those it reads;
 * - a 304 and the cache headers unless it is `fresh` (then `no-store`);
 * - a 400 when it takes a parameter, a 404 when its path does (an unknown
 *   metric type or metric), a 503 when it reads D1.
 * test/unit/openapi-check.ts validates every response the tests receive
 * against this document.
 */
import { define, ENDPOINTS, object, type Endpoint } from "./endpoints";
import { SYMBOL_RULE } from "../lib/symbol";
import { PARAMS, type ParamName } from "./params";

const ref = (group: string, name: string) => ({ $ref: `#/components/${group}/${name}` });
const header = (name: string) => ref("headers", name);
const answer = (name: string) => ref("responses", name);
const error = (description: string, example: object) => ({
  description,
  headers: { "Cache-Control": header("NoStore") },
  content: { "application/json": { schema: ref("schemas", "Error"), example } },
});

function parameter(name: ParamName, where: "path" | "query", description?: string) {
  const { doc } = PARAMS[name];
  return {
    name,
    in: where,
    ...(where === "path" ? { required: true } : {}),
    description: description ?? doc[where],
    schema: doc.schema,
    example: doc.example,
  };
}

function operation(endpoint: Endpoint<string, ParamName>) {
  const { ok, freshness, query = [] } = endpoint;
  const inPath = [...endpoint.path.matchAll(/:(\w+)/g)].map((match) => match[1] as ParamName);
  const cached = freshness !== "fresh";
  return [
    endpoint.path.replace(/:(\w+)/g, "{$1}"),
    {
      ...(inPath.length > 0 ? { parameters: inPath.map((name) => parameter(name, "path")) } : {}),
      get: {
        tags: [endpoint.tag],
        operationId: endpoint.operationId,
        summary: endpoint.summary,
        ...(endpoint.description ? { description: endpoint.description } : {}),
        ...(query.length > 0 ? { parameters: query.map((name) => parameter(name, "query", endpoint.queryDoc?.[name])) } : {}),
        responses: {
          "200": {
            description: ok.description,
            headers: {
              "Cache-Control": header(cached ? "CacheControl" : "NoStore"),
              ...(cached ? { ETag: header("ETag") } : {}),
              "Access-Control-Allow-Origin": header("AccessControlAllowOrigin"),
              ...ok.headers,
            },
            content: { "application/json": { schema: ok.schema, ...(ok.example === undefined ? {} : { example: ok.example }) }, ...ok.content },
          },
          ...(cached ? { "304": answer("NotModified") } : {}),
          ...(inPath.length + query.length > 0 ? { "400": answer("BadRequest") } : {}),
          ...(inPath.length > 0 ? { "404": answer("NotFound") } : {}),
          ...(freshness !== "constant" ? { "503": answer("Unavailable") } : {}),
          ...endpoint.responses,
        },
      },
    },
  ] as const;
}

export const openApi = define({
  path: "/openapi.json",
  operationId: "openapi",
  tag: "status",
  summary: "This document",
  freshness: "constant",
  ok: { description: "The OpenAPI 3.1 description of the API", schema: { type: "object", required: ["openapi", "paths"] } },
});

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Crypto Data Tracker",
    version: "0.1.0",
    description: [
      "Crypto market metrics aggregated across exchanges every minute, with 24 hours of history and hourly and daily candles.",
      "",
      "Every endpoint answers `GET` (and `HEAD`, the same without a body) with JSON and allows cross-origin",
      "requests (`OPTIONS` preflight). The window of every endpoint is the 24 hours before the request:",
      "points with `now - 24 h < time <= now` (candles, and the rankings with `window=7d` or `30d`, reach further back).",
      "A successful answer carries `Cache-Control: public, no-cache` and a weak",
      "`ETag` of the stored data, the minute and any non-default query: caches revalidate before each reuse, and `If-None-Match` with the",
      "current ETag answers 304 (alerts, which change between ticks, are `no-store`). Errors are",
      "`{\"status\": <code>, \"error\": \"<message>\"}` with `Cache-Control: no-store`; any method but GET, HEAD",
      "and OPTIONS is a 405 of that shape.",
      "",
      "A browser asking for `/` (`Accept: text/html`) gets the dashboard; this reference is at `/docs`.",
    ].join("\n"),
    license: { name: "MIT", identifier: "MIT" },
  },
  tags: [
    { name: "status", description: "Is the tracker up, and when did it last tick" },
    { name: "metrics", description: "Metric types, metrics, their latest values, 24 h history and candles" },
    { name: "volatility", description: "Metrics ranked by the standard deviation of their last 24 h, 7 days or 30 days" },
    { name: "alerts", description: "Jumps of a metric above its last hour's mean, and their webhook delivery" },
  ],
  paths: Object.fromEntries([...Object.values(ENDPOINTS), openApi].map(operation)),
  components: {
    headers: {
      CacheControl: {
        description: "`public, no-cache`: any cache may keep the answer but must revalidate it (`If-None-Match`) before reuse",
        required: true,
        schema: { type: "string", const: "public, no-cache" },
        example: "public, no-cache",
      },
      ETag: {
        description: "Weak validator of the stored data and the minute; send it back in `If-None-Match`",
        required: true,
        schema: { type: "string", pattern: '^W/"[^"]+"$' },
        example: 'W/"3f2a9c1d8e7b6a50-1042-29405044"',
      },
      AccessControlAllowOrigin: { description: "Cross-origin GET is allowed", required: true, schema: { type: "string", const: "*" } },
      NoStore: { description: "Errors are not cached", required: true, schema: { type: "string", const: "no-store" } },
    },
    responses: {
      NotModified: {
        description: "`If-None-Match` matched the current ETag: the cached answer is still valid",
        headers: { "Cache-Control": header("CacheControl"), ETag: header("ETag") },
      },
      BadRequest: error("Malformed path or query parameter", { status: 400, error: `Malformed symbol "b c": expected ${SYMBOL_RULE}` }),
      NotFound: error("Unknown metric type, metric (no point in the last 24 h) or path; the message names it", {
        status: 404,
        error: 'Metric type "foo" does not exist',
      }),
      MethodNotAllowed: error("Any method but GET, HEAD and OPTIONS, on any path", {
        status: 405,
        error: "Method POST is not allowed: the API is read-only (GET)",
      }),
      Unavailable: {
        ...error("The database is temporarily unavailable; retry after `Retry-After` seconds", {
          status: 503,
          error: "The database is temporarily unavailable; try again shortly",
        }),
        headers: {
          "Cache-Control": header("NoStore"),
          "Retry-After": { description: "Seconds to wait before retrying", required: true, schema: { type: "string", pattern: "^[1-9][0-9]*$" } },
        },
      },
    },
    schemas: {
      Error: object({ status: { type: "integer", minimum: 400, maximum: 599 }, error: { type: "string" } }),
    },
  },
};
