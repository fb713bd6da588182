/**
 * Cloudflare's cache in front of the metric reads. An answer depends only on
 * the data's state (epoch + version) and the minute it is asked in, which is
 * what the ETag names; keyed by URL and ETag, an answer computed once is served
 * by that location's cache to every request of the same minute, so the cost of
 * a popular rank or history is one query per location per minute, plus the
 * one-row state read every request makes. A tick changes the version, so a
 * cached answer is never served after the data changed.
 */
import type { IRequest } from "itty-router";
import type { ApiArgs, ApiRequest } from "./http";

/** The expensive reads; cheap or non-versioned routes (/, /health, alerts) are left out. */
const CACHED_PATHS = /^\/metric_types\/|^\/sources$/;

interface CachedRequest extends ApiRequest {
  edgeCacheKey?: Request;
  edgeCacheHit?: boolean;
}

function cacheKey(request: ApiRequest): Request | undefined {
  const url = new URL(request.url);
  if (request.etag === undefined || !CACHED_PATHS.test(url.pathname)) return undefined;
  url.searchParams.set("__state", request.etag.replace(/^W\/|"/g, ""));
  return new Request(url.toString(), { method: "GET" });
}

/** `before` stage: answer from the cache when this state and minute were asked already. */
export async function fromEdgeCache(request: IRequest): Promise<Response | undefined> {
  const api = request as CachedRequest;
  api.edgeCacheKey = cacheKey(api);
  if (!api.edgeCacheKey) return undefined;
  const cached = await caches.default.match(api.edgeCacheKey);
  if (!cached) return undefined;
  api.edgeCacheHit = true;
  return cached;
}

/** `finally` stage: keep a fresh 200 for the rest of the minute (its Cache-Control). */
export function toEdgeCache(response: Response, request: IRequest, ...[, ctx]: ApiArgs): Response {
  const api = request as CachedRequest;
  if (api.edgeCacheKey && !api.edgeCacheHit && response.status === 200) {
    ctx.waitUntil(
      caches.default.put(api.edgeCacheKey, response.clone()).catch((err: unknown) =>
        console.error({ msg: "edge cache put failed", err: String(err), url: request.url }),
      ),
    );
  }
  return response;
}
