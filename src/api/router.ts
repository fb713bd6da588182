import { json, Router, type IRequest } from "itty-router";
import type { TrackerEnv } from "../domain/env";
import { dashboard, prefersHtml } from "./dashboard";
import { toEdgeCache } from "./edge-cache";
import { endpoint } from "./endpoint";
import { ENDPOINTS as E } from "./endpoints";
import { apiHeaders, corsify, notFound, onlyReads, preflight, renderError, type ApiArgs } from "./http";
import { openApi, openApiDocument } from "./openapi";
import * as routes from "./routes";

export const router = Router<IRequest, ApiArgs>({
  before: [preflight, onlyReads],
  catch: renderError,
  finally: [json, apiHeaders, toEdgeCache, corsify],
});

// Each definition with its handler; the definition types the handler's parameters.
router
  .get(...endpoint(E.status, routes.root))
  .get(...endpoint(E.health, routes.health))
  .get(...endpoint(E.sources, routes.sources))
  .get(...endpoint(openApi, () => openApiDocument))
  .get(...endpoint(E.metricTypes, routes.metricTypes))
  .get(...endpoint(E.metricType, routes.oneMetricType))
  .get(...endpoint(E.metrics, routes.metrics))
  .get(...endpoint(E.ranking, routes.ranking))
  .get(...endpoint(E.latest, routes.latest))
  .get(...endpoint(E.metric, routes.metric))
  .get(...endpoint(E.history, routes.metricHistory))
  .get(...endpoint(E.candles, routes.metricCandles))
  .get(...endpoint(E.rank, routes.metricRank))
  .get(...endpoint(E.markets, routes.metricMarkets))
  .get(...endpoint(E.metricAlerts, routes.alerts))
  .get(...endpoint(E.alerts, routes.alerts))
  .all("*", notFound);

/**
 * HEAD is answered as GET without a body. `/` is the dashboard for a browser
 * (content negotiation on Accept), the status JSON for everyone else.
 */
export async function handleFetch(request: Request, env: TrackerEnv, ctx: ExecutionContext): Promise<Response> {
  const root = new URL(request.url).pathname === "/";
  const reading = request.method === "GET" || request.method === "HEAD";
  if (root && reading && prefersHtml(request.headers.get("accept"))) {
    const page = await dashboard(request, env);
    if (page) return page;
  }
  let response: Response =
    request.method === "HEAD"
      ? new Response(null, await router.fetch(new Request(request, { method: "GET" }), env, ctx))
      : await router.fetch(request, env, ctx);
  if (root) {
    response = new Response(response.body, response);
    response.headers.append("vary", "Accept");
  }
  return response;
}
