/** Vars and secrets, parsed and validated once per invocation. */
import { cryptowatch } from "./sources/cryptowatch";
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
}

export const DEFAULT_SOURCE_TIMEOUT_MS = 10_000;

export function loadConfig(env: TrackerEnv): Config {
  return {
    sources: [
      cryptowatch({
        baseUrl: env.CRYPTOWATCH_API_URL || "https://api.cryptowat.ch",
        apiKey: env.CRYPTOWATCH_API_KEY || undefined,
      }),
    ],
    sourceTimeoutMs: DEFAULT_SOURCE_TIMEOUT_MS,
  };
}
