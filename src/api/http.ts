/** Cross-cutting HTTP concerns of the API: errors, CORS, caching headers. */
import { cors, error, StatusError, type IRequest } from "itty-router";
import type { TrackerEnv } from "../domain/env";
import type { TrackerState } from "../storage/ticks";
import { LayoutMismatchError } from "../storage/layout";

export type ApiArgs = [env: TrackerEnv, ctx: ExecutionContext];

/** What an endpoint attaches to its request before its handler runs (src/api/endpoint.ts). */
export interface ApiRequest extends IRequest {
  /** Read-only D1 session: may be served by a read replica. */
  db: D1DatabaseSession;
  /** When the request is answered, epoch ms: the end of every 24 h window. */
  now: number;
  state: TrackerState;
  /** Set when the answer has a validator: tick-versioned reads and constant documents. */
  etag?: string;
}

/** How long a D1 failure (503) asks clients to wait before retrying, in seconds. */
export const RETRY_AFTER_SECONDS = 10;

export const { preflight, corsify } = cors({
  allowMethods: ["GET", "HEAD", "OPTIONS"],
  exposeHeaders: ["ETag", "Cache-Control"],
  maxAge: 86400,
});

export function onlyReads(request: IRequest): void {
  if (request.method !== "GET" && request.method !== "HEAD") {
    throw new StatusError(405, `Method ${request.method} is not allowed: the API is read-only (GET)`);
  }
}

/**
 * An answer with a validator is `public, no-cache`: any cache may keep it but
 * must revalidate it with the ETag before every reuse (a 304 costs one row
 * read), so no client reuses an answer after the tick that changed its data,
 * however late in the minute that tick lands. Everything else is `no-store`.
 * Every answer is `nosniff` and exposes its ETag to cross-origin scripts
 * (itty's cors() names exposed headers on preflights only).
 */
export function apiHeaders(response: Response, request: IRequest): Response {
  const { etag } = request as Partial<ApiRequest>;
  const headers = new Headers(response.headers);
  if ((response.status === 200 || response.status === 304) && etag !== undefined) {
    headers.set("cache-control", "public, no-cache");
    headers.set("etag", etag);
  } else if (!headers.has("cache-control")) {
    headers.set("cache-control", "no-store");
  }
  headers.set("x-content-type-options", "nosniff");
  headers.set("access-control-expose-headers", "ETag, Cache-Control");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** 4xx are the client's; anything else is logged and answered with a JSON 5xx. */
export function renderError(err: unknown, request: IRequest): Response {
  if (err instanceof StatusError && err.status >= 400 && err.status < 500) return error(err);
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error({ msg: "request failed", err: text, url: request.url });
  // The database being unreachable or overloaded is not the request's fault
  // and may pass: 503 with Retry-After, so clients and caches retry. A database
  // written with another storage layout (a deploy of the wrong version) says so.
  if (err instanceof LayoutMismatchError || /D1_|SQLITE_BUSY|Network connection lost|storage/i.test(text)) {
    const response = error(503, err instanceof LayoutMismatchError ? err.message : "The database is temporarily unavailable; try again shortly");
    response.headers.set("retry-after", String(RETRY_AFTER_SECONDS));
    return response;
  }
  return error(500, "Internal error: the failure is logged");
}

export function notFound(request: IRequest): never {
  throw new StatusError(404, `Not found: ${new URL(request.url).pathname}`);
}
