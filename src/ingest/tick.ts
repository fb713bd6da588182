/**
 * The scheduled job: read every source, aggregate, store the tick in one
 * transaction, then keep the rank sums folded and old points purged.
 * A tick writes all of its points or none.
 */
import { loadConfig, type Config, type TrackerEnv } from "../config";
import { errorText } from "../sources/http";
import type { Source, SourceReading } from "../sources/types";
import { DuplicateTickError, FOLD_INTERVAL_MS, fold, insertTick, purge, readState, tickExists } from "../storage/ticks";
import { MINUTE_MS, WINDOW_MS } from "../storage/window";
import { aggregate } from "./aggregate";

export interface SourceOutcome {
  source: string;
  status: "ok" | "error";
  markets: number;
  dropped: Record<string, number>;
  latency_ms: number;
  error: string | null;
  info?: Record<string, unknown>;
}

export type TickOutcome =
  | { status: "stored"; ts: number; points: number; sources: SourceOutcome[] }
  | { status: "duplicate"; ts: number }
  | { status: "failed"; ts: number; error: string; sources: SourceOutcome[] };

/** Ticks are stamped with the minute they were scheduled for. */
export function tickTime(scheduledTime: number): number {
  return Math.floor(scheduledTime / MINUTE_MS) * MINUTE_MS;
}

export async function runScheduled(env: TrackerEnv, scheduledTime: number): Promise<TickOutcome> {
  const config = loadConfig(env);
  const outcome = await runTick(env.DB, config, scheduledTime);
  await maintain(env.DB, tickTime(scheduledTime)).catch((err) =>
    console.error({ msg: "maintenance failed", error: errorText(err) }),
  );
  return outcome;
}

export async function runTick(db: D1Database, config: Config, scheduledTime: number): Promise<TickOutcome> {
  const ts = tickTime(scheduledTime);
  const started = Date.now();
  try {
    if (await tickExists(db, ts)) return duplicate(ts);

    const sources = await Promise.all(config.sources.map((source) => readSource(source, db, ts, config)));
    const readings = sources.filter((entry) => entry.reading !== undefined).map((entry) => entry.reading!);
    const outcomes = sources.map((entry) => entry.outcome);
    if (readings.length === 0) {
      const error = outcomes.map((outcome) => outcome.error).join("; ");
      console.error({ msg: "tick failed: no source could be read", tick: iso(ts), sources: outcomes });
      return { status: "failed", ts, error, sources: outcomes };
    }

    const { points, stats } = aggregate(readings.flatMap((reading) => reading.markets));
    const written = await insertTick(db, { ts, storedAt: Date.now(), markets: stats.markets, points });
    console.log({
      msg: "tick stored",
      tick: iso(ts),
      markets_read: stats.markets + stats.duplicates + sum(outcomes.map((o) => total(o.dropped))),
      markets_used: stats.markets - stats.skipped,
      skipped: {
        ...mergeCounts(outcomes.map((o) => o.dropped)),
        no_usable_value: stats.skipped,
        duplicate: stats.duplicates,
      },
      values_ignored: stats.ignored,
      points_written: points.length,
      rows_written: written.rowsWritten,
      duration_ms: Date.now() - started,
      sources: outcomes,
    });
    return { status: "stored", ts, points: points.length, sources: outcomes };
  } catch (err) {
    if (err instanceof DuplicateTickError) return duplicate(ts);
    console.error({ msg: "tick failed", tick: iso(ts), error: errorText(err) });
    return { status: "failed", ts, error: errorText(err), sources: [] };
  }
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
    const reading = await source.read({ fetch: fetchWithTimeout, db, now });
    return {
      reading,
      outcome: {
        source: source.name,
        status: "ok",
        markets: reading.markets.length,
        dropped: reading.dropped,
        latency_ms: Date.now() - started,
        error: null,
        ...(reading.info ? { info: reading.info } : {}),
      },
    };
  } catch (err) {
    const error = timeout.aborted ? `${source.name}: timed out after ${config.sourceTimeoutMs} ms` : errorText(err);
    return {
      outcome: { source: source.name, status: "error", markets: 0, dropped: {}, latency_ms: Date.now() - started, error },
    };
  }
}

/** Fold the rank sums forward and purge what left the window, when due. */
export async function maintain(db: D1Database, now: number): Promise<void> {
  const state = await readState(db);
  if (now - state.hi < FOLD_INTERVAL_MS) return;
  const folded = await fold(db, now);
  const purged = await purge(db, now - WINDOW_MS);
  console.log({ msg: "folded and purged", up_to: iso(now), fold: folded, purge: purged });
}

function duplicate(ts: number): TickOutcome {
  console.log({ msg: "tick skipped: this minute is already stored", tick: iso(ts) });
  return { status: "duplicate", ts };
}

const iso = (ts: number) => new Date(ts).toISOString();
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const total = (counts: Record<string, number>) => sum(Object.values(counts));

function mergeCounts(counts: Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const entry of counts) {
    for (const [reason, count] of Object.entries(entry)) merged[reason] = (merged[reason] ?? 0) + count;
  }
  return merged;
}
