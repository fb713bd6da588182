/**
 * The alert rule, pure: a point p of a metric at tick t alerts when
 *   p > k × mean(the metric's points with t − 60 min < ts < t)
 * (strictly; p itself is not in the mean), provided that hour holds at least
 * minPoints points and no other alert of the metric lies within the cooldown
 * of t, before or after it (so late ticks never break the cooldown either).
 */
import type { AlertSettings } from "../config";
import { HOUR_MS } from "../lib/time";

export interface Observation {
  ts: number;
  value: number;
}

export type Verdict =
  | { alert: true; average: number; threshold: number; points: number }
  | { alert: false; reason: "too_few_points" | "not_above_threshold" | "cooldown"; points: number };

/**
 * @param recent the metric's points, ascending by ts (any range: only the hour
 *   before `point` counts)
 * @param alertTimes tick times of the metric's earlier alerts
 */
export function evaluatePoint(
  point: Observation,
  recent: readonly Observation[],
  alertTimes: readonly number[],
  settings: AlertSettings,
): Verdict {
  let points = 0;
  let sum = 0;
  for (const { ts, value } of recent) {
    if (ts > point.ts - HOUR_MS && ts < point.ts) {
      points++;
      sum += value;
    }
  }
  if (points < settings.minPoints) return { alert: false, reason: "too_few_points", points };
  const average = sum / points;
  const threshold = settings.multiplier * average;
  if (!(point.value > threshold)) return { alert: false, reason: "not_above_threshold", points };
  // The same tick again is the same alert (a redelivered message), not another one.
  if (alertTimes.some((ts) => ts !== point.ts && Math.abs(ts - point.ts) < settings.cooldownMs)) {
    return { alert: false, reason: "cooldown", points };
  }
  return { alert: true, average, threshold, points };
}
