import { UpstreamError, type SourceContext } from "./types";

/** Some exchanges (Coinbase) refuse requests without a User-Agent. */
const USER_AGENT = "crypto-data-tracker";

/**
 * GET a JSON document from an upstream. Any network error, non-2xx status or
 * unparseable body becomes an UpstreamError carrying the upstream's own error
 * text when it sent one ({"error": "..."}, {"msg": "..."}, {"message": "..."}).
 */
export async function getJson(
  ctx: SourceContext,
  source: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<unknown> {
  let response: Response;
  try {
    response = await ctx.fetch(url, { headers: { accept: "application/json", "user-agent": USER_AGENT, ...headers } });
  } catch (err) {
    throw new UpstreamError(source, `request failed: ${errorText(err)}`);
  }
  const body = await response.text().catch((err) => {
    throw new UpstreamError(source, `reading the body failed: ${errorText(err)}`, response.status);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const detail = errorDetail(parsed);
    const what = response.status === 429 ? "rate limited (429)" : `HTTP ${response.status}`;
    throw new UpstreamError(source, `${what}${detail}`, response.status);
  }
  if (parsed === undefined) {
    throw new UpstreamError(source, "response is not JSON", response.status);
  }
  return parsed;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The error text an upstream put in an error body, if any. */
function errorDetail(body: unknown): string {
  if (Array.isArray(body) && body[0] === "error") return `: ${body.slice(1).join(" ")}`; // Bitfinex
  if (!isRecord(body)) return "";
  for (const key of ["error", "msg", "message", "reason"]) {
    const value = body[key];
    if (value !== undefined && value !== null && value !== "") {
      const text = typeof value === "string" ? value : Array.isArray(value) ? value.join(", ") : JSON.stringify(value);
      if (text !== "") return `: ${text}`;
    }
  }
  return "";
}
