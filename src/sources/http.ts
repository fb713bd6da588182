import { errorText } from "../lib/errors";
import { UpstreamError, type SourceContext } from "./types";

/** Some exchanges (Coinbase) refuse requests without a User-Agent. */
const USER_AGENT = "crypto-data-tracker";

/**
 * The largest upstream body read, in bytes. The largest real one (Binance's
 * exchangeInfo without permission sets, KuCoin's allTickers) is a few MB; a
 * Worker isolate has 128 MB, and a body is held as bytes, then text, then
 * parsed JSON.
 */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

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
    throw new UpstreamError(source, requestFailure(err, url));
  }
  const body = await readBody(response, source, ctx.signal);
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

/**
 * The body as text, read with the byte cap: a declared Content-Length above it
 * fails before reading, and a chunked or endless body fails as soon as it
 * passes it (the stream is cancelled, so memory stays bounded). The tick's
 * timeout (`signal`) cancels a body that trickles in too slowly.
 */
export async function readBody(
  response: Response,
  source: string,
  signal?: AbortSignal,
  maxBytes = MAX_BODY_BYTES,
): Promise<string> {
  const tooLarge = (what: string) =>
    new UpstreamError(source, `response body ${what} is larger than the ${maxBytes / (1024 * 1024)} MB cap`, response.status);
  const declared = response.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(`(Content-Length ${declared})`);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => undefined);
  signal?.addEventListener("abort", onAbort);
  const decoder = new TextDecoder();
  const parts: string[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (signal?.aborted) throw signal.reason;
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(`(more than ${size} bytes read)`);
      }
      parts.push(decoder.decode(value, { stream: true }));
    }
  } catch (err) {
    if (err instanceof UpstreamError) throw err;
    throw new UpstreamError(source, `reading the body failed: ${errorText(err)}`, response.status);
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  parts.push(decoder.decode());
  return parts.join("");
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * workerd's words when a fetch gets no connection: a refused connection
 * rejects with `Network connection lost.`; a host name that does not resolve
 * (and so every host when there is no network) with `internal error;
 * reference = <id>`, its wording for any failure it does not expose to
 * JavaScript (the lookup failure itself goes to workerd's log).
 */
const UNREACHABLE: [RegExp, string][] = [
  [/^internal error; reference = /, "no network, or its name does not resolve"],
  [/^Network connection lost\.?$/, "connection refused or lost"],
];

/** Why a request got no response at all, in words a reader can act on. */
export function requestFailure(err: unknown, url: string): string {
  const text = errorText(err);
  const cause = UNREACHABLE.find(([pattern]) => pattern.test(text))?.[1];
  return cause ? `could not reach ${hostOf(url)} (${cause})` : `request failed: ${text}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
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
