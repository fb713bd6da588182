import { describe, expect, it } from "vitest";
import { LastHour, RETENTION_MS } from "../../src/alerts/last-hour";
import { MAX_PART_BYTES, tickParts, type TickPart } from "../../src/alerts/messages";
import { evaluatePoint, type Observation } from "../../src/alerts/rule";
import { ConfigError, loadAlertConfig, type AlertSettings } from "../../src/config";
import type { Point } from "../../src/domain/point";
import { METRIC_TYPES } from "../../src/domain/metric-types";
import { HOUR, MINUTE, T0 } from "./helpers";

const settings: AlertSettings = { multiplier: 3, minPoints: 30, cooldownMs: 60 * MINUTE };

/** One point a minute at the `count` minutes before `t`, with the given values (cycled). */
function minutesBefore(t: number, count: number, values: number[] = [100]): Observation[] {
  return Array.from({ length: count }, (_, i) => ({ ts: t - (count - i) * MINUTE, value: values[i % values.length]! }));
}

describe("the alert rule", () => {
  const hour = minutesBefore(T0, 30, [50, 150]); // mean exactly 100, threshold exactly 300

  it("does not alert at exactly k × the average, alerts just above it", () => {
    expect(evaluatePoint({ ts: T0, value: 300 }, hour, [], settings)).toEqual({ alert: false, reason: "not_above_threshold", points: 30 });
    // The next double after 300 (ulp(300) = 2^-44).
    const justAbove = 300 + 2 ** -44;
    expect(justAbove).toBeGreaterThan(300);
    expect(evaluatePoint({ ts: T0, value: justAbove }, hour, [], settings)).toEqual({ alert: true, average: 100, threshold: 300, points: 30 });
  });

  it("uses the multiplier", () => {
    const k2 = { ...settings, multiplier: 2 };
    expect(evaluatePoint({ ts: T0, value: 200 }, hour, [], k2).alert).toBe(false);
    expect(evaluatePoint({ ts: T0, value: 200.5 }, hour, [], k2)).toMatchObject({ alert: true, threshold: 200 });
  });

  it("needs at least minPoints points in the hour", () => {
    const short = minutesBefore(T0, 29);
    expect(evaluatePoint({ ts: T0, value: 1e9 }, short, [], settings)).toEqual({ alert: false, reason: "too_few_points", points: 29 });
    expect(evaluatePoint({ ts: T0, value: 1e9 }, minutesBefore(T0, 30), [], settings).alert).toBe(true);
    expect(evaluatePoint({ ts: T0, value: 1e9 }, short, [], { ...settings, minPoints: 29 }).alert).toBe(true);
  });

  it("averages only the hour before the point: t − 60 min and t itself are outside", () => {
    const points: Observation[] = [
      { ts: T0 - 2 * HOUR, value: 1 }, // long gone
      { ts: T0 - HOUR, value: 1 }, // exactly an hour before: outside (t − 60 min, t)
      ...minutesBefore(T0, 3, [10, 20, 30]), // mean 20
      { ts: T0, value: 1e6 }, // the point's own tick (a redelivery): excluded
      { ts: T0 + MINUTE, value: 1e6 }, // a later tick already seen: excluded
    ];
    const one = { ...settings, minPoints: 1 };
    expect(evaluatePoint({ ts: T0, value: 60 }, points, [], one).alert).toBe(false);
    expect(evaluatePoint({ ts: T0, value: 61 }, points, [], one)).toEqual({ alert: true, average: 20, threshold: 60, points: 3 });
  });

  it("keeps at most one alert per cooldown, before or after the point", () => {
    const jump = { ts: T0, value: 1000 };
    expect(evaluatePoint(jump, hour, [T0 - 59 * MINUTE], settings)).toMatchObject({ alert: false, reason: "cooldown" });
    // A later tick alerted first (this one arrived late): still one per cooldown.
    expect(evaluatePoint(jump, hour, [T0 + 59 * MINUTE], settings)).toMatchObject({ alert: false, reason: "cooldown" });
    expect(evaluatePoint(jump, hour, [T0 - 60 * MINUTE, T0 + 60 * MINUTE], settings).alert).toBe(true);
    // The same tick's own alert (the message again) is the same alert, not a second one.
    expect(evaluatePoint(jump, hour, [T0], settings).alert).toBe(true);
    expect(evaluatePoint(jump, hour, [T0 - MINUTE], { ...settings, cooldownMs: 0 }).alert).toBe(true);
  });
});

