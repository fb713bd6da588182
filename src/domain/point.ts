import type { MetricType } from "./metric-types";

/** One metric's value in a tick: what aggregation makes, storage keeps and alerts judge. */
export interface Point {
  metric_type: MetricType;
  symbol: string;
  value: number;
}
