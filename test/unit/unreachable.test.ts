/**
 * An upstream that cannot be reached (no network, a name that does not
 * resolve, a refused connection) is named as such, with its host, not in the
 * runtime's words ("internal error; reference = ...").
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getJson as getUpstreamJson, requestFailure } from "../../src/sources/http";
import { catalogStore } from "../../src/storage/catalogs";
import { getJson, resetDatabase, runCron, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const context = { fetch: (url: string, init?: RequestInit) => fetch(url, init), catalogs: catalogStore(env.DB), now: T0 };

/** The message getJson's error carries when fetch rejects with `err`. */
async function failureOf(url: string, err?: unknown): Promise<string> {
  if (err !== undefined) vi.spyOn(globalThis, "fetch").mockRejectedValue(err);
  const failure = await getUpstreamJson(context, "kraken", url).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(Error);
  return (failure as Error).message;
}

describe("an upstream that cannot be reached", () => {
  it("no network or an unresolvable name (workerd: internal error; reference = ...): could not reach <host>", async () => {
    expect(await failureOf("https://api.kraken.com/0/public/Ticker", new Error("internal error; reference = abc123"))).toBe(
      "kraken: could not reach api.kraken.com (no network, or its name does not resolve)",
    );
  });

  it("a refused connection (workerd: Network connection lost.): could not reach <host:port>", async () => {
    expect(await failureOf("http://127.0.0.1:9/pairs", new Error("Network connection lost."))).toBe(
      "kraken: could not reach 127.0.0.1:9 (connection refused or lost)",
    );
  });

  it("these are the runtime's real words: a real fetch of a name that cannot resolve and of a closed port", async () => {
    // RFC 6761: .invalid never resolves, with or without a network. Port 9 (discard) is closed here.
    expect(await failureOf("https://tracker-test.invalid/x")).toBe("kraken: could not reach tracker-test.invalid (no network, or its name does not resolve)");
    expect(await failureOf("http://127.0.0.1:9/x")).toBe("kraken: could not reach 127.0.0.1:9 (connection refused or lost)");
  });

  it("any other failure keeps its own words", () => {
    expect(requestFailure(new TypeError("Fetch API cannot load: ftp://x"), "ftp://x")).toBe("request failed: Fetch API cannot load: ftp://x");
    expect(requestFailure(new DOMException("The operation was aborted due to timeout", "TimeoutError"), "https://a.test/")).toBe(
      "request failed: The operation was aborted due to timeout",
    );
    // The runtime's words only when they are the whole message, not quoted inside another.
    expect(requestFailure(new Error("upstream said: internal error; reference = x"), "https://a.test/")).toBe(
      "request failed: upstream said: internal error; reference = x",
    );
  });

  it("a tick offline: GET /sources says which host could not be reached", async () => {
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new Error("internal error; reference = zz9"));
    await runCron(T0);
    const { body } = await getJson("/sources");
    expect(body.sources).toEqual([
      expect.objectContaining({
        source: "cryptowatch",
        status: "error",
        error: "cryptowatch: could not reach cryptowatch.test (no network, or its name does not resolve)",
      }),
    ]);
  });
});
