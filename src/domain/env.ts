/**
 * The Worker's environment: the vars and bindings `wrangler types` writes as
 * `Env`, plus the secrets, which wrangler.toml does not list.
 */
export interface Secrets {
  CRYPTOWATCH_API_KEY?: string;
  /** Where alerts are POSTed; no delivery when unset. */
  ALERT_WEBHOOK_URL?: string;
  /** Key of the X-Signature HMAC-SHA256 of each alert body; unsigned when unset. */
  ALERT_WEBHOOK_SECRET?: string;
}

/**
 * Each source's base URL var (`KRAKEN_API_URL`...): not in wrangler.toml, so
 * that its default is written once, in the source's module (src/sources/registry.ts
 * names them); unset or blank means that default.
 */
export type SourceUrlVars = { [urlVar: `${string}_API_URL`]: string | undefined };

export type TrackerEnv = Env & Secrets & SourceUrlVars;

/** Every secret above; the check below fails to compile when one is added there and not here. */
export const SECRET_NAMES = ["CRYPTOWATCH_API_KEY", "ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET"] as const satisfies readonly (keyof Secrets)[];
const everySecretListed: [Exclude<keyof Secrets, (typeof SECRET_NAMES)[number]>] extends [never] ? true : never = true;
void everySecretListed;

/** The values of the secrets that are set (to redact from every text that leaves the Worker). */
export function secretValues(env: Secrets): string[] {
  return SECRET_NAMES.flatMap((name) => {
    const value = env[name];
    return typeof value === "string" && value !== "" ? [value] : [];
  });
}
