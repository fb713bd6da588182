/**
 * AlertWindow: a Durable Object per metric type holding that type's last two
 * hours of points (LastHour) in memory, persisted in its own SQLite storage as
 * one row per tick part, so the alerting never reads D1's history and adds one
 * row write per part. Restored from storage when the object starts.
 */
import { DurableObject } from "cloudflare:workers";
import type { AlertSettings } from "../config";
import type { AlertCandidate } from "../domain/alert";
import type { TrackerEnv } from "../domain/env";
import { ALERT_TIMES_RETENTION_MS, LastHour, RETENTION_MS } from "./last-hour";
import type { TickPart } from "./messages";

export type Evaluation =
  | { status: "evaluated"; candidates: AlertCandidate[] }
  | { status: "too_late"; newest: number };

export class AlertWindow extends DurableObject<TrackerEnv> {
  private readonly lastHour = new LastHour();

  constructor(ctx: DurableObjectState, env: TrackerEnv) {
    super(ctx, env);
    // SQLite storage is synchronous: the state is whole before any call is served.
    this.restore();
  }

  private restore(): void {
    const sql = this.ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS parts (
      ts INTEGER NOT NULL, part INTEGER NOT NULL, symbols TEXT NOT NULL, "values" TEXT NOT NULL,
      PRIMARY KEY (ts, part)) STRICT`);
    sql.exec(`CREATE TABLE IF NOT EXISTS alerts (
      symbol TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (symbol, ts)) STRICT`);
    for (const row of sql.exec<{ ts: number; symbols: string; values: string }>(
      `SELECT ts, symbols, "values" FROM parts ORDER BY ts`,
    )) {
      this.lastHour.record({ ts: row.ts, symbols: JSON.parse(row.symbols), values: JSON.parse(row.values) });
    }
    for (const row of sql.exec<{ symbol: string; ts: number }>("SELECT symbol, ts FROM alerts")) {
      this.lastHour.rememberAlert(row.symbol, row.ts);
    }
  }

  /**
   * Judge a tick part against the hour before it, then add it. The same part
   * again gives the same answer (its own points are outside its hour), so a
   * consumer retrying after a failed D1 write gets its alerts back.
   */
  evaluate(part: TickPart, settings: AlertSettings): Evaluation {
    if (!this.lastHour.accepts(part.ts)) return { status: "too_late", newest: this.lastHour.newest };
    const candidates = this.lastHour.evaluate(part, settings);
    this.lastHour.record(part);

    const sql = this.ctx.storage.sql;
    sql.exec(
      `INSERT OR IGNORE INTO parts (ts, part, symbols, "values") VALUES (?, ?, ?, ?)`,
      part.ts,
      part.part,
      JSON.stringify(part.symbols),
      JSON.stringify(part.values),
    );
    for (const candidate of candidates) {
      sql.exec("INSERT OR IGNORE INTO alerts (symbol, ts) VALUES (?, ?)", candidate.symbol, candidate.ts);
    }
    sql.exec("DELETE FROM parts WHERE ts <= ?", this.lastHour.newest - RETENTION_MS);
    sql.exec("DELETE FROM alerts WHERE ts <= ?", this.lastHour.newest - ALERT_TIMES_RETENTION_MS);
    return { status: "evaluated", candidates };
  }
}
