/** The metrics API: each handler parses, calls storage, shapes the JSON. */
import { StatusError } from "itty-router";
import { findMetricType, METRIC_TYPES, type MetricTypeDefinition } from "../metric-types";
import { history, latestPoint, listMetrics, rankAll, rankOf } from "../storage/queries";
import { latestSourceStatuses } from "../storage/sources";
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
  const name = param(request, "symbol").toLowerCase();
  if (!SYMBOL.test(name)) {
    throw new StatusError(400, `Malformed symbol "${name}": expected 1-64 characters of a-z, 0-9, '.', '_' or '-'`);
  }
  return name;
}

function metricNotFound(type: MetricTypeDefinition, name: string): StatusError {
  return new StatusError(404, `Metric "${name}" of type "${type.metric_type}" does not exist (no point in the last 24 hours)`);
}

export async function root(request: ApiRequest) {
  const { state, now } = request;
  const statuses = await latestSourceStatuses(request.db);
  return {
    status: "ok",
    last_tick: state.last_tick === null ? null : iso(state.last_tick),
    last_tick_age_seconds: state.last_tick_stored_at === null ? null : Math.round((now - state.last_tick_stored_at) / 1000),
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

export function health() {
  return { status: "ok" };
}

export function metricTypes() {
  return { metric_types: METRIC_TYPES };
}

export function oneMetricType(request: ApiRequest) {
  return metricType(request);
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
