/**
 * Upstream bodies are read with a 32 MB cap: a declared Content-Length above it
 * fails before reading, an endless (chunked) body fails once it passes it, and
 * in both cases only that source fails. The assertions are on errors and on
 * how much of the body was pulled, never on time.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runScheduled } from "../../src/ingest/tick";
import { getJson, MAX_BODY_BYTES, readBody } from "../../src/sources/http";
import { catalogStore } from "../../src/storage/catalogs";
import { fakeExchanges, TICKER_ROUTES } from "./exchanges";
import { resetDatabase, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const MB = 1024 * 1024;

/** A body that never ends: 1 MB of spaces per pull, counting the pulls. */
function endlessBody() {
  const counter = { pulls: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      counter.pulls++;
      controller.enqueue(new Uint8Array(MB).fill(0x20));
    },
  });
  return { stream, counter };
}

const context = (fetch: typeof globalThis.fetch, signal?: AbortSignal) => ({
  fetch: (url: string, init?: RequestInit) => fetch(url, init),
  catalogs: catalogStore(env.DB),
  now: T0,
  signal,
});

describe("the body cap", () => {
  it("is 32 MB", () => {
    expect(MAX_BODY_BYTES).toBe(32 * MB);
  });

  it("an endless body fails once past the cap, and no more than the cap (plus a chunk or two) is pulled", async () => {
    const { stream, counter } = endlessBody();
    const fetch = vi.fn(async () => new Response(stream));
    await expect(getJson(context(fetch), "okx", "https://okx.test/x")).rejects.toThrow(
      /^okx: response body \(more than \d+ bytes read\) is larger than the 32 MB cap$/,
    );
    expect(counter.pulls).toBeGreaterThan(32);
    expect(counter.pulls).toBeLessThanOrEqual(35);
  });

  it("a Content-Length above the cap fails before the body is read", async () => {
    const { stream, counter } = endlessBody();
    const fetch = vi.fn(async () => new Response(stream, { headers: { "content-length": String(300 * MB) } }));
    await expect(getJson(context(fetch), "binance", "https://binance.test/x")).rejects.toThrow(
      `binance: response body (Content-Length ${300 * MB}) is larger than the 32 MB cap`,
    );
    expect(counter.pulls).toBeLessThanOrEqual(1); // at most the stream's own first pull, before anyone reads
  });

  it("a body of exactly the cap is read; one byte more is not", async () => {
    const exactly = new Uint8Array(2 * MB).fill(0x20);
    await expect(readBody(new Response(exactly), "x", undefined, 2 * MB)).resolves.toHaveLength(2 * MB);
    await expect(readBody(new Response(new Uint8Array(2 * MB + 1)), "x", undefined, 2 * MB)).rejects.toThrow("larger than the 2 MB cap");
  });

  it("multi-byte characters split across chunks are decoded whole", async () => {
    const bytes = new TextEncoder().encode('{"name": "ſhib €"}');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    expect(JSON.parse(await readBody(new Response(stream), "x"))).toEqual({ name: "ſhib €" });
  });

  it("the source's timeout cancels a body that trickles in", async () => {
    const controller = new AbortController();
    let pulls = 0;
    const trickle = new ReadableStream<Uint8Array>({
      async pull(c) {
        pulls++;
        if (pulls === 3) controller.abort(new Error("timed out"));
        c.enqueue(new TextEncoder().encode(" "));
      },
    });
    await expect(readBody(new Response(trickle), "kucoin", controller.signal)).rejects.toThrow("kucoin: reading the body failed: timed out");
  });

  it("in a tick, an endless body fails that source only; the others are stored", async () => {
    const { stream } = endlessBody();
    fakeExchanges({ [TICKER_ROUTES.kucoin]: () => new Response(stream) });
    const outcome = await runScheduled({ ...env, SOURCES: "okx,kucoin" }, T0);
    expect(outcome.status).toBe("stored");
    if (outcome.status !== "stored") return;
    expect(outcome.sources.map((s) => [s.source, s.status])).toEqual([
      ["okx", "ok"],
      ["kucoin", "error"],
    ]);
    expect(outcome.sources[1]!.error).toMatch(/^kucoin: response body .* is larger than the 32 MB cap$/);
    expect(outcome.points).toBeGreaterThan(0);
  });
});
