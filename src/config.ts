/** Vars and secrets, parsed and validated once per invocation. */
import { DEFAULT_OUTLIER_TOLERANCE } from "./ingest/aggregate";
import { DEFAULT_SOURCES, isSourceName, SOURCES, type SourceName } from "./sources/registry";
import type { Source } from "./sources/types";

/** Secrets are not in wrangler.toml, so `wrangler types` does not list them. */
export interface Secrets {
  CRYPTOWATCH_API_KEY?: string;
}

export type TrackerEnv = Env & Secrets;

export interface Config {
  sources: Source[];
  /** Per-source request timeout, ms. */
  sourceTimeoutMs: number;
  /** Relative distance from a pair's median price beyond which a market's price is dropped. */
  outlierTolerance: number;
}

export const DEFAULT_SOURCE_TIMEOUT_MS = 10_000;

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
      return definition.create(baseUrl(env[definition.urlVar], definition.urlVar, definition.defaultUrl), env);
    }),
    sourceTimeoutMs: DEFAULT_SOURCE_TIMEOUT_MS,
    outlierTolerance: outlierTolerance(env.OUTLIER_TOLERANCE),
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
