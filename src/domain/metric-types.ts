/** The catalogue of metric types the tracker computes and serves. */
export interface MetricTypeDefinition {
  metric_type: string;
  description: string;
  /** `false` opts the type out of alerts (README, "Alerts"); on when absent. */
  alerts?: boolean;
}

export const METRIC_TYPES = [
  {
    metric_type: "price",
    description: "Average price across all markets a symbol is traded on.",
  },
  {
    metric_type: "volume",
    description: "Volume of a symbol in the last 24 hours, totalled over all markets.",
  },
] as const satisfies readonly MetricTypeDefinition[];

export type MetricType = (typeof METRIC_TYPES)[number]["metric_type"];

export function findMetricType(name: string): MetricTypeDefinition | undefined {
  return METRIC_TYPES.find((type) => type.metric_type === name);
}
