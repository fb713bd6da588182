#!/usr/bin/env node
/**
 * `npm run seed [-- --metrics N] [-- --minutes M] [-- --persist-to <dir>]`:
 * fill an empty local D1 with synthetic minute values (random walks around
 * plausible prices and volumes), ending the minute before now, so the
 * dashboard has full charts and a meaningful ranking before the tracker has
 * run for a day. Live ticks then add the current minute as usual.
 *
 * Default: the 28 metrics below x 1,440 minutes. With --metrics N, N metrics
 * in all: these first, then synthetic pairs (`a17usd`, price) and assets
 * (`a17`, volume), alternating.
 *
 * It writes the tracker's own layout (src/storage/layout.json, recorded in the
 * database by migration 0008, checked here before seeding): metrics with their
 * slots, one frame row per metric type, block of metrics and minute, and the
 * rank sums over the whole day computed here exactly (two passes, K = mean),
 * with tracker_state saying so (lo, hi], as a stored day of ticks leaves them.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// The stored layout, as src/storage/layout.ts reads it: slots per block and part, each tuple's fields in order.
const LAYOUT = JSON.parse(readFileSync(new URL("../src/storage/layout.json", import.meta.url), "utf8"));
const { blockSlots: BLOCK_SLOTS, partSlots: PART_SLOTS } = LAYOUT;
/** A tuple of `fields` (layout.json's order) from an object of named values. */
const tuple = (fields, values) => fields.map((name) => values[name]);
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const persistTo = option("--persist-to");
const minutes = Number(option("--minutes") ?? 1440);
const MINUTE = 60_000;
const DAY = 1440 * MINUTE;
const end = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;

// [symbol, starting value, volatility per minute (relative)]
const NAMED = {
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
const named = NAMED.price.length + NAMED.volume.length;
const total = Number(option("--metrics") ?? named);
if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440 || !Number.isInteger(total) || total < 1) {
  console.error("[seed] --minutes must be 1-1440 and --metrics a positive integer");
  process.exit(2);
}

