import type { AlertRow } from "../storage/alerts";

const iso = (ts: number) => new Date(ts).toISOString();

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
