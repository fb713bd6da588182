#!/usr/bin/env node
/**
 * `npm run seed [-- --metrics N] [-- --minutes M] [-- --days D] [-- --persist-to <dir>]`:
 * fill an empty local D1 with synthetic minute values (random walks around
 * plausible prices and volumes), ending the minute before now, so the
 * dashboard has full charts and a meaningful ranking before the tracker has
 * run for a day. Live ticks then add the current minute as usual.
 *
 * Default: 28 named metrics x 1,440 minutes. With --metrics N, N metrics in
 * all: the named ones first, then synthetic pairs (`a17usd`, price) and assets
 * (`a17`, volume), alternating (scripts/seed-data.mjs draws them).
 *
 * With --days D (0-3650), D days of candles before the seeded minutes too, so
 * the week, month and year views have something at once: the same walks
 * continued back in time, a value every minute, summarised as the tracker's
 * roll-up would have (docs/candles.md): hourly candles for the last
 * HOURLY_CANDLE_DAYS (31), daily ones for all D days, the 7 d and 30 d windows
 * of `sums.windows`, and tracker_state's candles_until and days_until saying
 * where the tracker takes over.
 *
 * It writes the tracker's own layout (src/storage/layout.json, recorded in the
 * database by migration 0008, checked here before seeding): metrics with their
 * slots, one frame row per metric type, block of metrics and minute, and the
 * rank sums over the whole day computed here exactly (two passes, K = mean),
 * with tracker_state saying so (lo, hi], as a stored day of ticks leaves them.
 */
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DAY, HOUR, MINUTE, NAMED_METRICS, historyBounds, metricHistory, minuteDay, pastWalk } from "./seed-data.mjs";

// The stored layout, as src/storage/layout.ts reads it: slots per block and part, each tuple's fields in order.
const LAYOUT = JSON.parse(readFileSync(new URL("../src/storage/layout.json", import.meta.url), "utf8"));
const { blockSlots: BLOCK_SLOTS, partSlots: PART_SLOTS } = LAYOUT;
/** A tuple of `fields` (layout.json's order) from an object of named values. */
const tuple = (fields, values) => fields.map((name) => values[name]);
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? "") : undefined;
};
const persistTo = option("--persist-to");
const minutes = Number(option("--minutes") ?? 1440);
const total = Number(option("--metrics") ?? NAMED_METRICS);
const MAX_DAYS = 3650;
const daysText = option("--days") ?? "0";
const days = /^\d+$/.test(daysText) ? Number(daysText) : NaN;
if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440 || !Number.isInteger(total) || total < 1) {
  console.error("[seed] --minutes must be 1-1440 and --metrics a positive integer");
  process.exit(2);
}
if (!(days <= MAX_DAYS)) {
  console.error(`[seed] --days must be a whole number of days from 0 to ${MAX_DAYS} (got "${daysText}")`);
  process.exit(2);
}
const end = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
const first = end - (minutes - 1) * MINUTE;

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

/**
 * The SQL, written as it is made into files of at most MAX_FILE_BYTES (a large
 * seed is more than one string can hold), run in order by `wrangler d1 execute`.
 * Every statement stays within D1's 100 KB of SQL text; values are literals,
 * so no bound parameters.
 */
const MAX_STATEMENT_BYTES = 100_000;
const MAX_FILE_BYTES = 64 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "tracker-seed-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const files = [];
let fileBytes = Infinity;
function statement(text) {
  const bytes = Buffer.byteLength(text) + 1;
  if (bytes > MAX_STATEMENT_BYTES) throw new Error(`[seed] a statement of ${bytes} bytes, over D1's ${MAX_STATEMENT_BYTES}: ${text.slice(0, 80)}...`);
  if (fileBytes + bytes > MAX_FILE_BYTES) {
    files.push(join(dir, `seed-${files.length}.sql`));
    fileBytes = 0;
  }
  appendFileSync(files.at(-1), `${text}\n`);
  fileBytes += bytes;
}
const quote = (text) => `'${text.replaceAll("'", "''")}'`;
/** INSERTs of `rows` (SQL tuples), at most `per` and MAX_STATEMENT_BYTES a statement. */
function inserts(table, columns, rows, per = Infinity) {
  const head = `INSERT INTO ${table} (${columns}) VALUES `;
  let batch = [];
  let bytes = Buffer.byteLength(head) + 2;
  for (const row of rows) {
    const rowBytes = Buffer.byteLength(row) + 1;
    if (batch.length > 0 && (batch.length === per || bytes + rowBytes > MAX_STATEMENT_BYTES)) {
      statement(`${head}${batch.join(",")};`);
      batch = [];
      bytes = Buffer.byteLength(head) + 2;
    }
    batch.push(row);
    bytes += rowBytes;
  }
  if (batch.length > 0) statement(`${head}${batch.join(",")};`);
}

