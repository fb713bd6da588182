/** Vars and secrets, parsed and validated once per invocation. */
import { secretValues, type TrackerEnv } from "./domain/env";
import { MINUTE_MS } from "./lib/time";
import { DEFAULT_RETENTION, MONTH_HOURS, type Retention } from "./domain/candles";
import { DEFAULT_SOURCES, isSourceName, SOURCES, type SourceName } from "./sources/registry";
import type { Source } from "./sources/types";

export interface Config {
  sources: Source[];
  /** Per-source request timeout, ms. */
  sourceTimeoutMs: number;
  /** Relative distance from a pair's median price beyond which a market's price is dropped. */
  outlierTolerance: number;
  /** The values of the secrets that are set, to redact from every text that leaves the Worker. */
  secrets: readonly string[];
  /** How long hourly and daily candles are kept. */
  retention: Retention;
}

export const DEFAULT_SOURCE_TIMEOUT_MS = 10_000;
/** t of the outlier rule (src/ingest/aggregate.ts) when OUTLIER_TOLERANCE is unset. */
export const DEFAULT_OUTLIER_TOLERANCE = 0.1;

/** A var with a value the tracker cannot run with; the tick logs it and writes nothing. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: TrackerEnv): Config {
  return {
    sources: sourceNames(env.SOURCES).map((name) => {
      const definition = SOURCES[name];
      const apiKey = definition.apiKeyVar ? env[definition.apiKeyVar] || undefined : undefined;
      return definition.create({ baseUrl: baseUrl(env[definition.urlVar], definition.urlVar, definition.defaultUrl), apiKey });
    }),
    sourceTimeoutMs: DEFAULT_SOURCE_TIMEOUT_MS,
    outlierTolerance: outlierTolerance(env.OUTLIER_TOLERANCE),
    secrets: secretValues(env),
    retention: candleRetention(env),
  };
}

/** Candles must outlive the month window the ranking reads (30 days) by a day. */
export const MIN_CANDLE_DAYS = MONTH_HOURS / 24 + 1;
const MAX_CANDLE_DAYS = 36_500;

/** HOURLY_CANDLE_DAYS (unset: 31) and DAILY_CANDLE_DAYS (unset or blank: for ever). */
export function candleRetention(env: { HOURLY_CANDLE_DAYS?: string; DAILY_CANDLE_DAYS?: string }): Retention {
  const days = (value: string | undefined, name: string, fallback: number | null) => {
    if (value === undefined || value.trim() === "") return fallback;
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < MIN_CANDLE_DAYS || n > MAX_CANDLE_DAYS) {
      throw new ConfigError(
        `${name} must be a whole number of days from ${MIN_CANDLE_DAYS} to ${MAX_CANDLE_DAYS}${fallback === null ? " (or blank: for ever)" : ""}, got "${value}"`,
      );
    }
    return n;
  };
  return {
    hourlyDays: days(env.HOURLY_CANDLE_DAYS, "HOURLY_CANDLE_DAYS", DEFAULT_RETENTION.hourlyDays)!,
    dailyDays: days(env.DAILY_CANDLE_DAYS, "DAILY_CANDLE_DAYS", DEFAULT_RETENTION.dailyDays),
  };
}

/** "kraken, coinbase" -> ["kraken", "coinbase"]; unset or blank -> every exchange source. */
export function sourceNames(value: string | undefined): SourceName[] {
  const names = [...new Set((value ?? "").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean))];
  if (names.length === 0) return [...DEFAULT_SOURCES];
  const unknown = names.filter((name) => !isSourceName(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `SOURCES names unknown source${unknown.length > 1 ? "s" : ""} ${unknown.map((n) => `"${n}"`).join(", ")}; ` +
        `known: ${Object.keys(SOURCES).join(", ")}`,
    );
  }
  return names as SourceName[];
}

export function outlierTolerance(value: string | undefined): number {
  if (value === undefined || value.trim() === "") return DEFAULT_OUTLIER_TOLERANCE;
  const tolerance = Number(value);
  if (!/^\s*\d*\.?\d+([eE][-+]?\d+)?\s*$/.test(value) || !Number.isFinite(tolerance) || tolerance <= 0) {
    throw new ConfigError(`OUTLIER_TOLERANCE must be a number > 0 (0.1 = 10 %), got "${value}"`);
  }
  return tolerance;
}

function baseUrl(value: string | undefined, name: string, fallback: string): string {
  if (value === undefined || value.trim() === "") return fallback;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http(s) URL, got "${value}"`);
  }
  return value.trim();
}

export interface AlertSettings {
  /** k: a point alerts when value > k × the mean of the previous hour. */
  multiplier: number;
  /** The previous hour must hold at least this many points of the metric. */
  minPoints: number;
  /** No two alerts of a metric closer than this, ms. */
  cooldownMs: number;
}

export interface AlertConfig {
  settings: AlertSettings;
  webhook: { url: string; secret: string | undefined; timeoutMs: number } | undefined;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Ticks are a minute apart, so the hour before a tick holds at most 59 points. */
export const MAX_ALERT_MIN_POINTS = 59;
export const MAX_ALERT_COOLDOWN_MINUTES = 24 * 60;

/** The alert vars and secrets, validated; throws ConfigError naming the bad one. */
export function loadAlertConfig(env: TrackerEnv): AlertConfig {
  const multiplier = number(env.ALERT_MULTIPLIER, "ALERT_MULTIPLIER", 3);
  if (!(multiplier >= 1)) throw new ConfigError(`ALERT_MULTIPLIER must be a number >= 1, got "${env.ALERT_MULTIPLIER}"`);
  const minPoints = integer(env.ALERT_MIN_POINTS, "ALERT_MIN_POINTS", 30, 1, MAX_ALERT_MIN_POINTS);
  const cooldown = integer(env.ALERT_COOLDOWN_MINUTES, "ALERT_COOLDOWN_MINUTES", 60, 0, MAX_ALERT_COOLDOWN_MINUTES);

  let webhook: AlertConfig["webhook"];
  if (env.ALERT_WEBHOOK_URL) {
    let url: URL;
    try {
      url = new URL(env.ALERT_WEBHOOK_URL);
    } catch {
      throw new ConfigError("ALERT_WEBHOOK_URL is not a URL");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new ConfigError(`ALERT_WEBHOOK_URL must be http(s), got ${url.protocol}`);
    }
    webhook = { url: url.href, secret: env.ALERT_WEBHOOK_SECRET || undefined, timeoutMs: DEFAULT_WEBHOOK_TIMEOUT_MS };
  }
  return { settings: { multiplier, minPoints, cooldownMs: cooldown * MINUTE_MS }, webhook };
}

function number(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new ConfigError(`${name} must be a number, got "${raw}"`);
  return value;
}

function integer(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  const value = number(raw, name, fallback);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
