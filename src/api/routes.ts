/** The metrics API: each handler parses, calls storage, shapes the JSON. */
import { json, StatusError } from "itty-router";
import { alertFacts } from "../alerts/facts";
import { findMetricType, METRIC_TYPES, type MetricTypeDefinition } from "../metric-types";
import { listAlerts, type AlertFilter, type AlertRow } from "../storage/alerts";
import { history, latestPoint, latestPoints, listMetrics, rankAll, rankOf } from "../storage/queries";
import { latestSourceStatuses } from "../storage/sources";
import { maintenanceLag } from "../storage/ticks";
import { windowEndingAt } from "../storage/window";
import type { ApiRequest } from "./http";

const SYMBOL = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const iso = (ts: number) => new Date(ts).toISOString();

function param(request: ApiRequest, name: string): string {
  const raw = request.params[name] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new StatusError(400, `Malformed ${name.replace("_", " ")} in the path: "${raw}"`);
  }
}

function metricType(request: ApiRequest): MetricTypeDefinition {
  const name = param(request, "metric_type");
  const definition = findMetricType(name);
  if (!definition) throw new StatusError(404, `Metric type "${name}" does not exist`);
  return definition;
}

/** Symbols are lower-case; BTCEUR is read as btceur. */
function symbol(request: ApiRequest): string {
  return validSymbol(param(request, "symbol").toLowerCase());
}

function validSymbol(name: string): string {
  if (!SYMBOL.test(name)) {
    throw new StatusError(400, `Malformed symbol "${name}": expected 1-64 characters of a-z, 0-9, '.', '_' or '-'`);
  }
  return name;
}

