import { json, Router, type IRequest } from "itty-router";
import type { TrackerEnv } from "../config";
import { dashboard, prefersHtml } from "./dashboard";
import { toEdgeCache } from "./edge-cache";
import { endpoint } from "./endpoint";
import { apiHeaders, corsify, notFound, onlyReads, preflight, renderError, type ApiArgs } from "./http";
import { openApiDocument } from "./openapi";
import * as routes from "./routes";

export const router = Router<IRequest, ApiArgs>({
  before: [preflight, onlyReads],
  catch: renderError,
  finally: [json, apiHeaders, toEdgeCache, corsify],
});

const onType = ["metric_type"] as const;
const onMetric = ["metric_type", "symbol"] as const;
const alertQuery = ["limit", "since"] as const;

router
  .get("/", endpoint({ freshness: "tick" }, routes.root))
  .get("/health", endpoint({ freshness: "tick" }, routes.health))
  .get("/sources", endpoint({ freshness: "tick", edgeCache: true }, routes.sources))
  .get("/openapi.json", endpoint({ freshness: "constant" }, () => openApiDocument))
  .get("/metric_types", endpoint({ freshness: "tick", edgeCache: true }, routes.metricTypes))
  .get("/metric_types/:metric_type", endpoint({ path: onType, freshness: "tick", edgeCache: true }, routes.oneMetricType))
  .get("/metric_types/:metric_type/metrics", endpoint({ path: onType, freshness: "tick", edgeCache: true }, routes.metrics))
  .get("/metric_types/:metric_type/ranking", endpoint({ path: onType, freshness: "tick", edgeCache: true }, routes.ranking))
  .get("/metric_types/:metric_type/latest", endpoint({ path: onType, freshness: "tick", edgeCache: true }, routes.latest))
  .get("/metric_types/:metric_type/metrics/:symbol", endpoint({ path: onMetric, freshness: "tick", edgeCache: true }, routes.metric))
  .get("/metric_types/:metric_type/metrics/:symbol/history", endpoint({ path: onMetric, freshness: "tick", edgeCache: true }, routes.metricHistory))
  .get("/metric_types/:metric_type/metrics/:symbol/rank", endpoint({ path: onMetric, freshness: "tick", edgeCache: true }, routes.metricRank))
  .get("/metric_types/:metric_type/metrics/:symbol/alerts", endpoint({ path: onMetric, query: alertQuery, freshness: "fresh" }, routes.metricAlerts))
  .get("/alerts", endpoint({ query: [...alertQuery, "metric_type", "symbol"], freshness: "fresh" }, routes.alerts))
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
