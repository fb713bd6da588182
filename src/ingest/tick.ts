/**
 * The scheduled job: read every source concurrently (each with its own
 * timeout), aggregate what the sources that answered gave, store the tick in
 * one transaction (with the rank sums' maintenance and the purge), record each
 * source's health with the outcome. A tick writes all of its points or none;
 * it writes none only when every source failed or its batch failed.
 * Overlapping runs of a minute fetch once (a lease in D1); a run that stores
 * nothing gives the minute back, so a retry of that minute reads it again.
 */
import { candleRetention, ConfigError, loadConfig, type Config } from "../config";
import type { Retention } from "../domain/candles";
import type { TrackerEnv } from "../domain/env";
import type { MarketSummary } from "../domain/market";
import { METRIC_TYPES } from "../domain/metric-types";
import type { Point } from "../domain/point";
import type { SourceStatus } from "../domain/source-status";
import { errorText } from "../lib/errors";
import { publicText, publicValue } from "../lib/redact";
import { floorMinute, iso } from "../lib/time";
import type { Source, SourceReading } from "../sources/types";
import { catalogStore } from "../storage/catalogs";
import { recordSourceStatuses } from "../storage/sources";
import { claimTick, DuplicateTickError, insertTick, maintainStorage, releaseTick, tickExists, type WriteCost } from "../storage/ticks";
import { publishTick } from "../alerts/messages";
import { aggregate } from "./aggregate";
import { breakdownsBySource } from "./breakdown";

/** A source's status for this tick, plus what it said worth logging (not stored). */
export interface SourceOutcome extends SourceStatus {
  info?: Record<string, unknown>;
}

export type TickOutcome =
  | { status: "stored"; ts: number; points: number; sources: SourceOutcome[]; stored: readonly Point[] }
  /** The minute is already stored. */
  | { status: "duplicate"; ts: number }
  /** Another run holds the minute's claim and is reading it. */
  | { status: "skipped"; ts: number }
  | { status: "failed"; ts: number; error: string; sources: SourceOutcome[] };

/**
 * How long a run's claim on its minute keeps overlapping runs from fetching.
 * A run that ends without storing gives its claim back at once; only a
 * crashed run's claim (the isolate killed, `kill -9` of wrangler dev) waits
 * this long. It outlasts a live run (the sources are read concurrently, each
 * within its 10 s timeout, then aggregation and one batch: seconds) so that a
 * duplicate trigger does not read the minute again, and it is short enough
 * for a retry of a crashed minute to read it within the next minute. Should a
 * run ever outlive it, a second read costs a fetch, never a second copy: the
 * ticks table stores a minute once.
 */
export const LEASE_MS = 50_000;

/** Ticks are stamped with the minute they were scheduled for. */
export function tickTime(scheduledTime: number): number {
  return floorMinute(scheduledTime);
}

export async function runScheduled(env: TrackerEnv, scheduledTime: number): Promise<TickOutcome> {
  const ts = tickTime(scheduledTime);
  let outcome: TickOutcome;
  try {
    outcome = await runTick(env.DB, loadConfig(env), scheduledTime);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error({ msg: "tick failed: configuration error", tick: iso(ts), error: err.message });
    outcome = { status: "failed", ts, error: err.message, sources: [] };
  }
  if (outcome.status === "stored") await handToAlerts(env, outcome.ts, outcome.stored);
  // A stored tick carried the minute's maintenance in its own transaction; a
  // skipped run leaves it to the run that is reading (whose batch it would only make retry).
  if (outcome.status === "failed") await maintain(env.DB, ts, retentionOrNull(env)).catch((err) => console.error({ msg: "maintenance failed", error: errorText(err) }));
  return outcome;
}