function part(ts: number, points: Record<string, number>, metric_type = "price"): TickPart {
  return { kind: "tick", ts, metric_type, part: 0, parts: 1, symbols: Object.keys(points), values: Object.values(points) };
}

/** Feed minutes T0 - n .. T0 - 1 of constant values; none of them alerts. */
function warm(state: LastHour, minutes: number, points: Record<string, number>) {
  for (let i = minutes; i >= 1; i--) {
    expect(state.evaluate(part(T0 - i * MINUTE, points), settings)).toEqual([]);
    state.record(part(T0 - i * MINUTE, points));
  }
}

describe("the alerting's last-hour state", () => {
  it("judges a metric that appeared mid-hour only once it has minPoints points", () => {
    const state = new LastHour();
    warm(state, 60, { btceur: 100 });
    // ethbtc appears 20 minutes before T0.
    for (let i = 20; i >= 1; i--) state.record(part(T0 - i * MINUTE, { btceur: 100, ethbtc: 1 }));
    const s = { ...settings, minPoints: 20 };
    expect(state.evaluate(part(T0, { btceur: 301, ethbtc: 3.5 }), settings).map((c) => c.symbol)).toEqual(["btceur"]);
    const alerts = state.evaluate(part(T0, { btceur: 301, ethbtc: 3.5 }), s);
    expect(alerts).toContainEqual({ metric_type: "price", symbol: "ethbtc", ts: T0, value: 3.5, average: 1, threshold: 3, points: 20 });
  });

  it("counts a tick delivered twice once", () => {
    const state = new LastHour();
    const s = { ...settings, minPoints: 2 };
    state.record(part(T0 - 2 * MINUTE, { btc: 100 }));
    state.record(part(T0 - MINUTE, { btc: 200 }));
    state.record(part(T0 - MINUTE, { btc: 200 })); // again
    expect(state.pointsOf("btc")).toEqual([{ ts: T0 - 2 * MINUTE, value: 100 }, { ts: T0 - MINUTE, value: 200 }]);
    // mean 150, not (100 + 200 + 200) / 3
    expect(state.evaluate(part(T0, { btc: 450 }), s)).toEqual([]);
    expect(state.evaluate(part(T0, { btc: 451 }), s)).toMatchObject([{ average: 150, threshold: 450 }]);
  });

  it("puts a late tick in its place and judges it against its own hour", () => {
    const state = new LastHour();
    const s = { ...settings, minPoints: 2 };
    for (const minute of [1, 2, 4, 5]) state.record(part(T0 + minute * MINUTE, { btc: minute * 10 }));
    // Minute 3 arrives after 4 and 5: its hour is minutes 1 and 2 (mean 15).
    expect(state.evaluate(part(T0 + 3 * MINUTE, { btc: 46 }), s)).toMatchObject([{ ts: T0 + 3 * MINUTE, average: 15, threshold: 45 }]);
    state.record(part(T0 + 3 * MINUTE, { btc: 46 }));
    expect(state.pointsOf("btc").map((p) => p.ts)).toEqual([1, 2, 3, 4, 5].map((m) => T0 + m * MINUTE));
    // Minute 6 sees 1..5 (mean (10+20+46+40+50)/5 = 33.2).
    expect(state.evaluate(part(T0 + 6 * MINUTE, { btc: 99.6 }), s)).toEqual([]);
  });

  it("refuses a tick whose hour is no longer kept, and forgets points older than the retention", () => {
    const state = new LastHour();
    state.record(part(T0, { btc: 1 }));
    state.record(part(T0 + RETENTION_MS, { btc: 2 }));
    expect(state.pointsOf("btc")).toEqual([{ ts: T0 + RETENTION_MS, value: 2 }]);
    expect(state.accepts(T0 + RETENTION_MS - HOUR)).toBe(true);
    expect(state.accepts(T0 + RETENTION_MS - HOUR - MINUTE)).toBe(false);
  });

  it("remembers its alerts for the cooldown, whatever order the ticks come in", () => {
    const state = new LastHour();
    const s = { ...settings, minPoints: 1 };
    for (let m = 0; m < 10; m++) state.record(part(T0 + m * MINUTE, { btc: 100 }));
    expect(state.evaluate(part(T0 + 10 * MINUTE, { btc: 400 }), s)).toHaveLength(1);
    state.record(part(T0 + 10 * MINUTE, { btc: 400 }));
    // The same tick again returns the same alert (the consumer's insert dedupes it).
    expect(state.evaluate(part(T0 + 10 * MINUTE, { btc: 400 }), s)).toHaveLength(1);
    // Minute 5 comes late with a jump: within the cooldown of minute 10, so no alert.
    expect(state.evaluate(part(T0 + 5 * MINUTE, { btc: 1000 }), s)).toEqual([]);
  });
});

