/** Cross-cutting HTTP concerns of the API: errors, CORS, caching, HEAD. */
import { cors, error, StatusError, type IRequest } from "itty-router";
import type { TrackerEnv } from "../config";
import { readState, type TrackerState } from "../storage/ticks";
import { MINUTE_MS } from "../storage/window";

export type ApiArgs = [env: TrackerEnv, ctx: ExecutionContext];

/** What the `before` stage attaches to each request. */
export interface ApiRequest extends IRequest {
  /** Read-only D1 session: may be served by a read replica. */
  db: D1DatabaseSession;
  /** When the request is answered, epoch ms: the end of every 24 h window. */
  now: number;
  state: TrackerState;
  etag: string;
}

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
 * Opens the request's D1 session and reads the tracker state (one row). A
 * response depends only on the stored data (state.epoch and state.version,
 * bumped by every tick) and on the minute it is asked in (the 24 h window
 * slides), so that is the ETag, and a matching If-None-Match is answered before
 * any other query.
 */
export async function withState(request: IRequest, env: TrackerEnv): Promise<Response | undefined> {
  const api = request as ApiRequest;
  api.db = env.DB.withSession("first-unconstrained");
  api.now = Date.now();
  api.state = await readState(api.db);
  // Alerts and their delivery state change between ticks: no tick-versioned
  // ETag describes them, so they are answered fresh (no-store).
  if (/\/alerts\/?$/.test(new URL(request.url).pathname)) return undefined;
  api.etag = `W/"${api.state.epoch}-${api.state.version}-${Math.floor(api.now / MINUTE_MS)}"`;
  const ifNoneMatch = request.headers.get("if-none-match");
  if (ifNoneMatch && ifNoneMatch.split(",").some((tag) => tag.trim() === api.etag || tag.trim() === "*")) {
    return new Response(null, { status: 304 });
  }
  return undefined;
}

/** Successful responses are valid until the next tick, at the next minute. */
export function cacheHeaders(response: Response, request: IRequest): Response {
  const api = request as Partial<ApiRequest>;
  const cacheable = (response.status === 200 || response.status === 304) && api.etag !== undefined;
  const headers = new Headers(response.headers);
  if (cacheable) {
    const now = api.now ?? Date.now();
    const maxAge = Math.max(1, Math.ceil((Math.floor(now / MINUTE_MS + 1) * MINUTE_MS - now) / 1000));
    headers.set("cache-control", `public, max-age=${maxAge}`);
    headers.set("etag", api.etag!);
  } else if (!headers.has("cache-control")) {
    headers.set("cache-control", "no-store");
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** 4xx are the client's; anything else is logged and answered with a JSON 500. */
export function renderError(err: unknown, request: IRequest): Response {
  if (err instanceof StatusError && err.status >= 400 && err.status < 500) return error(err);
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  console.error({ msg: "request failed", err: text, url: request.url });
  // The database being unreachable or overloaded is not the request's fault
  // and may pass: 503, so clients and caches retry.
  if (/D1_|SQLITE_BUSY|Network connection lost|storage/i.test(text)) {
    return error(503, "The database is temporarily unavailable; try again shortly");
  }
  return error(500, "Internal error: the failure is logged");
}

export function notFound(request: IRequest): never {
  throw new StatusError(404, `Not found: ${new URL(request.url).pathname}`);
}