export async function runTick(db: D1Database, config: Config, scheduledTime: number): Promise<TickOutcome> {
  const ts = tickTime(scheduledTime);
  try {
    if (await tickExists(db, ts)) return duplicate(ts);
    // Overlapping runs of this minute: only the first reads the upstreams.
    const expires = Date.now() + LEASE_MS;
    if (!(await claimTick(db, ts, Date.now(), expires))) {
      console.log({ msg: "tick skipped: another run is reading this minute", tick: iso(ts) });
      return { status: "skipped", ts };
    }
    let stored = false;
    try {
      const outcome = await readAndStore(db, config, ts);
      stored = outcome.status === "stored";
      return outcome;
    } finally {
      // The one place a claim is given back, whatever ended the run without storing.
      if (!stored) await giveBack(db, ts, expires);
    }
  } catch (err) {
    const error = publicText(errorText(err), config.secrets);
    console.error({ msg: "tick failed", tick: iso(ts), error });
    return { status: "failed", ts, error, sources: [] };
  }
}

/** Read the sources, aggregate, store; record the sources' statuses with the outcome. */
async function readAndStore(db: D1Database, config: Config, ts: number): Promise<TickOutcome> {
  const started = Date.now();
  const sources = await Promise.all(config.sources.map((source) => readSource(source, db, ts, config)));
  const outcomes = sources.map((entry) => entry.outcome);
  const readings = sources.flatMap((entry) => (entry.reading ? [{ source: entry.outcome.source, ...entry.reading }] : []));
  if (readings.length === 0) {
    await recordStatuses(db, ts, outcomes);
    const error = outcomes.map((outcome) => outcome.error).join("; ");
    console.error({ msg: "tick failed: no source could be read", tick: iso(ts), sources: outcomes });
    return { status: "failed", ts, error, sources: outcomes };
  }

  const sourceOf = new Map<MarketSummary, string>();
  for (const reading of readings) for (const market of reading.markets) sourceOf.set(market, reading.source);
  const { points, stats, rejected, outcomes: marketOutcomes, medians } = aggregate(
    readings.flatMap((reading) => reading.markets),
    { outlierTolerance: config.outlierTolerance },
  );
  // Each source's status counts what it lost in aggregation too (duplicates, outliers).
  for (const { market, reason } of rejected) {
    const outcome = outcomes.find((o) => o.source === sourceOf.get(market));
    if (outcome) outcome.dropped = { ...outcome.dropped, [reason]: (outcome.dropped[reason] ?? 0) + 1 };
  }

  const droppedAtSource = mergeCounts(readings.map((reading) => reading.dropped));
  const breakdowns = breakdownsBySource(marketOutcomes, medians, (market) => sourceOf.get(market), config.outlierTolerance);
  let written: WriteCost;
  try {
    written = await insertTick(db, { ts, storedAt: Date.now(), markets: stats.markets, points, breakdowns }, config.retention);
  } catch (err) {
    // Another run stored the minute meanwhile: its statuses stand.
    if (err instanceof DuplicateTickError) return duplicate(ts);
    const error = publicText(errorText(err), config.secrets);
    // The sources that answered gave nothing that was kept: /sources must not call them ok for this minute.
    const notStored = outcomes.map((outcome): SourceOutcome =>
      outcome.status === "ok" ? { ...outcome, status: "error", error: `tick not stored: ${error}` } : outcome,
    );
    await recordStatuses(db, ts, notStored);
    console.error({ msg: "tick failed: not stored", tick: iso(ts), error, sources: notStored });
    return { status: "failed", ts, error, sources: notStored };
  }
  await recordStatuses(db, ts, outcomes);
  console.log({
    msg: "tick stored",
    tick: iso(ts),
    markets_read: stats.markets + stats.duplicates + total(droppedAtSource),
    markets_used: stats.markets - stats.skipped,
    skipped: {
      ...droppedAtSource,
      no_usable_value: stats.skipped,
      duplicate: stats.duplicates,
    },
    prices_dropped: {
      outlier: stats.outliers,
      no_consensus: stats.noConsensus,
      ambiguous_pair: stats.ambiguousPairs,
      tolerance: config.outlierTolerance,
    },
    values_ignored: stats.ignored,
    non_finite: stats.nonFinite,
    points_written: points.length,
    // Sources whose per-market breakdown was too large to store (GET .../markets says complete: false).
    breakdowns_omitted: breakdowns.filter((breakdown) => breakdown.omitted).map((breakdown) => breakdown.source),
    rows_written: written.rowsWritten,
    duration_ms: Date.now() - started,
    sources: outcomes,
  });
  return { status: "stored", ts, points: points.length, sources: outcomes, stored: points };
}

