import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { alertBody, signature } from "../../src/alerts/delivery";
import type { AlertMessage, DeliveryMessage, TickPart } from "../../src/alerts/messages";
import { AlertWindow } from "../../src/alerts/window";
import type { TrackerEnv } from "../../src/domain/env";
import { runScheduled } from "../../src/ingest/tick";
import worker from "../../src/index";
import type { AlertRow } from "../../src/domain/alert";
import { alertById } from "../../src/storage/alerts";
import { count, storedValues, DAY, fakeCryptowatch, MINUTE, resetDatabase, T0 } from "./helpers";

const WEBHOOK = "https://hooks.test/alerts";
const SECRET = "webhook-secret-for-tests";

/** A queue that records what is sent to it (the real ones would run their consumers in the background). */
function recordingQueue() {
  const sent: AlertMessage[] = [];
  const queue = {
    sent,
    async send(body: AlertMessage) {
      sent.push(body);
    },
    async sendBatch(messages: Iterable<MessageSendRequest<AlertMessage>>) {
      for (const message of messages) sent.push(message.body);
    },
  };
  return queue;
}

let deliveries: ReturnType<typeof recordingQueue>;
/** The DO's state outlives a test: each test works two days after the previous one. */
let base = T0;

beforeEach(async () => {
  await resetDatabase();
  deliveries = recordingQueue();
  base += 2 * DAY;
});
afterEach(() => vi.restoreAllMocks());

function testEnv(vars: Partial<TrackerEnv> = {}): TrackerEnv {
  return {
    ...env,
    ALERT_MIN_POINTS: "3",
    ALERT_WEBHOOK_URL: WEBHOOK,
    ALERT_WEBHOOK_SECRET: SECRET,
    ALERT_DELIVERIES: deliveries as unknown as Queue,
    ...vars,
  };
}

async function runQueue<T extends AlertMessage>(queue: string, bodies: T[], attempts = 1, vars: Partial<TrackerEnv> = {}) {
  const batch = createMessageBatch<AlertMessage>(
    queue,
    bodies.map((body, i) => ({ id: `msg-${i}`, timestamp: new Date(base), attempts, body })),
  );
  // getQueueResult reports which messages were retried but not their delay: record it.
  const delays: Record<string, number | undefined> = {};
  for (const message of batch.messages) {
    const retry = message.retry.bind(message);
    message.retry = (options) => {
      delays[message.id] = options?.delaySeconds;
      retry(options);
    };
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv(vars), ctx);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retryMessages: result.retryMessages.map(({ msgId }) => ({ msgId, delaySeconds: delays[msgId] })) };
}

function tick(minute: number, points: Record<string, number>, metric_type = "price"): TickPart {
  return { kind: "tick", ts: base + minute * MINUTE, metric_type, part: 0, parts: 1, symbols: Object.keys(points), values: Object.values(points) };
}

async function alerts(): Promise<AlertRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM alerts ORDER BY tick_ts, symbol").all<AlertRow>();
  return results;
}

