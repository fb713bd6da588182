/**
 * The source interface: every upstream turns its own payload into a list of
 * MarketSummary, so that aggregation, storage and the API never see an
 * exchange's format.
 */
import type { MarketSummary } from "../domain/market";

export type { MarketSummary };

/** What a source read in one tick. */
export interface SourceReading {
  markets: MarketSummary[];
  /** Markets the source could not use, by reason ("unknown_pair": 3). */
  dropped: Record<string, number>;
  /** Anything worth logging about the call (Cryptowatch's allowance). */
  info?: Record<string, unknown>;
}

export interface SourceContext {
  /** Fetch with the tick's timeout already applied. */
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  /** Where a source keeps its pair catalogue between ticks (src/sources/catalog.ts); the tick passes D1's. */
  catalogs: CatalogStore;
  /** The source's timeout: aborts the reading of a body as well as the requests. */
  signal?: AbortSignal;
  /** The tick's time, epoch ms. */
  now: number;
}

/** A stored catalogue document per source, and when it was fetched (epoch ms). */
export interface CatalogStore {
  load(source: string): Promise<{ catalog: Record<string, unknown>; fetchedAt: number } | undefined>;
  save(source: string, catalog: Record<string, unknown>, fetchedAt: number): Promise<void>;
}

export interface Source {
  name: string;
  read(ctx: SourceContext): Promise<SourceReading>;
}

/** A failure of an upstream: bad status, bad payload, rate limit... */
export class UpstreamError extends Error {
  constructor(
    readonly source: string,
    message: string,
    readonly status?: number,
  ) {
    super(`${source}: ${message}`);
    this.name = "UpstreamError";
  }
}