/**
 * Give the minute back after a run that stored nothing, so that a retry reads
 * it at once. Failing that, the claim expires after LEASE_MS.
 */
async function giveBack(db: D1Database, ts: number, expires: number): Promise<void> {
  await releaseTick(db, ts, expires).catch((err) =>
    console.error({ msg: "giving the minute back failed: it is free again when the claim expires", tick: iso(ts), error: errorText(err) }),
  );
}

/** Source health is worth keeping but never worth failing the tick for. */
async function recordStatuses(db: D1Database, ts: number, outcomes: SourceOutcome[]): Promise<void> {
  await recordSourceStatuses(db, ts, outcomes.map(({ info: _info, ...status }) => status)).catch((err) =>
    console.error({ msg: "recording source status failed", tick: iso(ts), error: errorText(err) }),
  );
}

async function readSource(
  source: Source,
  db: D1Database,
  now: number,
  config: Config,
): Promise<{ reading?: SourceReading; outcome: SourceOutcome }> {
  const started = Date.now();
  const timeout = AbortSignal.timeout(config.sourceTimeoutMs);
  const fetchWithTimeout = (url: string, init?: RequestInit) => fetch(url, { ...init, signal: timeout });
  try {
    const reading = await source.read({ fetch: fetchWithTimeout, catalogs: catalogStore(db), now, signal: timeout });
    return {
      reading,
      outcome: {
        source: source.name,
        status: "ok",
        markets: reading.markets.length,
        dropped: reading.dropped,
        latency_ms: Date.now() - started,
        error: null,
        // Info can quote an upstream too (a failed metadata refresh).
        ...(reading.info ? { info: publicValue(reading.info, config.secrets) } : {}),
      },
    };
  } catch (err) {
    const error = timeout.aborted
      ? `${source.name}: timed out after ${config.sourceTimeoutMs} ms`
      : publicText(errorText(err), config.secrets);
    return {
      outcome: { source: source.name, status: "error", markets: 0, dropped: {}, latency_ms: Date.now() - started, error },
    };
  }
}

/**
 * Queue the stored tick for the alerting. Only the enqueueing is awaited, not
 * the evaluation; a failure is logged and leaves the stored tick as it is.
 */
async function handToAlerts(env: TrackerEnv, ts: number, points: readonly Point[]): Promise<void> {
  try {
    const parts = await publishTick(env.ALERT_TICKS, ts, points, METRIC_TYPES);
    console.log({ msg: "tick queued for alerts", tick: iso(ts), parts });
  } catch (err) {
    console.error({ msg: "queueing the tick for alerts failed", tick: iso(ts), error: errorText(err) });
  }
}

/**
 * The rank sums' slide, exact rebuilds, conversion of old points and the
 * purge, when a run has no tick to carry them (src/storage/ledger.ts); after
 * an outage it catches up in bounded chunks, one per run.
 */
export async function maintain(db: D1Database, now: number, retention: Retention | null = null): Promise<void> {
  const done = await maintainStorage(db, now, retention);
  if (done.rowsWritten > 0) console.log({ msg: "maintenance", at: iso(now), ...done });
}

/** The candles' retention, or null (nothing deleted) when its vars are invalid: the tick reports that error. */
function retentionOrNull(env: TrackerEnv): Retention | null {
  try {
    return candleRetention(env);
  } catch {
    return null;
  }
}

function duplicate(ts: number): TickOutcome {
  console.log({ msg: "tick duplicate: this minute is already stored", tick: iso(ts) });
  return { status: "duplicate", ts };
}
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const total = (counts: Record<string, number>) => sum(Object.values(counts));

function mergeCounts(counts: Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const entry of counts) {
    for (const [reason, count] of Object.entries(entry)) merged[reason] = (merged[reason] ?? 0) + count;
  }
  return merged;
}