const { metrics, series: allSeries, states } = minuteDay(total, minutes);
const bounds = days > 0 ? historyBounds(first, end, days) : null;
let values = 0;
const candleRows = { hourly: 0, daily: 0 };
for (const [type, list] of Object.entries(metrics)) {
  // series[slot][minute index], oldest first.
  const series = allSeries[type];
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
  if (bounds) candles(type, list, series);
}

/**
 * The candles of `type` before bounds.candlesUntil, a block of metrics at a
 * time (a row holds one interval of a block), and each slot's windows in its
 * sums row: its own UPDATE, as data, latest and windows of 512 slots together
 * pass 100 KB.
 */
function candles(type, list, series) {
  const windows = [];
  const variances = [];
  for (let block = 0; block * BLOCK_SLOTS < list.length; block++) {
    const slots = list.slice(block * BLOCK_SLOTS, (block + 1) * BLOCK_SLOTS);
    const histories = slots.map((metric, j) => {
      const slot = block * BLOCK_SLOTS + j;
      return metricHistory(pastWalk(type, metric, states[type][slot]), series[slot], first, bounds);
    });
    for (const [span, key] of [[HOUR, "hourly"], [DAY, "daily"]]) {
      const rows = histories[0][key].map(([ts], i) => {
        const cells = histories.map((history, j) => tuple(LAYOUT.candle, { symbol: slots[j][0], ...history[key][i][1] }));
        return `('${type}', ${span}, ${block}, ${ts}, ${quote(JSON.stringify(cells))})`;
      });
      inserts("candles", "metric_type, span, block, ts, c", rows);
      candleRows[key] += rows.length;
    }
    histories.forEach((history, j) => {
      windows.push(history.windows.map(({ n, k, d, m2 }) => [n, k, d, m2]));
      // What the 7 d and 30 d rankings read (no open hour yet: the tracker starts it).
      const [week, month] = history.windows.map(({ n, m2 }) => (n > 0 ? m2 / n : null));
      variances.push(tuple(LAYOUT.variances, { symbol: slots[j][0], week, month }));
    });
  }
  for (let part = 0; part * PART_SLOTS < list.length; part++) {
    const entries = windows.slice(part * PART_SLOTS, (part + 1) * PART_SLOTS);
    statement(`UPDATE sums SET windows = ${quote(JSON.stringify(entries))} WHERE metric_type = '${type}' AND part = ${part};`);
    const ranked = variances.slice(part * PART_SLOTS, (part + 1) * PART_SLOTS);
    statement(`UPDATE sums SET variances = ${quote(JSON.stringify(ranked))} WHERE metric_type = '${type}' AND part = ${part};`);
  }
}

const ticks = Array.from({ length: minutes }, (_, i) => `(${first + i * MINUTE}, ${first + i * MINUTE + 2000}, ${total}, ${total})`);
inserts("ticks", "ts, stored_at, markets, points", ticks, 1000);
// day: the 24 h figures (src/storage/day.ts) are rebuilt from these frames by the first scheduled run.
// hour_ts stays NULL: the tracker starts the open hour itself.
const cursors = bounds ? `, candles_until = ${bounds.candlesUntil}, days_until = ${bounds.daysUntil}` : "";
statement(
  `UPDATE tracker_state SET version = version + 1, last_tick = ${end}, last_tick_stored_at = ${end + 2000},
     lo = ${end - DAY}, hi = ${end}, purged_until = ${end - DAY}, ledger = ledger + 1,
     day = '{"ok":false}'${cursors};`,
);

for (const file of files) wrangler(["d1", "execute", "DB", "--local", "--file", file]);
console.log(
  `[seed] ${values} values: ${metrics.price.length} price + ${metrics.volume.length} volume metrics x ${minutes} minutes, ${new Date(first).toISOString()} .. ${new Date(end).toISOString()}`,
);
if (bounds) {
  const iso = (ts) => new Date(ts).toISOString();
  console.log(
    `[seed] candles: ${candleRows.daily} daily rows from ${iso(bounds.from)}, ${candleRows.hourly} hourly rows from ${iso(bounds.hourlyFrom)}; ` +
      `the tracker rolls up from ${iso(bounds.candlesUntil)} (days from ${iso(bounds.daysUntil)})`,
  );
}