/** A small deterministic PRNG (mulberry32), so every seed draws the same walks. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const next = random(20261129);

const metrics = { price: [], volume: [] };
for (const type of ["price", "volume"]) metrics[type].push(...NAMED[type]);
for (let i = 0; metrics.price.length + metrics.volume.length < total; i++) {
  const type = i % 2 === 0 ? "price" : "volume";
  const start = Number((10 ** (next() * 8 - 3)).toPrecision(6));
  metrics[type].push([type === "price" ? `a${i}usd` : `a${i}`, start, 0.0005 + next() * 0.003]);
}
let over = metrics.price.length + metrics.volume.length - total;
while (over-- > 0) (metrics.volume.length > metrics.price.length ? metrics.volume : metrics.price).pop();

function wrangler(commandArgs) {
  const result = spawnSync("wrangler", [...commandArgs, ...(persistTo ? ["--persist-to", persistTo] : [])], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", ...process.env },
  });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error(`wrangler ${commandArgs.slice(0, 2).join(" ")} failed`);
  }
  return result.stdout;
}

wrangler(["d1", "migrations", "apply", "DB", "--local"]);
const existing = JSON.parse(
  wrangler([
    "d1", "execute", "DB", "--local", "--json", "--command",
    "SELECT (SELECT count(*) FROM frames) AS n, layout_version, block_slots, part_slots FROM tracker_state",
  ]),
);
const recorded = existing[0].results[0];
if (recorded.layout_version !== LAYOUT.version || recorded.block_slots !== BLOCK_SLOTS || recorded.part_slots !== PART_SLOTS) {
  console.error(
    `[seed] the database records storage layout v${recorded.layout_version} (${recorded.block_slots}/${recorded.part_slots} slots), ` +
      `src/storage/layout.json is v${LAYOUT.version} (${BLOCK_SLOTS}/${PART_SLOTS}): not seeding`,
  );
  process.exit(1);
}
if (recorded.n > 0) {
  console.error("[seed] the local database already has values: seed an empty one (remove .wrangler/state, or use --persist-to)");
  process.exit(1);
}

const sql = [];
const first = end - (minutes - 1) * MINUTE;
const quote = (text) => `'${text.replaceAll("'", "''")}'`;
const inserts = (table, columns, rows, per) => {
  for (let i = 0; i < rows.length; i += per) sql.push(`INSERT INTO ${table} (${columns}) VALUES ${rows.slice(i, i + per).join(",")};`);
};
let values = 0;
for (const [type, list] of Object.entries(metrics)) {
  // series[slot][minute index], oldest first: a random walk drawn back in time
  // from `start` (so live ticks, which read real values, continue it).
  const series = list.map(([, start, volatility]) => {
    const walk = new Array(minutes);
    let value = start;
    for (let i = minutes - 1; i >= 0; i--) {
      value *= 1 + volatility * (next() + next() + next() - 1.5) * 2 + 0.02 * volatility * (start / value - 1);
      walk[i] = Number(value.toPrecision(10));
    }
    return walk;
  });
  values += list.length * minutes;
  inserts("metrics", "metric_type, symbol, slot", list.map(([symbol], slot) => `('${type}', ${quote(symbol)}, ${slot})`), 500);
  const frames = [];
  for (let block = 0; block * BLOCK_SLOTS < list.length; block++) {
    for (let i = 0; i < minutes; i++) {
      const frame = series.slice(block * BLOCK_SLOTS, (block + 1) * BLOCK_SLOTS).map((walk) => walk[i]);
      frames.push(`('${type}', ${block}, ${first + i * MINUTE}, '${JSON.stringify(frame)}')`);
    }
  }
  inserts("frames", "metric_type, block, ts, v", frames, 50);
  // The exact sums of each series over the day, shifted by its mean; e is the
  // value at lo + 1 minute (lo = end - 24 h), present only with a full day.
  const sums = [];
  for (let part = 0; part * PART_SLOTS < list.length; part++) {
    const slots = list.slice(part * PART_SLOTS, (part + 1) * PART_SLOTS);
    const data = slots.map(([symbol], j) => {
      const walk = series[part * PART_SLOTS + j];
      const mean = walk.reduce((a, b) => a + b, 0) / walk.length;
      const s1 = walk.reduce((a, v) => a + (v - mean), 0);
      const s2 = walk.reduce((a, v) => a + (v - mean) * (v - mean), 0);
      return tuple(LAYOUT.sums, { symbol, n: walk.length, s1, s2, k: mean, e: minutes === 1440 ? walk[0] : null });
    });
    // Without the 24 h figures (the first scheduled run rebuilds them): the tuple's first three fields.
    const latest = slots.map(([symbol], j) => tuple(LAYOUT.latest.slice(0, 3), { symbol, ts: end, value: series[part * PART_SLOTS + j][minutes - 1] }));
    sums.push(`('${type}', ${part}, ${quote(JSON.stringify(data))}, ${quote(JSON.stringify(latest))})`);
  }
  inserts("sums", "metric_type, part, data, latest", sums, 1);
}
const ticks = Array.from({ length: minutes }, (_, i) => `(${first + i * MINUTE}, ${first + i * MINUTE + 2000}, ${total}, ${total})`);
inserts("ticks", "ts, stored_at, markets, points", ticks, 1000);
// day: the 24 h figures (src/storage/day.ts) are rebuilt from these frames by the first scheduled run.
sql.push(
  `UPDATE tracker_state SET version = version + 1, last_tick = ${end}, last_tick_stored_at = ${end + 2000},
     lo = ${end - DAY}, hi = ${end}, purged_until = ${end - DAY}, ledger = ledger + 1,
     day = '{"ok":false}';`,
);

const dir = mkdtempSync(join(tmpdir(), "tracker-seed-"));
try {
  const file = join(dir, "seed.sql");
  writeFileSync(file, sql.join("\n"));
  wrangler(["d1", "execute", "DB", "--local", "--file", file]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `[seed] ${values} values: ${metrics.price.length} price + ${metrics.volume.length} volume metrics x ${minutes} minutes, ${new Date(first).toISOString()} .. ${new Date(end).toISOString()}`,
);
