/**
 * The alerting's own view of the recent past, in memory: per metric, its points
 * of the last RETENTION_MS ascending by tick time, and the times of its alerts.
 * No I/O; the AlertWindow Durable Object persists what goes through it.
 *
 * Keyed by tick time, so a tick delivered twice adds nothing the second time,
 * and a late tick lands in its place and is judged against its own hour.
 * Points are kept two hours (not one) so a tick up to an hour late still finds
 * its whole hour; an older one is refused.
 */
import type { AlertSettings } from "../config";
import type { TickPart } from "./messages";
import type { AlertCandidate } from "../domain/alert";
import { HOUR_MS } from "../lib/time";
import { evaluatePoint, type Observation } from "./rule";

export const RETENTION_MS = 2 * HOUR_MS;
/** Alert times are kept as long as they can fall in a cooldown (at most a day) of an acceptable tick. */
export const ALERT_TIMES_RETENTION_MS = HOUR_MS + 24 * HOUR_MS;

export class LastHour {
  private readonly series = new Map<string, Observation[]>();
  private readonly alertTimes = new Map<string, number[]>();
  /** The newest tick seen, epoch ms. */
  newest = Number.NEGATIVE_INFINITY;

  /** A tick older than this cannot be judged: part of its hour is gone. */
  get oldestAcceptable(): number {
    return this.newest - RETENTION_MS + HOUR_MS;
  }

  accepts(ts: number): boolean {
    return ts >= this.oldestAcceptable;
  }

  /** Judge each point of the part against its metric's previous hour; remembers the alerts it returns. */
  evaluate(part: TickPart, settings: AlertSettings): AlertCandidate[] {
    const candidates: AlertCandidate[] = [];
    part.symbols.forEach((symbol, i) => {
      const point = { ts: part.ts, value: part.values[i]! };
      const verdict = evaluatePoint(point, this.series.get(symbol) ?? [], this.alertTimes.get(symbol) ?? [], settings);
      if (!verdict.alert) return;
      this.rememberAlert(symbol, part.ts);
      const { average, threshold, points } = verdict;
      candidates.push({ metric_type: part.metric_type, symbol, ts: part.ts, value: point.value, average, threshold, points });
    });
    return candidates;
  }

  /** Add the part's points (a tick time already present for a symbol is kept as it was), then forget what left the retention. */
  record(part: Pick<TickPart, "ts" | "symbols" | "values">): void {
    part.symbols.forEach((symbol, i) => {
      let series = this.series.get(symbol);
      if (!series) this.series.set(symbol, (series = []));
      insertByTime(series, { ts: part.ts, value: part.values[i]! });
    });
    if (part.ts > this.newest) {
      this.newest = part.ts;
      this.prune();
    }
  }

  rememberAlert(symbol: string, ts: number): void {
    let times = this.alertTimes.get(symbol);
    if (!times) this.alertTimes.set(symbol, (times = []));
    if (!times.includes(ts)) times.push(ts);
  }

  /** Points of a metric, oldest first (for tests and logs). */
  pointsOf(symbol: string): readonly Observation[] {
    return this.series.get(symbol) ?? [];
  }

  get metrics(): number {
    return this.series.size;
  }

  private prune(): void {
    const cutoff = this.newest - RETENTION_MS;
    for (const [symbol, series] of this.series) {
      let drop = 0;
      while (drop < series.length && series[drop]!.ts <= cutoff) drop++;
      if (drop === series.length) this.series.delete(symbol);
      else if (drop > 0) series.splice(0, drop);
    }
    const alertCutoff = this.newest - ALERT_TIMES_RETENTION_MS;
    for (const [symbol, times] of this.alertTimes) {
      const kept = times.filter((ts) => ts > alertCutoff);
      if (kept.length === 0) this.alertTimes.delete(symbol);
      else this.alertTimes.set(symbol, kept);
    }
  }
}

/** Ticks arrive mostly in order: search for the slot from the end. */
function insertByTime(series: Observation[], point: Observation): void {
  let i = series.length;
  while (i > 0 && series[i - 1]!.ts > point.ts) i--;
  if (i > 0 && series[i - 1]!.ts === point.ts) return;
  series.splice(i, 0, point);
}
