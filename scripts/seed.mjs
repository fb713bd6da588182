#!/usr/bin/env node
/**
 * `npm run seed [-- --persist-to <dir>] [-- --minutes N]`: fill an empty local
 * D1 with 24 h of synthetic minute points (random walks around plausible
 * prices and volumes), ending the minute before now, so the dashboard has full
 * charts and a meaningful ranking before the tracker has run for a day.
 * Live ticks then add the current minute as usual.
 *
 * The points are written raw, with the metrics' folded sums empty (n = s1 = s2
 * = 0) and tracker_state.lo = hi = 0: the rank query then reads them raw, and
 * the first tick's fold sums them, exactly as for points a tick wrote.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const persistTo = option("--persist-to");
const minutes = Number(option("--minutes") ?? 1440);
const MINUTE = 60_000;
const end = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;

// [symbol, starting value, volatility per minute (relative)]
const METRICS = {
  price: [
    ["btcusd", 55000, 0.0009], ["btceur", 50050, 0.0008], ["ethusd", 3000, 0.0012], ["ethbtc", 0.05, 0.0006],
    ["adausd", 1.1122, 0.0018], ["1inchusd", 0.5, 0.002], ["solusd", 150, 0.0016], ["xrpusd", 0.6, 0.0015],
    ["dogeusd", 0.12, 0.0025], ["ltcusd", 90, 0.0011], ["dotusd", 7, 0.0014], ["linkusd", 15, 0.0013],
    ["avaxusd", 35, 0.0017], ["maticusd", 0.9, 0.0019], ["xlmusd", 0.11, 0.001], ["atomusd", 10, 0.0012],
  ],
  volume: [
    ["btc", 40, 0.004], ["eth", 100, 0.005], ["usd", 33359416.87, 0.003], ["eur", 750500, 0.004],
    ["ada", 28411055.5, 0.006], ["1inch", 1000, 0.008], ["sol", 52000, 0.005], ["xrp", 9100000, 0.004],
    ["doge", 88000000, 0.007], ["ltc", 21000, 0.004], ["dot", 310000, 0.005], ["link", 140000, 0.005],
  ],
};

/** A small deterministic PRNG (mulberry32), so every seed draws the same walks. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function wrangler(commandArgs) {
  const result = spawnSync("wrangler", [...commandArgs, ...(persistTo ? ["--persist-to", persistTo] : [])], {
    encoding: "utf8",
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", ...process.env },
  });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error(`wrangler ${commandArgs.slice(0, 2).join(" ")} failed`);
  }
  return result.stdout;
}

wrangler(["d1", "migrations", "apply", "DB", "--local"]);
const existing = JSON.parse(wrangler(["d1", "execute", "DB", "--local", "--json", "--command", "SELECT count(*) AS n FROM points"]));
if (existing[0].results[0].n > 0) {
  console.error("[seed] the local database already has points: seed an empty one (remove .wrangler/state, or use --persist-to)");
  process.exit(1);
}

const sql = [];
const rows = [];
let id = 0;
const next = random(20261129);
for (const [metricType, metrics] of Object.entries(METRICS)) {
  for (const [symbol, start, volatility] of metrics) {
    id += 1;
    sql.push(`INSERT INTO metrics (id, metric_type, symbol, shift) VALUES (${id}, '${metricType}', '${symbol}', ${start});`);
    // A random walk drawn back in time from `start` (so the live ticks, which
    // read the fixtures' values, continue it), pulled gently towards `start`.
    let value = start;
    for (let i = 0; i < minutes; i++) {
      value *= 1 + volatility * (next() + next() + next() - 1.5) * 2 + 0.02 * volatility * (start / value - 1);
      rows.push(`(${id}, ${end - i * MINUTE}, ${Number(value.toPrecision(10))})`);
    }
  }
}
for (let i = 0; i < rows.length; i += 1000) sql.push(`INSERT INTO points (metric_id, ts, value) VALUES ${rows.slice(i, i + 1000).join(",")};`);
const ticks = Array.from({ length: minutes }, (_, i) => `(${end - i * MINUTE}, ${end - i * MINUTE + 2000}, ${id}, ${id})`);
for (let i = 0; i < ticks.length; i += 1000) sql.push(`INSERT INTO ticks (ts, stored_at, markets, points) VALUES ${ticks.slice(i, i + 1000).join(",")};`);
sql.push(`UPDATE tracker_state SET version = version + 1, last_tick = ${end}, last_tick_stored_at = ${end + 2000};`);

const dir = mkdtempSync(join(tmpdir(), "tracker-seed-"));
try {
  const file = join(dir, "seed.sql");
  writeFileSync(file, sql.join("\n"));
  wrangler(["d1", "execute", "DB", "--local", "--file", file]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `[seed] ${rows.length} points: ${id} metrics x ${minutes} minutes, ${new Date(end - (minutes - 1) * MINUTE).toISOString()} .. ${new Date(end).toISOString()}`,
);