describe("the tick queue consumer", () => {
  it("stores an alert for a point just above k × its last-hour average, not for one exactly at it", async () => {
    // Minutes 0-3: mean 100 for both metrics (50, 150, 100, 100).
    const warm = [50, 150, 100, 100].map((v, m) => tick(m, { btceur: v, ethbtc: v }));
    const result = await runQueue("alert-ticks", warm);
    expect(result.explicitAcks).toHaveLength(4);
    expect(await count("alerts")).toBe(0);

    await runQueue("alert-ticks", [tick(4, { btceur: 300, ethbtc: 300.5 })]);
    const stored = await alerts();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      metric_type: "price",
      symbol: "ethbtc",
      tick_ts: base + 4 * MINUTE,
      value: 300.5,
      average: 100,
      threshold: 300,
      points: 4,
      delivery_state: "pending",
      attempts: 0,
    });
    expect(deliveries.sent).toEqual([{ kind: "delivery", alert_id: stored[0]!.id }]);
  });

  it("does not alert before the hour holds ALERT_MIN_POINTS points", async () => {
    await runQueue("alert-ticks", [tick(0, { btc: 10 }), tick(1, { btc: 10 }), tick(2, { btc: 1000 })], 1, { ALERT_MIN_POINTS: "3" });
    expect(await count("alerts")).toBe(0);
    await runQueue("alert-ticks", [tick(3, { btc: 1000 })], 1, { ALERT_MIN_POINTS: "3" });
    // Hour: 10, 10, 1000 (mean 340): 1000 is below 1020.
    expect(await count("alerts")).toBe(0);
    await runQueue("alert-ticks", [tick(4, { btc: 3 * ((10 + 10 + 1000 + 1000) / 4) + 1 })], 1, { ALERT_MIN_POINTS: "3" });
    expect((await alerts()).map((a) => [a.symbol, a.average, a.points])).toEqual([["btc", 505, 4]]);
  });

  it("keeps one alert per metric per cooldown", async () => {
    const warm = Array.from({ length: 5 }, (_, m) => tick(m, { btc: 10 }));
    await runQueue("alert-ticks", warm, 1, { ALERT_MIN_POINTS: "5", ALERT_COOLDOWN_MINUTES: "10" });
    // A jump at minute 5, again at 6 (hour mean (50 + 100) / 6 = 25): the second is in the cooldown.
    await runQueue("alert-ticks", [tick(5, { btc: 100 }), tick(6, { btc: 200 })], 1, { ALERT_MIN_POINTS: "5", ALERT_COOLDOWN_MINUTES: "10" });
    expect((await alerts()).map((a) => a.tick_ts)).toEqual([base + 5 * MINUTE]);
    // Minute 15 is exactly 10 minutes later: allowed. Hour of minute 15: 0-6 (7 points, sum 350, mean 50).
    await runQueue("alert-ticks", [tick(15, { btc: 151 })], 1, { ALERT_MIN_POINTS: "5", ALERT_COOLDOWN_MINUTES: "10" });
    expect((await alerts()).map((a) => [a.tick_ts, a.average])).toEqual([
      [base + 5 * MINUTE, 10],
      [base + 15 * MINUTE, 50],
    ]);
  });

  it("a message delivered twice, or late, neither duplicates an alert nor skews an average", async () => {
    const vars = { ALERT_MIN_POINTS: "2" };
    await runQueue("alert-ticks", [tick(0, { btc: 10 }), tick(1, { btc: 20 })], 1, vars);
    const jump = tick(2, { btc: 46 }); // > 3 × 15
    await runQueue("alert-ticks", [jump], 1, vars);
    deliveries.sent.length = 0;
    // The same message again (at-least-once delivery): still one alert, not queued again...
    await runQueue("alert-ticks", [jump], 2, vars);
    expect(await count("alerts")).toBe(1);
    // ...unless it is still pending, in case the first hand-off to the delivery queue was lost.
    const [alert] = await alerts();
    expect(deliveries.sent).toEqual([{ kind: "delivery", alert_id: alert!.id }]);
    await env.DB.prepare("UPDATE alerts SET delivery_state = 'delivered'").run();
    deliveries.sent.length = 0;
    await runQueue("alert-ticks", [jump, tick(1, { btc: 20 })], 3, vars);
    expect(deliveries.sent).toEqual([]);
    expect(await count("alerts")).toBe(1);

    // Minute 3 after minutes 5 and 4 arrived: its hour is 0-2 (mean (10 + 20 + 46) / 3).
    await runQueue("alert-ticks", [tick(5, { eth: 1 }), tick(4, { eth: 1 })], 1, vars);
    await runQueue("alert-ticks", [tick(3, { btc: 76 })], 1, vars); // 76 = 3 × 25.33: below
    expect(await count("alerts")).toBe(1);
    // Minute 4 of btc, late, with a duplicate of minute 2 in between: hour 0-3, mean (10+20+46+76)/4 = 38.
    await runQueue("alert-ticks", [tick(2, { btc: 46 }), tick(4, { btc: 114.5 })], 1, { ...vars, ALERT_COOLDOWN_MINUTES: "0" });
    expect((await alerts()).map((a) => [a.tick_ts - base, a.average, a.threshold])).toEqual([
      [2 * MINUTE, 15, 45],
      [4 * MINUTE, 38, 114],
    ]);
  });

  it("restores its last hour from Durable Object storage after a restart", async () => {
    await runQueue("alert-ticks", [tick(0, { btc: 10 }), tick(1, { btc: 30 }), tick(1, { eth: 5 }, "volume")]);
    const stub = env.ALERT_WINDOW.get(env.ALERT_WINDOW.idFromName("price"));
    const evaluation = await runInDurableObject(stub, async (_instance, state) => {
      // A new instance over the same storage, as after an eviction.
      const fresh = new AlertWindow(state, env);
      return fresh.evaluate(tick(2, { btc: 61 }), { multiplier: 3, minPoints: 2, cooldownMs: 0 });
    });
    expect(evaluation).toEqual({
      status: "evaluated",
      candidates: [{ metric_type: "price", symbol: "btc", ts: base + 2 * MINUTE, value: 61, average: 20, threshold: 60, points: 2 }],
    });
  });

  it("logs tick parts that exhausted their retries", async () => {
    const error = vi.spyOn(console, "error");
    const result = await runQueue("alert-ticks-dlq", [tick(0, { btc: 1 })]);
    expect(result.retryMessages).toEqual([]);
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ msg: "alert message dropped after retries", queue: "alert-ticks-dlq" }));
  });

  it("leaves out a tick too old to be judged, and acknowledges it", async () => {
    await runQueue("alert-ticks", [tick(200, { btc: 1 })]);
    const result = await runQueue("alert-ticks", [tick(200 - 61, { btc: 1e9 })]);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(await count("alerts")).toBe(0);
  });

  it("marks alerts not_configured when no webhook is set", async () => {
    const vars = { ALERT_MIN_POINTS: "1", ALERT_WEBHOOK_URL: undefined };
    await runQueue("alert-ticks", [tick(0, { btc: 1 }), tick(1, { btc: 4 })], 1, vars);
    expect((await alerts()).map((a) => a.delivery_state)).toEqual(["not_configured"]);
    expect(deliveries.sent).toEqual([]);
  });

  it("retries the batch when a var is invalid, rather than judging with a wrong rule", async () => {
    const error = vi.spyOn(console, "error");
    await expect(runQueue("alert-ticks", [tick(0, { btc: 1 })], 1, { ALERT_MULTIPLIER: "three" })).rejects.toThrow("ALERT_MULTIPLIER");
    expect(error).not.toHaveBeenCalledWith(expect.objectContaining({ msg: "tick part judged" }));
  });
});

