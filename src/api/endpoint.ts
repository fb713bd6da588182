/**
 * What every endpoint does before its handler: parse the parameters it
 * declares, open a D1 session and read the tracker state, answer a matching
 * If-None-Match with 304, and serve the edge cache. Parameters come first, so a
 * malformed symbol is a 400 and an unknown path a 404 even with a conditional
 * request (and so is a range the definition's `check` refuses); /openapi.json
 * never touches D1.
 */
import type { IRequest } from "itty-router";
import type { TrackerEnv } from "../domain/env";
import { MINUTE_MS } from "../lib/time";
import { readState } from "../storage/ticks";
import { fromEdgeCache, edgeCacheKey } from "./edge-cache";
import type { ApiArgs, ApiRequest } from "./http";
import type { Endpoint, PathParams } from "./endpoints";
import { parseArgs, type Args, type ParamName } from "./params";

/** Handles a definition's request, with its path and query parameters parsed. */
export type Handler<Path extends string, Query extends ParamName> = (
  request: ApiRequest,
  args: Pick<Args, Extract<PathParams<Path>, ParamName>> & Partial<Pick<Args, Query>>,
) => unknown;

const notModified = () => new Response(null, { status: 304 });

/** "etag" when If-None-Match names the current ETag, "any" for `*`. */
function conditional(request: IRequest, etag: string): "etag" | "any" | undefined {
  const tags = (request.headers.get("if-none-match") ?? "").split(",").map((tag) => tag.trim());
  return tags.includes(etag) ? "etag" : tags.includes("*") ? "any" : undefined;
}

/** FNV-1a, 32 bits: a validator for a constant body, not a security hash. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** The route of a definition (endpoints.ts) and its handler. */
export function endpoint<Path extends string, Query extends ParamName>(
  definition: Pick<Endpoint<Path, Query>, "path" | "query" | "freshness" | "edgeCache" | "check">,
  handle: Handler<Path, Query>,
) {
  const { freshness } = definition;
  const handler = handle as (request: ApiRequest, args: Partial<Args>) => unknown;
  const route = async (request: IRequest, ...[env]: ApiArgs): Promise<unknown> => {
    const api = request as ApiRequest;
    const url = new URL(request.url);
    const { args, canonical, variant } = parseArgs(url, definition.path, request.params, definition.query ?? []);
    api.now = Date.now();
    definition.check?.(args, api.now);

    if (freshness === "constant") {
      const body = await handler(api, args);
      api.etag = `W/"${fnv1a(JSON.stringify(body))}"`;
      return conditional(request, api.etag) ? notModified() : body;
    }

    api.db = (env as TrackerEnv).DB.withSession("first-unconstrained");
    api.state = await readState(api.db);
    if (freshness === "fresh") return handler(api, args);

    // The answer depends on the data's state and the minute (the 24 h window slides).
    // A query other than the defaults (?window=7d) names another answer: its own validator.
    const query = variant === "" ? "" : `-${fnv1a(variant)}`;
    api.etag = `W/"${api.state.epoch}-${api.state.version}-${Math.floor(api.now / MINUTE_MS)}${query}"`;
    const match = conditional(request, api.etag);
    if (match === "etag") return notModified();
    if (match === "any") {
      // `*` asks whether the resource exists: only a handler that answers says so.
      await handler(api, args);
      return notModified();
    }
    if (definition.edgeCache) {
      const hit = await fromEdgeCache(request, edgeCacheKey(url.origin, canonical, api.etag));
      if (hit) return hit;
    }
    return handler(api, args);
  };
  return [definition.path, route] as const;
}
