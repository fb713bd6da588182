/** An alert: as the rule proposes it, as stored, and as the webhook and the API show it. */
import { iso } from "../lib/time";

/** A point the rule found above its threshold, before it is stored. */
export interface AlertCandidate {
  metric_type: string;
  symbol: string;
  ts: number;
  value: number;
  average: number;
  threshold: number;
  /** How many points the hour's average is over. */
  points: number;
}

export type DeliveryState = "pending" | "delivered" | "failed" | "not_configured";

export interface AlertRow {
  id: number;
  metric_type: string;
  symbol: string;
  tick_ts: number;
  value: number;
  average: number;
  threshold: number;
  points: number;
  created_at: number;
  delivery_state: DeliveryState;
  attempts: number;
  last_error: string | null;
  delivered_at: number | null;
}

/** What an alert says, as both the webhook body and the API show it. */
export function alertFacts(alert: AlertRow) {
  return {
    id: alert.id,
    metric_type: alert.metric_type,
    symbol: alert.symbol,
    time: iso(alert.tick_ts),
    value: alert.value,
    average: alert.average,
    threshold: alert.threshold,
    points: alert.points,
  };
}
