import { json, Router, type IRequest } from "itty-router";
import type { TrackerEnv } from "../config";
import { cacheHeaders, corsify, notFound, onlyReads, preflight, renderError, withState, type ApiArgs, type ApiRequest } from "./http";
import { dashboard, prefersHtml } from "./dashboard";
import { fromEdgeCache, toEdgeCache } from "./edge-cache";
import { openApiDocument } from "./openapi";
import * as routes from "./routes";

type Handler = (request: ApiRequest) => unknown;
const read = (handler: Handler) => (request: IRequest) => handler(request as ApiRequest);

export const router = Router<IRequest, ApiArgs>({
  before: [preflight, onlyReads, withState, fromEdgeCache],
  catch: renderError,
  finally: [json, cacheHeaders, toEdgeCache, corsify],
});

router
  .get("/", read(routes.root))
  .get("/health", read(routes.health))
  .get("/sources", read(routes.sources))
  .get("/openapi.json", () => openApiDocument)
  .get("/metric_types", read(routes.metricTypes))
  .get("/metric_types/:metric_type", read(routes.oneMetricType))
  .get("/metric_types/:metric_type/metrics", read(routes.metrics))
  .get("/metric_types/:metric_type/ranking", read(routes.ranking))
  .get("/metric_types/:metric_type/latest", read(routes.latest))
  .get("/metric_types/:metric_type/metrics/:symbol", read(routes.metric))
  .get("/metric_types/:metric_type/metrics/:symbol/history", read(routes.metricHistory))
  .get("/metric_types/:metric_type/metrics/:symbol/rank", read(routes.metricRank))
  .get("/metric_types/:metric_type/metrics/:symbol/alerts", read(routes.metricAlerts))
  .get("/alerts", read(routes.alerts))
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
