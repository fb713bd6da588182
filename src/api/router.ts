import { json, Router, type IRequest } from "itty-router";
import type { TrackerEnv } from "../config";
import { cacheHeaders, corsify, notFound, onlyReads, preflight, renderError, withState, type ApiArgs, type ApiRequest } from "./http";
import * as routes from "./routes";

type Handler = (request: ApiRequest) => unknown;
const read = (handler: Handler) => (request: IRequest) => handler(request as ApiRequest);

export const router = Router<IRequest, ApiArgs>({
  before: [preflight, onlyReads, withState],
  catch: renderError,
  finally: [json, cacheHeaders, corsify],
});

router
  .get("/", read(routes.root))
  .get("/health", read(routes.health))
  .get("/sources", read(routes.sources))
  .get("/metric_types", read(routes.metricTypes))
  .get("/metric_types/:metric_type", read(routes.oneMetricType))
  .get("/metric_types/:metric_type/metrics", read(routes.metrics))
  .get("/metric_types/:metric_type/ranking", read(routes.ranking))
  .get("/metric_types/:metric_type/metrics/:symbol", read(routes.metric))
  .get("/metric_types/:metric_type/metrics/:symbol/history", read(routes.metricHistory))
  .get("/metric_types/:metric_type/metrics/:symbol/rank", read(routes.metricRank))
  .get("/metric_types/:metric_type/metrics/:symbol/alerts", read(routes.metricAlerts))
  .get("/alerts", read(routes.alerts))
  .all("*", notFound);

/** HEAD is answered as GET without a body. */
export async function handleFetch(request: Request, env: TrackerEnv, ctx: ExecutionContext): Promise<Response> {
  if (request.method !== "HEAD") return router.fetch(request, env, ctx);
  const response: Response = await router.fetch(new Request(request, { method: "GET" }), env, ctx);
  return new Response(null, response);
}
