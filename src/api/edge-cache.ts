/**
 * Cloudflare's cache in front of the expensive reads. An answer depends only on
 * the route's canonical URL (src/api/params.ts: parameters it does not read are
 * ignored, the ones it reads are normalised), the data's state (epoch +
 * version) and the minute it is asked in; the last two are what the ETag
 * names. Keyed by both, an answer computed once is served by that location's
 * cache to every request of the same minute, so the cost of a popular rank or
 * history is one query per location per minute, plus the one-row state read
 * every request makes. A tick changes the version, so a cached answer is never
 * served after the data changed.
 *
 * The Cache API works on a custom-domain route only; on *.workers.dev every
 * match misses and every put is dropped (README, "Deploy").
 */
import type { IRequest } from "itty-router";
import type { ApiArgs } from "./http";

interface CachedRequest extends IRequest {
  edgeCacheKey?: Request;
  edgeCacheHit?: boolean;
}

/** Long enough for the rest of the minute; the key changes with the minute anyway. */
const EDGE_TTL_SECONDS = 60;

export function edgeCacheKey(origin: string, canonical: string, etag: string): Request {
  const url = new URL(canonical, origin);
  url.searchParams.set("__state", etag.replace(/^W\/|"/g, ""));
  return new Request(url.toString(), { method: "GET" });
}

/** Answer from the cache when this route, state and minute were asked already. */
export async function fromEdgeCache(request: IRequest, key: Request): Promise<Response | undefined> {
  const cached = request as CachedRequest;
  cached.edgeCacheKey = key;
  const hit = await caches.default.match(key);
  if (hit) cached.edgeCacheHit = true;
  return hit;
}

/** `finally` stage: keep a fresh 200 for the rest of the minute. */
export function toEdgeCache(response: Response, request: IRequest, ...[, ctx]: ApiArgs): Response {
  const { edgeCacheKey: key, edgeCacheHit } = request as CachedRequest;
  if (key && !edgeCacheHit && response.status === 200) {
    // The client's Cache-Control (no-cache) would keep the Cache API from storing it.
    const stored = new Response(response.clone().body, response);
    stored.headers.set("cache-control", `public, max-age=${EDGE_TTL_SECONDS}`);
    ctx.waitUntil(
      caches.default.put(key, stored).catch((err: unknown) =>
        console.error({ msg: "edge cache put failed", err: String(err), url: request.url }),
      ),
    );
  }
  return response;
}
