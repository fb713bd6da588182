/**
 * Configured secrets never appear in what is stored, served or logged, even
 * when an upstream quotes them; upstream error texts are truncated.
 */
import { createExecutionContext, createMessageBatch } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TrackerEnv } from "../../src/domain/env";
import { runScheduled } from "../../src/ingest/tick";
import worker from "../../src/index";
import { secretValues } from "../../src/domain/env";
import { ERROR_TEXT_MAX_LENGTH, publicText, publicValue, redact } from "../../src/lib/redact";
import type { AlertMessage } from "../../src/alerts/messages";
import { alertById, storeAlerts } from "../../src/storage/alerts";
import { fakeExchanges } from "./exchanges";
import { fixtures, getJson, jsonResponse, MINUTE, resetDatabase, setNow, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

const KEY = "sekrit-Key/42+x";
const WEBHOOK = "https://hooks.example.test/T000/B000/tok3n-abc";
const SIGNING = "signing-secret-9";

/** Every console call made during a test, as one string. */
function consoleText(): () => string {
  const spies = (["log", "warn", "error", "info", "debug"] as const).map((level) => vi.spyOn(console, level));
  return () => JSON.stringify(spies.flatMap((spy) => spy.mock.calls));
}

describe("redaction helpers", () => {
  it("every set secret of src/config.ts is known, unset and empty ones are not", () => {
    expect(secretValues({ CRYPTOWATCH_API_KEY: KEY, ALERT_WEBHOOK_URL: WEBHOOK, ALERT_WEBHOOK_SECRET: SIGNING })).toEqual([KEY, WEBHOOK, SIGNING]);
    expect(secretValues({ CRYPTOWATCH_API_KEY: "", ALERT_WEBHOOK_URL: undefined })).toEqual([]);
  });

  it("replaces a secret as written and URL-encoded, every occurrence", () => {
    const text = `key ${KEY} is not valid (sent ${encodeURIComponent(KEY)}; ${KEY})`;
    expect(redact(text, [KEY])).toBe("key [redacted] is not valid (sent [redacted]; [redacted])");
  });

  it("redacts before truncating, so a cut never leaves the start of a secret", () => {
    const text = `${"x".repeat(ERROR_TEXT_MAX_LENGTH - 5)}${KEY}`;
    const shown = publicText(text, [KEY]);
    expect(shown).toHaveLength(ERROR_TEXT_MAX_LENGTH);
    expect(shown).not.toContain(KEY.slice(0, 4));
    expect(shown.endsWith("…")).toBe(true);
  });

  it("publicValue redacts strings anywhere inside a value, whatever characters the secret has", () => {
    const secret = 'a"b\\c';
    expect(publicValue({ error: `bad ${secret}`, nested: [{ x: secret }], n: 1 }, [secret])).toEqual({
      error: "bad [redacted]",
      nested: [{ x: "[redacted]" }],
      n: 1,
    });
  });
});

describe("an upstream 401 that quotes the API key", () => {
  it("is stored, served and logged with the key redacted", async () => {
    fakeExchanges({
      "cryptowatch.test/markets/summaries": () =>
        jsonResponse({ error: `API key ${KEY} is not valid; header X-CW-API-Key=${encodeURIComponent(KEY)}` }, 401),
    });
    const logged = consoleText();
    const outcome = await runScheduled({ ...env, SOURCES: "cryptowatch", CRYPTOWATCH_API_KEY: KEY }, T0);
    expect(outcome).toMatchObject({ status: "failed" });

    setNow(T0 + 30_000);
    const response = await getJson("/sources");
    const served = JSON.stringify(response.body);
    expect(response.body.sources[0]).toMatchObject({
      source: "cryptowatch",
      status: "error",
      error: "cryptowatch: HTTP 401: API key [redacted] is not valid; header X-CW-API-Key=[redacted]",
      last_error_message: "cryptowatch: HTTP 401: API key [redacted] is not valid; header X-CW-API-Key=[redacted]",
    });
    expect(JSON.stringify(outcome)).not.toContain(KEY);
    const stored = await env.DB.prepare("SELECT * FROM source_status").all();
    for (const text of [served, JSON.stringify(stored.results), logged()]) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(encodeURIComponent(KEY));
    }
    expect(logged()).toContain("[redacted]");
  });

  it("a failed /pairs refresh quoting the key is redacted in the fallback info too", async () => {
    const fake = fakeExchanges({
      "cryptowatch.test/markets/summaries": () => jsonResponse(fixtures.summaries),
      "cryptowatch.test/pairs": (request) =>
        jsonResponse(new URL(request.url).searchParams.has("cursor") ? fixtures.pairs[1] : fixtures.pairs[0]),
    });
    const vars = { ...env, SOURCES: "cryptowatch", CRYPTOWATCH_API_KEY: KEY };
    expect((await runScheduled(vars, T0)).status).toBe("stored");
    fake.routes["cryptowatch.test/pairs"] = () => jsonResponse({ error: `unknown key ${KEY}` }, 401);
    const logged = consoleText();
    const outcome = await runScheduled(vars, T0 + 2 * 60 * MINUTE);
    expect(outcome.status).toBe("stored");
    expect(outcome.status === "stored" && outcome.sources[0]!.info).toMatchObject({
      catalogue_fallback: { error: "cryptowatch: HTTP 401: unknown key [redacted]", catalogue_age_minutes: 120 },
    });
    expect(logged()).not.toContain(KEY);
  });

  it("a long error page is stored and served truncated", async () => {
    fakeExchanges({ "okx.test/api/v5/market/tickers": () => jsonResponse({ msg: "x".repeat(100_000) }, 502) });
    await runScheduled({ ...env, SOURCES: "okx" }, T0);
    setNow(T0 + 30_000);
    const okx = (await getJson("/sources")).body.sources[0];
    expect(okx.error).toHaveLength(ERROR_TEXT_MAX_LENGTH);
    expect(okx.error).toMatch(/^okx: HTTP 502: x+…$/);
    expect(okx.last_error_message).toBe(okx.error);
  });
});

describe("alert delivery errors", () => {
  it("a network error quoting the webhook URL is stored and logged without it", async () => {
    const [id] = await storeAlerts(
      env.DB,
      [{ metric_type: "price", symbol: "btceur", ts: T0, value: 1000, average: 100, threshold: 300, points: 30 }],
      T0,
      "pending",
    );
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
      throw new TypeError(`fetch to ${new Request(input).url} failed: connection refused (secret ${SIGNING})`);
    });
    const logged = consoleText();
    const vars: TrackerEnv = { ...env, ALERT_WEBHOOK_URL: WEBHOOK, ALERT_WEBHOOK_SECRET: SIGNING };
    const batch = createMessageBatch<AlertMessage>("alert-deliveries", [
      { id: "m1", timestamp: new Date(T0), attempts: 1, body: { kind: "delivery", alert_id: id! } },
    ]);
    await worker.queue(batch, vars, createExecutionContext());
    const alert = await alertById(env.DB, id!);
    expect(alert?.last_error).toBe("fetch to [redacted] failed: connection refused (secret [redacted])");
    expect(logged()).not.toContain("tok3n-abc");
    expect(logged()).not.toContain(SIGNING);
  });
});
