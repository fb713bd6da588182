/**
 * What travels on the alert queues. A tick's points go as a few compact parts
 * (per metric type, parallel arrays of symbols and values), each well under
 * the 128 KB a queue message may hold.
 */
import type { MetricTypeDefinition } from "../domain/metric-types";
import type { Point } from "../domain/point";

export interface TickPart {
  kind: "tick";
  /** The tick's time, epoch ms. */
  ts: number;
  metric_type: string;
  /** Which part of this tick and metric type, 0-based, of `parts`. */
  part: number;
  parts: number;
  symbols: string[];
  values: number[];
}

export interface DeliveryMessage {
  kind: "delivery";
  alert_id: number;
}

export type AlertMessage = TickPart | DeliveryMessage;

/** Budget per part, measured as JSON: a quarter of the 128 KB message limit. */
export const MAX_PART_BYTES = 32 * 1024;

/** Split a tick's points into parts, leaving out the metric types that opt out of alerts. */
export function tickParts(
  ts: number,
  points: readonly Point[],
  catalogue: readonly MetricTypeDefinition[],
  maxBytes = MAX_PART_BYTES,
): TickPart[] {
  const parts: TickPart[] = [];
  for (const type of catalogue) {
    if (type.alerts === false) continue;
    const ofType: TickPart[] = [];
    let current: TickPart | undefined;
    let bytes = 0;
    for (const point of points) {
      if (point.metric_type !== type.metric_type) continue;
      const size = JSON.stringify(point.symbol).length + JSON.stringify(point.value).length + 2;
      if (!current || bytes + size > maxBytes) {
        current = { kind: "tick", ts, metric_type: type.metric_type, part: ofType.length, parts: 0, symbols: [], values: [] };
        ofType.push(current);
        bytes = 200; // the envelope
      }
      current.symbols.push(point.symbol);
      current.values.push(point.value);
      bytes += size;
    }
    for (const part of ofType) part.parts = ofType.length;
    parts.push(...ofType);
  }
  return parts;
}

/** Hand a stored tick to the alerting. Resolves once queued: evaluation happens later, elsewhere. */
export async function publishTick(
  queue: Queue<AlertMessage>,
  ts: number,
  points: readonly Point[],
  catalogue: readonly MetricTypeDefinition[],
): Promise<number> {
  const parts = tickParts(ts, points, catalogue);
  await Promise.all(parts.map((part) => queue.send(part)));
  return parts.length;
}