function metricNotFound(type: MetricTypeDefinition, name: string): StatusError {
  return new StatusError(404, `Metric "${name}" of type "${type.metric_type}" does not exist (no point in the last 24 hours)`);
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

/** A tick older than this, or maintenance further behind, makes the tracker "degraded". */
export const HEALTH_LIMITS = { tickAgeSeconds: 5 * 60, lagSeconds: 30 * 60 };

/** What /health and / report: the age of the last stored tick and how far maintenance is behind it. */
function healthOf(request: ApiRequest) {
  const { state, now } = request;
  // Never negative, even if this isolate's clock is behind the one that stored the tick.
  const age = state.last_tick_stored_at === null ? null : Math.max(0, Math.round((now - state.last_tick_stored_at) / 1000));
  const lag = maintenanceLag(state);
  const reasons: string[] = [];
  if (age === null) reasons.push("no tick stored yet");
  else if (age > HEALTH_LIMITS.tickAgeSeconds) reasons.push(`the last tick was stored ${age} s ago (limit ${HEALTH_LIMITS.tickAgeSeconds} s)`);
  if ((lag.sums_lag_seconds ?? 0) > HEALTH_LIMITS.lagSeconds) reasons.push(`the rank sums are ${lag.sums_lag_seconds} s behind the last tick (limit ${HEALTH_LIMITS.lagSeconds} s)`);
  if ((lag.purge_lag_seconds ?? 0) > HEALTH_LIMITS.lagSeconds) reasons.push(`the purge is ${lag.purge_lag_seconds} s behind the last tick (limit ${HEALTH_LIMITS.lagSeconds} s)`);
  return {
    status: reasons.length === 0 ? ("ok" as const) : ("degraded" as const),
    reason: reasons.length === 0 ? null : reasons.join("; "),
    last_tick: state.last_tick === null ? null : iso(state.last_tick),
    last_tick_age_seconds: age,
    sums_lag_seconds: lag.sums_lag_seconds,
    purge_lag_seconds: lag.purge_lag_seconds,
  };
}

/** Liveness (200 while the Worker and D1 answer) and health; ?strict=1 makes "degraded" a 503. */
export function health(request: ApiRequest) {
  const body = healthOf(request);
  const strict = new URL(request.url).searchParams.get("strict");
  if (body.status === "degraded" && strict !== null && strict !== "0" && strict !== "false") {
    return json(body, { status: 503 });
  }
  return body;
}

/** The API shows a type's name and description; the rest of its definition is internal. */
const describe = ({ metric_type, description }: MetricTypeDefinition) => ({ metric_type, description });

export function metricTypes() {
  return { metric_types: METRIC_TYPES.map(describe) };
}

export function oneMetricType(request: ApiRequest) {
  return describe(metricType(request));
}

export async function metrics(request: ApiRequest) {
  const type = metricType(request);
  const symbols = await listMetrics(request.db, type.metric_type, windowEndingAt(request.now));
  return { metrics: symbols.map((name) => ({ metric_type: type.metric_type, symbol: name })) };
}

export async function metric(request: ApiRequest) {
  const type = metricType(request);
  const name = symbol(request);
  const latest = await latestPoint(request.db, type.metric_type, name, windowEndingAt(request.now));
  if (!latest) throw metricNotFound(type, name);
  return { metric_type: type.metric_type, symbol: name, latest: { time: iso(latest.ts), value: latest.value } };
}

export async function metricHistory(request: ApiRequest) {
  const type = metricType(request);
  const name = symbol(request);
  const points = await history(request.db, type.metric_type, name, windowEndingAt(request.now));
  if (points.length === 0) throw metricNotFound(type, name);
  return { history: Object.fromEntries(points.map((point) => [iso(point.ts), point.value])) };
}

export async function metricRank(request: ApiRequest) {
  const type = metricType(request);
  const name = symbol(request);
  const row = await rankOf(request.db, type.metric_type, name, windowEndingAt(request.now));
  if (!row) throw metricNotFound(type, name);
  return { rank: row.rank, total: row.total };
}

/** The whole ranking of a type (for the dashboard): rank, symbol, stddev. */
export async function ranking(request: ApiRequest) {
  const type = metricType(request);
  const rows = await rankAll(request.db, type.metric_type, windowEndingAt(request.now));
  return {
    metric_type: type.metric_type,
    total: rows.length,
    ranking: rows.map((row) => ({ rank: row.rank, symbol: row.symbol, stddev: row.stddev })),
  };
}

export const ALERTS_DEFAULT_LIMIT = 100;
export const ALERTS_MAX_LIMIT = 1000;

/** GET /alerts?metric_type=&symbol=&since=&limit= ; an unknown metric_type is a bad parameter: 400. */
export async function alerts(request: ApiRequest) {
  const query = new URL(request.url).searchParams;
  const filter = alertFilter(query);
  const type = single(query, "metric_type");
  if (type !== undefined) {
    if (!findMetricType(type)) throw new StatusError(400, `Unknown metric_type "${type}": expected one of ${METRIC_TYPES.map((t) => t.metric_type).join(", ")}`);
    filter.metricType = type;
  }
  const name = single(query, "symbol");
  if (name !== undefined) filter.symbol = validSymbol(name.toLowerCase());
  return { alerts: (await listAlerts(request.db, filter)).map(alertJson) };
}

/** GET /metric_types/{type}/metrics/{symbol}/alerts: that metric's alerts (an empty list when it has none). */
export async function metricAlerts(request: ApiRequest) {
  const type = metricType(request);
  const name = symbol(request);
  const filter = { ...alertFilter(new URL(request.url).searchParams), metricType: type.metric_type, symbol: name };
  return { alerts: (await listAlerts(request.db, filter)).map(alertJson) };
}

function alertFilter(query: URLSearchParams): AlertFilter {
  const filter: AlertFilter = { limit: ALERTS_DEFAULT_LIMIT };
  const limit = single(query, "limit");
  if (limit !== undefined) {
    if (!/^\d{1,9}$/.test(limit) || Number(limit) < 1 || Number(limit) > ALERTS_MAX_LIMIT) {
      throw new StatusError(400, `Malformed limit "${limit}": expected an integer from 1 to ${ALERTS_MAX_LIMIT}`);
    }
    filter.limit = Number(limit);
  }
  const since = single(query, "since");
  if (since !== undefined) filter.since = parseSince(since);
  return filter;
}

/** An ISO-8601 time with a date ("2026-11-29", "2026-11-29T17:04:00Z") or epoch milliseconds. */
function parseSince(raw: string): number {
  const ms = /^\d{1,15}$/.test(raw) ? Number(raw) : /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms)) {
    throw new StatusError(400, `Malformed since "${raw}": expected an ISO-8601 time (2026-11-29T17:04:00Z) or epoch milliseconds`);
  }
  return ms;
}

function single(query: URLSearchParams, name: string): string | undefined {
  const values = query.getAll(name);
  if (values.length > 1) throw new StatusError(400, `Parameter ${name} is given ${values.length} times`);
  if (values.length === 1 && values[0] === "") throw new StatusError(400, `Parameter ${name} is empty`);
  return values[0];
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
export async function latest(request: ApiRequest) {
  const type = metricType(request);
  const rows = await latestPoints(request.db, type.metric_type, windowEndingAt(request.now));
  return {
    metric_type: type.metric_type,
    latest: rows.map((row) => ({ symbol: row.symbol, time: iso(row.ts), value: row.value })),
  };
}