describe("webhook delivery", () => {
  async function storedAlert(): Promise<AlertRow> {
    await runQueue("alert-ticks", [tick(0, { btceur: 100 }), tick(1, { btceur: 1000 })], 1, { ALERT_MIN_POINTS: "1" });
    const [alert] = await alerts();
    return alert!;
  }

  function webhook(replies: (() => Response | Promise<Response>)[]) {
    const received: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      received.push(request.clone());
      const reply = replies.shift();
      if (!reply) throw new Error("unexpected request");
      return reply();
    });
    return received;
  }

  it("signs the body with HMAC-SHA256 (RFC 4231 test case 2)", async () => {
    expect(await signature("Jefe", "what do ya want for nothing?")).toBe(
      "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("POSTs the alert as JSON with a signature a receiver can verify", async () => {
    const alert = await storedAlert();
    const received = webhook([() => new Response("ok")]);
    const result = await runQueue<DeliveryMessage>("alert-deliveries", [{ kind: "delivery", alert_id: alert.id }]);
    expect(result.explicitAcks).toEqual(["msg-0"]);

    expect(received).toHaveLength(1);
    const request = received[0]!;
    expect(request.method).toBe("POST");
    expect(request.url).toBe(WEBHOOK);
    const raw = await request.text();
    expect(JSON.parse(raw)).toMatchObject({
      id: alert.id,
      metric_type: "price",
      symbol: "btceur",
      time: new Date(base + MINUTE).toISOString(),
      value: 1000,
      average: 100,
      threshold: 300,
      points: 1,
    });
    // As a receiver: HMAC of the raw body under the shared secret, compared in constant time.
    const header = request.headers.get("x-signature")!;
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    const mac = Uint8Array.from(header.slice(7).match(/../g)!, (hex) => parseInt(hex, 16));
    expect(await crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(raw))).toBe(true);
    expect(await crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(raw.replace("1000", "1001")))).toBe(false);

    expect(await alertById(env.DB, alert.id)).toMatchObject({ delivery_state: "delivered", attempts: 1, last_error: null });
    // Delivered already: a duplicate delivery message posts nothing.
    await runQueue<DeliveryMessage>("alert-deliveries", [{ kind: "delivery", alert_id: alert.id }]);
    expect(received).toHaveLength(1);
  });

  it("sends no signature without a secret", async () => {
    const alert = await storedAlert();
    const received = webhook([() => new Response("ok")]);
    await runQueue<DeliveryMessage>("alert-deliveries", [{ kind: "delivery", alert_id: alert.id }], 1, { ALERT_WEBHOOK_SECRET: undefined });
    expect(received[0]!.headers.has("x-signature")).toBe(false);
    expect(await received[0]!.text()).toBe(alertBody(alert));
  });

  it("retries a failed delivery with backoff, then succeeds", async () => {
    const alert = await storedAlert();
    const received = webhook([
      () => new Response("busy", { status: 503 }),
      () => Promise.reject(new DOMException("The operation was aborted due to timeout", "TimeoutError")),
      () => new Response(null, { status: 204 }),
    ]);
    const message = { kind: "delivery", alert_id: alert.id } as const;

    let result = await runQueue("alert-deliveries", [message], 1);
    expect(result.retryMessages).toEqual([{ msgId: "msg-0", delaySeconds: 10 }]);
    expect(await alertById(env.DB, alert.id)).toMatchObject({ delivery_state: "pending", attempts: 1, last_error: "HTTP 503" });

    result = await runQueue("alert-deliveries", [message], 2);
    expect(result.retryMessages).toEqual([{ msgId: "msg-0", delaySeconds: 20 }]);
    expect(await alertById(env.DB, alert.id)).toMatchObject({ delivery_state: "pending", attempts: 2, last_error: "timed out after 10000 ms" });

    result = await runQueue("alert-deliveries", [message], 3);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(await alertById(env.DB, alert.id)).toMatchObject({ delivery_state: "delivered", attempts: 3, last_error: null });
    expect(received).toHaveLength(3);
    // Every attempt carries the same body and signature.
    expect(new Set(received.map((r) => r.headers.get("x-signature"))).size).toBe(1);
  });

  it("treats a redirect as a failure", async () => {
    const alert = await storedAlert();
    webhook([() => new Response(null, { status: 302, headers: { location: "https://elsewhere.test/" } })]);
    const result = await runQueue<DeliveryMessage>("alert-deliveries", [{ kind: "delivery", alert_id: alert.id }]);
    expect(result.retryMessages).toHaveLength(1);
    expect(await alertById(env.DB, alert.id)).toMatchObject({ delivery_state: "pending", last_error: "HTTP 302" });
  });

  it("marks the alert failed when its message reaches the dead-letter queue", async () => {
    const alert = await storedAlert();
    await env.DB.prepare("UPDATE alerts SET attempts = 7, last_error = 'HTTP 500' WHERE id = ?1").bind(alert.id).run();
    const result = await runQueue<DeliveryMessage>("alert-deliveries-dlq", [{ kind: "delivery", alert_id: alert.id }]);
    expect(result.explicitAcks).toEqual(["msg-0"]);
    expect(await alertById(env.DB, alert.id)).toMatchObject({ delivery_state: "failed", attempts: 7, last_error: "HTTP 500" });
    // A delivered alert stays delivered.
    await env.DB.prepare("UPDATE alerts SET delivery_state = 'delivered' WHERE id = ?1").bind(alert.id).run();
    await runQueue<DeliveryMessage>("alert-deliveries-dlq", [{ kind: "delivery", alert_id: alert.id }]);
    expect((await alertById(env.DB, alert.id))!.delivery_state).toBe("delivered");
  });
});