describe("tick parts on the queue", () => {
  const points: Point[] = [
    { metric_type: "price", symbol: "btceur", value: 50050 },
    { metric_type: "volume", symbol: "btc", value: 40 },
    { metric_type: "price", symbol: "ethbtc", value: 0.05 },
  ];

  it("groups a tick by metric type", () => {
    expect(tickParts(T0, points, METRIC_TYPES)).toEqual([
      { kind: "tick", ts: T0, metric_type: "price", part: 0, parts: 1, symbols: ["btceur", "ethbtc"], values: [50050, 0.05] },
      { kind: "tick", ts: T0, metric_type: "volume", part: 0, parts: 1, symbols: ["btc"], values: [40] },
    ]);
  });

  it("leaves out a metric type that opts out", () => {
    const catalogue = [{ metric_type: "price", description: "", alerts: false }, { metric_type: "volume", description: "" }];
    expect(tickParts(T0, points, catalogue).map((p) => p.metric_type)).toEqual(["volume"]);
  });

  it("splits a large tick into parts well under the 128 KB message limit, losing nothing", () => {
    const big: Point[] = Array.from({ length: 4000 }, (_, i) => ({
      metric_type: i % 2 ? "price" : "volume",
      symbol: `symbol${i}usdt`,
      value: 12345.678901234567 + i,
    }));
    const parts = tickParts(T0, big, METRIC_TYPES);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(new TextEncoder().encode(JSON.stringify(p)).length).toBeLessThanOrEqual(MAX_PART_BYTES);
      expect(p.parts).toBe(parts.filter((q) => q.metric_type === p.metric_type).length);
    }
    const back = parts.flatMap((p) => p.symbols.map((symbol, i) => ({ metric_type: p.metric_type, symbol, value: p.values[i] })));
    expect(back.sort((a, b) => a.symbol.localeCompare(b.symbol))).toEqual([...big].sort((a, b) => a.symbol.localeCompare(b.symbol)));
  });
});

describe("alert configuration", () => {
  const vars = { ALERT_MULTIPLIER: "3", ALERT_MIN_POINTS: "30", ALERT_COOLDOWN_MINUTES: "60" } as Env;

  it("reads the vars and the optional webhook secrets", () => {
    expect(loadAlertConfig({ ...vars, ALERT_MULTIPLIER: "2.5", ALERT_MIN_POINTS: "5", ALERT_COOLDOWN_MINUTES: "0" })).toEqual({
      settings: { multiplier: 2.5, minPoints: 5, cooldownMs: 0 },
      webhook: undefined,
    });
    expect(loadAlertConfig({ ...vars, ALERT_WEBHOOK_URL: "https://hooks.test/a", ALERT_WEBHOOK_SECRET: "s" }).webhook).toEqual({
      url: "https://hooks.test/a",
      secret: "s",
      timeoutMs: 10_000,
    });
  });

  it.each([
    ["ALERT_MULTIPLIER", "abc"],
    ["ALERT_MULTIPLIER", "0.5"],
    ["ALERT_MULTIPLIER", "Infinity"],
    ["ALERT_MIN_POINTS", "0"],
    ["ALERT_MIN_POINTS", "2.5"],
    ["ALERT_MIN_POINTS", "60"],
    ["ALERT_COOLDOWN_MINUTES", "-1"],
    ["ALERT_COOLDOWN_MINUTES", "1441"],
    ["ALERT_WEBHOOK_URL", "not a url"],
    ["ALERT_WEBHOOK_URL", "ftp://hooks.test/a"],
  ])("rejects %s=%s, naming it", (name, value) => {
    expect(() => loadAlertConfig({ ...vars, [name]: value })).toThrow(ConfigError);
    expect(() => loadAlertConfig({ ...vars, [name]: value })).toThrow(name);
  });
});
