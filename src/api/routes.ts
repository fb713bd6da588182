/** The metrics API: each handler gets its parameters parsed (params.ts), calls storage, shapes the JSON. */
import { json, StatusError } from "itty-router";
import { alertFacts, type AlertRow } from "../domain/alert";
import { priceMarkets, volumeMarkets } from "../domain/breakdown";
import { METRIC_TYPES, type MetricTypeDefinition } from "../domain/metric-types";
import { iso } from "../lib/time";
import { listAlerts, type AlertFilter } from "../storage/alerts";
import { candles, rankWindow } from "../storage/candle-queries";
import { history, latestPoint, latestPoints, listMetrics, rankAll, type LatestPoint } from "../storage/queries";
import { latestSourceStatuses } from "../storage/sources";
import { metricBreakdown } from "../storage/breakdowns";
import { maintenanceLag } from "../storage/ticks";
import { parseDayState } from "../storage/day";
import { windowEndingAt } from "../storage/window";
import type { ApiRequest } from "./http";
import { ALERTS_DEFAULT_LIMIT, candleRange, type Args } from "./params";

type On<K extends keyof Args> = Pick<Args, K>;

function metricNotFound(type: MetricTypeDefinition, name: string, window = "24 hours"): StatusError {
  return new StatusError(404, `Metric "${name}" of type "${type.metric_type}" does not exist (no point in the last ${window})`);
}

const WINDOW_WORDS = { "7d": "7 days", "30d": "30 days" } as const;

/** The ranking of a type over a window: the 24 h one from the points, the longer ones from the candles' moments. */
function rankingOver(request: ApiRequest, metricType: string, window: Args["window"] = "24h") {
  return window === "24h" ? rankAll(request.db, metricType, windowEndingAt(request.now)) : rankWindow(request.db, metricType, window);
}

/** A tick older than this, or maintenance further behind, makes the tracker "degraded". */
export const HEALTH_LIMITS = { tickAgeSeconds: 5 * 60, lagSeconds: 30 * 60 };

/** What /health and / report: the age of the last stored tick and how far maintenance is behind it. */
function healthOf({ state, now }: ApiRequest) {
  // Never negative, even if this isolate's clock is behind the one that stored the tick.
  const age = state.last_tick_stored_at === null ? null : Math.max(0, Math.round((now - state.last_tick_stored_at) / 1000));
  const lag = maintenanceLag(state);
  const reasons: string[] = [];
  if (age === null) reasons.push("no tick stored yet");
  else if (age > HEALTH_LIMITS.tickAgeSeconds) reasons.push(`the last tick was stored ${age} s ago (limit ${HEALTH_LIMITS.tickAgeSeconds} s)`);
  if ((lag.sums_lag_seconds ?? 0) > HEALTH_LIMITS.lagSeconds) {
    reasons.push(`the rank sums are ${lag.sums_lag_seconds} s behind the last tick (limit ${HEALTH_LIMITS.lagSeconds} s)`);
  }
  if ((lag.purge_lag_seconds ?? 0) > HEALTH_LIMITS.lagSeconds) {
    reasons.push(`the purge is ${lag.purge_lag_seconds} s behind the last tick (limit ${HEALTH_LIMITS.lagSeconds} s)`);
  }
  return {
    status: reasons.length === 0 ? ("ok" as const) : ("degraded" as const),
    reason: reasons.length === 0 ? null : reasons.join("; "),
    last_tick: state.last_tick === null ? null : iso(state.last_tick),
    last_tick_age_seconds: age,
    sums_lag_seconds: lag.sums_lag_seconds,
    purge_lag_seconds: lag.purge_lag_seconds,
    figures_24h: parseDayState(state.day).ok ? ("exact" as const) : ("rebuilding" as const),
  };
}

export async function root(request: ApiRequest) {
  const statuses = await latestSourceStatuses(request.db);
  return {
    ...healthOf(request),
    metric_types: METRIC_TYPES.map((type) => type.metric_type),
    // "6/7 ok": the sources the latest tick read, and how many answered (details: /sources).
    sources: statuses.length === 0 ? null : `${statuses.filter((s) => s.status === "ok").length}/${statuses.length} ok`,
  };
}

/** The health of each source at the latest tick: GET /sources. */
export async function sources(request: ApiRequest) {
  const statuses = await latestSourceStatuses(request.db);
  const time = (ts: number | null) => (ts === null ? null : iso(ts));
  return {
    sources: statuses.map((row) => ({
      source: row.source,
      status: row.status,
      markets: row.markets,
      dropped: row.dropped,
      latency_ms: row.latency_ms,
      error: row.error,
      tick: iso(row.tick),
      last_success: time(row.last_success),
      last_error: time(row.last_error),
      last_error_message: row.last_error_message,
    })),
  };
}

/** Liveness (200 while the Worker and D1 answer) and health; ?strict=1 makes "degraded" a 503. */
export function health(request: ApiRequest, { strict }: Partial<On<"strict">>) {
  const body = healthOf(request);
  return body.status === "degraded" && strict ? json(body, { status: 503 }) : body;
}

/** The API shows a type's name and description; the rest of its definition is internal. */
const describe = ({ metric_type, description }: MetricTypeDefinition) => ({ metric_type, description });

export function metricTypes() {
  return { metric_types: METRIC_TYPES.map(describe) };
}

export function oneMetricType(_: ApiRequest, { metric_type }: On<"metric_type">) {
  return describe(metric_type);
}

export async function metrics(request: ApiRequest, { metric_type: type }: On<"metric_type">) {
  const symbols = await listMetrics(request.db, type.metric_type, windowEndingAt(request.now));
  return { metrics: symbols.map((name) => ({ metric_type: type.metric_type, symbol: name })) };
}

