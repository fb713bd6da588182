/** A source's health in one tick: written by the tick, stored, served by GET /sources. */
export interface SourceStatus {
  source: string;
  status: "ok" | "error";
  /** Markets the source delivered to aggregation. */
  markets: number;
  /** Markets dropped, by reason (at the source or in aggregation). */
  dropped: Record<string, number>;
  latency_ms: number;
  error: string | null;
}
