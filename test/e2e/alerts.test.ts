import { createHmac, timingSafeEqual } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cryptowatchFixture, startCryptowatch, startServer, startTracker, type LocalServer, type Tracker } from "./harness";

const SECRET = "e2e-webhook-secret";

/** The command lines of running processes (Linux /proc) that contain `text`. */
function commandLinesContaining(text: string): string[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return [readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")];
      } catch {
        return []; // ended meanwhile
      }
    })
    .filter((line) => line.includes(text));
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe("alerts through npm start: a jump reaches a local webhook receiver", () => {
  let upstream: LocalServer;
  let receiver: LocalServer;
  let tracker: Tracker;
  let jump = false;

  beforeAll(async () => {
    const summaries = cryptowatchFixture("summaries.json");
    // After the jump both btceur markets trade at 4×: price/btceur 50050 -> 200200 (> 3 × 50050).
    const jumped = structuredClone(summaries);
    for (const market of ["kraken:btceur", "bitstamp:btceur"]) jumped.result[market].price.last *= 4;
    upstream = await startCryptowatch(() => (jump ? jumped : summaries));
    receiver = await startServer((request, url) => (request.method === "POST" && url.pathname === "/hook" ? { body: { ok: true } } : undefined));
    tracker = await startTracker({
      vars: {
        SOURCES: "cryptowatch",
        CRYPTOWATCH_API_URL: upstream.url,
        // One point of history is enough here; the rule itself is covered by the unit tests.
        ALERT_MIN_POINTS: "1",
      },
      // In a .dev.vars file, as the README tells users: never on a command line.
      secrets: { ALERT_WEBHOOK_URL: `${receiver.url}/hook`, ALERT_WEBHOOK_SECRET: SECRET },
    });
  });

  afterAll(async () => {
    await tracker?.stop();
    await upstream?.close();
    await receiver?.close();
  });

  it("ticks in two real minutes; the second one's jump is POSTed, signed, and listed as delivered", async () => {
    await tracker.tick();
    const first = Date.parse((await tracker.get("/")).body.last_tick);

    // wrangler dev stamps a tick with the current minute: wait for the next one.
    await new Promise((resolve) => setTimeout(resolve, first + 60_000 - Date.now() + 300));
    jump = true;
    await tracker.tick();
    const ticked = Date.now();
    const second = Date.parse((await tracker.get("/")).body.last_tick);
    expect(second).toBeGreaterThan(first);

    const hook = await waitFor("the webhook POST", () => receiver.requests.find((r) => r.path === "/hook"), 60_000);
    // A figure for the curious, not an assertion: the machine's speed is not under test.
    console.log(`alert reached the webhook ${Date.now() - ticked} ms after the tick`);

    // Verify as a receiver would: HMAC-SHA256 of the raw body under the shared secret.
    const expected = Buffer.from(`sha256=${createHmac("sha256", SECRET).update(hook.body).digest("hex")}`);
    const got = Buffer.from(String(hook.headers["x-signature"]));
    expect(got.length).toBe(expected.length);
    expect(timingSafeEqual(got, expected)).toBe(true);
    expect(hook.headers["content-type"]).toContain("application/json");

    const body = JSON.parse(hook.body);
    expect(body).toMatchObject({
      metric_type: "price",
      symbol: "btceur",
      time: new Date(second).toISOString(),
      value: 200200,
      average: 50050,
      threshold: 150150,
      points: 1,
    });
    // Nothing else jumped (volumes and other prices are unchanged).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(receiver.requests).toHaveLength(1);

    // The consumer records the delivery after the POST: wait for it (the deadline only catches a hang).
    let alerts: any[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      alerts = (await tracker.get("/alerts")).body.alerts;
      if (alerts[0]?.delivery.state === "delivered" || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ id: body.id, symbol: "btceur", delivery: { state: "delivered", attempts: 1 } });
    expect((await tracker.get("/metric_types/price/metrics/btceur/alerts")).body.alerts).toHaveLength(1);
    expect((await tracker.get("/alerts?metric_type=volume")).body.alerts).toEqual([]);
    // The secret is in no log (npm's banner included) and on no process's command line (ps).
    expect(tracker.output()).toContain("alert delivered");
    expect(tracker.output()).not.toContain(SECRET);
    expect(commandLinesContaining(SECRET)).toEqual([]);
  }, 300_000); // two real minutes, then waits that only catch a hang
});