/** One metric: its latest point and its 24 h figures. */
export async function metric(request: ApiRequest, { metric_type: type, symbol: name }: On<"metric_type" | "symbol">) {
  const latest = await latestPoint(request.db, type.metric_type, name, windowEndingAt(request.now));
  if (!latest) throw metricNotFound(type, name);
  return { metric_type: type.metric_type, symbol: name, latest: { time: iso(latest.ts), value: latest.value, ...dayFigures(latest) } };
}

/**
 * change_24h: relative change from the oldest point of the 24 h window to the
 * latest (null with fewer than 2 points, or from 0); min_24h, max_24h. All
 * null while the figures are rebuilt (after an outage, or the first deploy).
 */
function dayFigures(point: LatestPoint) {
  const { ts, value, first_ts, first, min, max } = point;
  const change = first_ts === null || first === null || first_ts >= ts || first === 0 ? null : (value - first) / first;
  return { change_24h: change, min_24h: min, max_24h: max };
}

export async function metricHistory(request: ApiRequest, { metric_type: type, symbol: name }: On<"metric_type" | "symbol">) {
  const points = await history(request.db, type.metric_type, name, windowEndingAt(request.now));
  if (points.length === 0) throw metricNotFound(type, name);
  return { history: Object.fromEntries(points.map((point) => [iso(point.ts), point.value])) };
}

export async function metricRank(
  request: ApiRequest,
  { metric_type: type, symbol: name, window = "24h" }: On<"metric_type" | "symbol"> & Partial<On<"window">>,
) {
  const row = (await rankingOver(request, type.metric_type, window)).find((r) => r.symbol === name);
  if (!row) throw metricNotFound(type, name, window === "24h" ? undefined : WINDOW_WORDS[window]);
  return { rank: row.rank, total: row.total };
}

/** The whole ranking of a type (for the dashboard): rank, symbol, stddev; the same body for every window. */
export async function ranking(request: ApiRequest, { metric_type: type, window }: On<"metric_type"> & Partial<On<"window">>) {
  const rows = await rankingOver(request, type.metric_type, window);
  return {
    metric_type: type.metric_type,
    total: rows.length,
    ranking: rows.map((row) => ({ rank: row.rank, symbol: row.symbol, stddev: row.stddev })),
  };
}

/** GET .../candles?interval=&since=&until=: the metric's hourly or daily candles, oldest first. */
export async function metricCandles(
  request: ApiRequest,
  { metric_type: type, symbol: name, ...query }: On<"metric_type" | "symbol"> & Partial<On<"interval" | "since" | "until">>,
) {
  const { interval, since, until } = candleRange(query, request.now);
  const found = await candles(request.db, type.metric_type, name, interval, since, until, request.now);
  if (!found) throw metricNotFound(type, name);
  return { metric_type: type.metric_type, symbol: name, interval, candles: found };
}

/**
 * GET /alerts?metric_type=&symbol=&since=&limit= (an unknown metric_type is a bad parameter: 400), and
 * GET /metric_types/{type}/metrics/{symbol}/alerts?since=&limit= (an empty list when the metric has none).
 */
export async function alerts(request: ApiRequest, args: Partial<Args>) {
  return { alerts: (await listAlerts(request.db, alertFilter(args))).map(alertJson) };
}

function alertFilter({ metric_type, symbol, since, limit }: Partial<Args>): AlertFilter {
  return { limit: limit ?? ALERTS_DEFAULT_LIMIT, since, metricType: metric_type?.metric_type, symbol };
}

function alertJson(alert: AlertRow) {
  return {
    ...alertFacts(alert),
    created_at: iso(alert.created_at),
    delivery: {
      state: alert.delivery_state,
      attempts: alert.attempts,
      last_error: alert.last_error,
      delivered_at: alert.delivered_at === null ? null : iso(alert.delivered_at),
    },
  };
}

/** The latest value of every metric of a type (for the dashboard's list), by symbol. */
export async function latest(request: ApiRequest, { metric_type: type }: On<"metric_type">) {
  const rows = await latestPoints(request.db, type.metric_type, windowEndingAt(request.now));
  return {
    metric_type: type.metric_type,
    latest: rows.map((row) => ({ symbol: row.symbol, time: iso(row.ts), value: row.value, ...dayFigures(row) })),
  };
}

/**
 * The markets behind a metric's latest point, as of the latest tick: its
 * breakdown is read only when that point is the latest tick's, so it always
 * describes the stored value.
 */
export async function metricMarkets(request: ApiRequest, { metric_type: type, symbol: name }: On<"metric_type" | "symbol">) {
  const latest = await latestPoint(request.db, type.metric_type, name, windowEndingAt(request.now));
  if (!latest) throw metricNotFound(type, name);
  const current = latest.ts === request.state.last_tick;
  const breakdown = current ? await metricBreakdown(request.db, latest.ts, type.metric_type, name) : undefined;
  const body = {
    symbol: name,
    time: iso(latest.ts),
    value: latest.value,
    // false when a source's document was too large to keep, or the tick predates the breakdown.
    complete: !breakdown || (breakdown.entries.length > 0 && breakdown.omitted.length === 0),
  };
  const entries = breakdown?.entries ?? [];
  if (type.metric_type !== "price") return { metric_type: type.metric_type, ...body, markets: volumeMarkets(entries, name) };
  const { median, markets } = priceMarkets(entries);
  return { metric_type: type.metric_type, ...body, median, tolerance: breakdown?.tolerance ?? null, markets };
}