describe("the tick hands its points to the alerting", () => {
  it("queues the stored tick's points by metric type", async () => {
    fakeCryptowatch();
    const ticks = recordingQueue();
    const outcome = await runScheduled({ ...env, ALERT_TICKS: ticks as unknown as Queue }, T0 + 5_000);
    expect(outcome.status).toBe("stored");
    const byType = Object.fromEntries(
      (ticks.sent as TickPart[]).map((p) => [p.metric_type, Object.fromEntries(p.symbols.map((s, i) => [s, p.values[i]]))]),
    );
    expect(ticks.sent.every((p) => p.kind === "tick" && p.ts === T0)).toBe(true);
    expect(byType.price).toEqual({ "1inchusd": 0.5, adausd: 1.1122, btceur: 50050, btcusd: 55000, ethbtc: 0.05 });
    expect(Object.keys(byType.volume!).sort()).toEqual(["1inch", "ada", "btc", "eth", "eur", "usd"]);

    // A duplicate minute stores nothing and queues nothing.
    ticks.sent.length = 0;
    await runScheduled({ ...env, ALERT_TICKS: ticks as unknown as Queue }, T0 + 30_000);
    expect(ticks.sent).toEqual([]);
  });

  it("keeps the stored tick when queueing fails, and logs it", async () => {
    fakeCryptowatch();
    const error = vi.spyOn(console, "error");
    const broken = { send: () => Promise.reject(new Error("Queue send failed: overloaded")) } as unknown as Queue;
    const outcome = await runScheduled({ ...env, ALERT_TICKS: broken }, T0);
    expect(outcome.status).toBe("stored");
    expect(await count("ticks")).toBe(1);
    expect(await storedValues()).toHaveLength(11);
    expect(error).toHaveBeenCalledWith(expect.objectContaining({ msg: "queueing the tick for alerts failed", error: "Queue send failed: overloaded" }));
  });
});
