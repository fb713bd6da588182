import { env, exports } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { AlertCandidate } from "../../src/domain/alert";
import { storeAlerts } from "../../src/storage/alerts";
import { getJson, MINUTE, resetDatabase, T0 } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const candidate = (metric_type: string, symbol: string, minute: number, value: number): AlertCandidate => ({
  metric_type,
  symbol,
  ts: T0 + minute * MINUTE,
  value,
  average: value / 4,
  threshold: (3 * value) / 4,
  points: 30,
});

const iso = (minute: number) => new Date(T0 + minute * MINUTE).toISOString();

beforeAll(async () => {
  await resetDatabase();
  await storeAlerts(
    env.DB,
    [
      candidate("price", "btceur", 0, 400),
      candidate("volume", "btc", 5, 80),
      candidate("price", "ethbtc", 10, 0.2),
      candidate("price", "btceur", 70, 800),
    ],
    T0 + 71 * MINUTE,
    "pending",
  );
  await env.DB.prepare("UPDATE alerts SET delivery_state = 'delivered', attempts = 2, delivered_at = ?1 WHERE symbol = 'btc'")
    .bind(T0 + 6 * MINUTE)
    .run();
});

const times = (body: { alerts: { metric_type: string; symbol: string; time: string }[] }) =>
  body.alerts.map((a) => `${a.metric_type}/${a.symbol}@${a.time}`);

describe("GET /alerts", () => {
  it("lists alerts newest first, with their delivery state", async () => {
    const { status, body, response } = await getJson("/alerts");
    expect(status).toBe(200);
    expect(times(body)).toEqual([`price/btceur@${iso(70)}`, `price/ethbtc@${iso(10)}`, `volume/btc@${iso(5)}`, `price/btceur@${iso(0)}`]);
    expect(body.alerts[2]).toEqual({
      id: expect.any(Number),
      metric_type: "volume",
      symbol: "btc",
      time: iso(5),
      value: 80,
      average: 20,
      threshold: 60,
      points: 30,
      created_at: iso(71),
      delivery: { state: "delivered", attempts: 2, last_error: null, delivered_at: iso(6) },
    });
    expect(body.alerts[0].delivery).toEqual({ state: "pending", attempts: 0, last_error: null, delivered_at: null });
    // Alerts change between ticks: never cached.
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.has("etag")).toBe(false);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("filters by metric type, symbol and since, and limits", async () => {
    expect(times((await getJson("/alerts?metric_type=price")).body)).toEqual([`price/btceur@${iso(70)}`, `price/ethbtc@${iso(10)}`, `price/btceur@${iso(0)}`]);
    expect(times((await getJson("/alerts?symbol=BTCEUR")).body)).toEqual([`price/btceur@${iso(70)}`, `price/btceur@${iso(0)}`]);
    expect(times((await getJson("/alerts?metric_type=volume&symbol=btceur")).body)).toEqual([]);
    // since is inclusive, as an ISO time or epoch ms.
    expect(times((await getJson(`/alerts?since=${iso(5)}`)).body)).toEqual([`price/btceur@${iso(70)}`, `price/ethbtc@${iso(10)}`, `volume/btc@${iso(5)}`]);
    expect(times((await getJson(`/alerts?since=${T0 + 5 * MINUTE + 1}`)).body)).toEqual([`price/btceur@${iso(70)}`, `price/ethbtc@${iso(10)}`]);
    expect(times((await getJson(`/alerts?limit=2&metric_type=price`)).body)).toEqual([`price/btceur@${iso(70)}`, `price/ethbtc@${iso(10)}`]);
    expect((await getJson("/alerts?since=2026-11-29")).body.alerts).toHaveLength(4);
  });

  it("applies the default limit of 100 and allows up to 1000", async () => {
    const many = Array.from({ length: 150 }, (_, i) => candidate("price", `sym${i}`, 100 + i, 1));
    await storeAlerts(env.DB, many, T0, "pending");
    try {
      expect((await getJson("/alerts")).body.alerts).toHaveLength(100);
      expect((await getJson("/alerts?limit=1000")).body.alerts).toHaveLength(154);
      expect((await getJson("/alerts")).body.alerts[0].symbol).toBe("sym149");
    } finally {
      await env.DB.prepare("DELETE FROM alerts WHERE symbol LIKE 'sym%'").run();
    }
  });

  it.each([
    ["/alerts?metric_type=foo", 'Unknown metric_type "foo"'],
    ["/alerts?metric_type=", "metric_type is empty"],
    ["/alerts?symbol=b%20c", "Malformed symbol"],
    ["/alerts?limit=0", "Malformed limit"],
    ["/alerts?limit=1001", "Malformed limit"],
    ["/alerts?limit=ten", "Malformed limit"],
    ["/alerts?limit=1.5", "Malformed limit"],
    ["/alerts?limit=5&limit=6", "limit is given 2 times"],
    ["/alerts?since=yesterday", "Malformed since"],
    ["/alerts?since=2026-13-45", "Malformed since"],
    ["/alerts?since=-5", "Malformed since"],
    ["/metric_types/price/metrics/btceur/alerts?limit=0", "Malformed limit"],
    ["/metric_types/price/metrics/b%20c/alerts", "Malformed symbol"],
  ])("%s is a 400", async (path, message) => {
    const { status, body } = await getJson(path);
    expect(status).toBe(400);
    expect(body).toEqual({ status: 400, error: expect.stringContaining(message) });
  });
});

describe("GET /metric_types/{type}/metrics/{symbol}/alerts", () => {
  it("lists that metric's alerts, newest first", async () => {
    const { status, body } = await getJson("/metric_types/price/metrics/btceur/alerts");
    expect(status).toBe(200);
    expect(times(body)).toEqual([`price/btceur@${iso(70)}`, `price/btceur@${iso(0)}`]);
    expect(times((await getJson(`/metric_types/price/metrics/btceur/alerts?since=${iso(1)}`)).body)).toEqual([`price/btceur@${iso(70)}`]);
    expect(times((await getJson("/metric_types/price/metrics/btceur/alerts?limit=1")).body)).toEqual([`price/btceur@${iso(70)}`]);
    expect((await getJson("/metric_types/volume/metrics/btceur/alerts")).body).toEqual({ alerts: [] });
  });

  it("answers 404 for an unknown metric type in the path", async () => {
    const { status, body } = await getJson("/metric_types/foo/metrics/btceur/alerts");
    expect(status).toBe(404);
    expect(body.error).toBe('Metric type "foo" does not exist');
  });

  it("answers POST with a 405: the API is read-only", async () => {
    const post = await exports.default.fetch(new Request("http://tracker.test/alerts", { method: "POST" }));
    expect(post.status).toBe(405);
  });
});
