#!/usr/bin/env node
/**
 * `npm run candle-size [-- --metrics 4000,40000] [-- --days 1]`: how much D1
 * the candles take (docs/candles.md, "Size"). For each scale it seeds an
 * empty local database (`npm run seed -- --metrics N --minutes 60 --days D`,
 * in a temporary --persist-to), then measures the rows as SQLite stores them:
 * each span's rows are copied into a fresh database with the same table and
 * page size, in the order the tracker writes them (all blocks of an interval,
 * interval after interval) and repeated at later times, as weeks of roll-ups
 * leave them; the table's pages (leaf, interior and overflow) are counted with
 * dbstat. The frames are measured in the seeded file itself.
 * From bytes per row it prints the size of a year at the defaults (hourly
 * candles kept HOURLY_CANDLE_DAYS, daily ones for ever) and the hourly
 * retention that keeps a deployment well inside D1's 10 GB.
 *
 * Needs Node 22 (node:sqlite): npm scripts run the project's Node.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOURLY_CANDLE_DAYS } from "./seed-data.mjs";

const sqlite = await import("node:sqlite").catch(() => {
  console.error(`[candle-size] needs node:sqlite (Node 22.13+), this is Node ${process.version}: run it as npm run candle-size`);
  process.exit(2);
});
const { DatabaseSync } = sqlite;

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const scales = (option("--metrics") ?? "4000,40000").split(",").map(Number);
const days = Number(option("--days") ?? 1);
const { blockSlots: BLOCK_SLOTS } = JSON.parse(readFileSync(new URL("../src/storage/layout.json", import.meta.url), "utf8"));
const D1_LIMIT = 10e9; // D1's maximum database size (paid plan), 10 GB
const WELL_INSIDE = 0.5; // "well inside": half of it after a year, room for growth and the rest of the tables
const HOUR = 3_600_000;
const DAY = 86_400_000;

const SPANS = { hourly: HOUR, daily: DAY };

/**
 * Bytes per row of the table `name` in `db` (dbstat: every page it holds), and
 * how many of them are overflow pages: a WITHOUT ROWID row keeps at most ~1,000
 * bytes in its leaf page (4 KB pages) and the rest in whole pages of its own.
 */
function tableBytes(db, name) {
  const pages = db
    .prepare("SELECT sum(pgsize) AS bytes, sum(pagetype = 'overflow') AS overflow FROM dbstat WHERE name = ?")
    .get(name);
  const { rows } = db.prepare(`SELECT count(*) AS rows FROM ${name}`).get();
  return { rows, bytes: pages.bytes, perRow: pages.bytes / rows, overflowPerRow: pages.overflow / rows };
}

/**
 * Bytes per row of `span` as the tracker leaves them: the seeded rows copied
 * into a fresh database interval after interval, all blocks of each (as the
 * roll-up writes them), and repeated with later times until each block holds
 * `intervals` of them (or MAX_COPIED_ROWS in all), so that the pages fill as
 * they do over weeks of appends rather than as one seeded sweep.
 */
const MAX_COPIED_ROWS = 200_000;
function measureSpan(source, span, intervals, scratch) {
  const file = join(scratch, `candles-${span}.sqlite`);
  const target = new DatabaseSync(file);
  const { page_size } = source.prepare("PRAGMA page_size").get();
  target.exec(`PRAGMA page_size = ${page_size}`);
  target.exec(source.prepare("SELECT sql FROM sqlite_schema WHERE name = 'candles'").get().sql);
  const rows = source.prepare("SELECT metric_type, span, block, ts, c FROM candles WHERE span = ? ORDER BY ts, metric_type, block").all(span);
  const times = [...new Set(rows.map((row) => row.ts))];
  const blocks = rows.length / times.length;
  const wanted = Math.max(times.length, Math.min(intervals, Math.floor(MAX_COPIED_ROWS / blocks)));
  const period = times.at(-1) + span - times[0];
  const insert = target.prepare("INSERT INTO candles (metric_type, span, block, ts, c) VALUES (?, ?, ?, ?, ?)");
  target.exec("BEGIN");
  let written = 0;
  for (let cycle = 0; written < wanted * blocks; cycle++) {
    for (const row of rows) {
      if (written === wanted * blocks) break;
      insert.run(row.metric_type, row.span, row.block, row.ts + cycle * period, row.c);
      written++;
    }
  }
  target.exec("COMMIT");
  const measured = tableBytes(target, "candles");
  target.close();
  rmSync(file, { force: true });
  const cBytes = rows.reduce((a, row) => a + row.c.length, 0) / rows.length;
  return { ...measured, seeded: rows.length, intervals: wanted, cBytes };
}

function seed(metrics, persistTo) {
  const started = Date.now();
  const run = spawnSync("npm", ["run", "seed", "--", "--persist-to", persistTo, "--metrics", String(metrics), "--minutes", "60", "--days", String(days)], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) {
    console.error(run.stdout, run.stderr);
    throw new Error(`[candle-size] npm run seed --metrics ${metrics} failed`);
  }
  return (Date.now() - started) / 1000;
}

const describe = (m, unit) =>
  `${m.perRow.toFixed(0)} B/row stored (c ${m.cBytes.toFixed(0)} B, ${m.overflowPerRow.toFixed(2)} overflow pages/row; ` +
  `${m.seeded} rows seeded, ${m.intervals} ${unit} a block copied)`;
const gb = (bytes) => `${(bytes / 1e9).toFixed(2)} GB`;
const results = [];
for (const metrics of scales) {
  const scratch = mkdtempSync(join(tmpdir(), "tracker-candle-size-"));
  try {
    const seconds = seed(metrics, scratch);
    const dir = join(scratch, "v3", "d1", "miniflare-D1DatabaseObject");
    const file = readdirSync(dir).find((name) => name.endsWith(".sqlite") && name !== "metadata.sqlite");
    const source = new DatabaseSync(join(dir, file), { readOnly: true });
    const blocks = source.prepare("SELECT count(DISTINCT metric_type || ':' || block) AS n FROM frames").get().n;
    const hourly = measureSpan(source, SPANS.hourly, 30 * 24, scratch);
    const daily = measureSpan(source, SPANS.daily, 365, scratch);
    const frames = tableBytes(source, "frames");
    source.close();
    results.push({ metrics, blocks, hourly, daily, frames, seconds });
    console.log(
      `[candle-size] ${metrics} metrics (${blocks} blocks of ${BLOCK_SLOTS}), seeded in ${seconds.toFixed(0)} s: ` +
        `hourly ${describe(hourly, "hours")}; daily ${describe(daily, "days")}; ` +
        `frames ${frames.perRow.toFixed(0)} B/row`,
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The database after `years` of running with hourly candles kept `hourlyDays`:
 * the parts that stop growing (the hourly rows, a day of frames) and the daily
 * rows, one a block a day, kept for ever. The other tables (sums, metrics,
 * alerts, breakdowns) are a few MB and left out.
 */
function sizeAfter({ blocks, hourly, daily, frames }, years, hourlyDays = HOURLY_CANDLE_DAYS) {
  const hourlyBytes = blocks * 24 * Math.min(hourlyDays, years * 365) * hourly.perRow;
  const framesBytes = blocks * 1440 * frames.perRow;
  const dailyPerYear = blocks * 365 * daily.perRow;
  const total = hourlyBytes + framesBytes + dailyPerYear * years;
  return { hourlyBytes, framesBytes, dailyPerYear, total, yearsToLimit: (D1_LIMIT - hourlyBytes - framesBytes) / dailyPerYear };
}

const RETENTIONS = [HOURLY_CANDLE_DAYS, 60, 45, 31]; // 31 days: the design's least (30 d window + the current day)
console.log(`\nD1 size with daily candles kept for ever (limit ${gb(D1_LIMIT)}; "well inside": at most ${gb(WELL_INSIDE * D1_LIMIT)} after a year):`);
console.log("| metrics | hourly kept | hourly rows | frames (24 h) | daily rows a year | after 1 year | after 3 years | years to 10 GB |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  for (const days of RETENTIONS) {
    const one = sizeAfter(r, 1, days);
    console.log(
      `| ${r.metrics} | ${days} d | ${gb(one.hourlyBytes)} | ${gb(one.framesBytes)} | ${gb(one.dailyPerYear)} | ${gb(one.total)} | ` +
        `${gb(sizeAfter(r, 3, days).total)} | ${one.yearsToLimit <= 0 ? "never fits" : one.yearsToLimit.toFixed(1)} |`,
    );
  }
}
for (const r of results) {
  const fitting = RETENTIONS.find((days) => sizeAfter(r, 1, days).total <= WELL_INSIDE * D1_LIMIT);
  const defaults = sizeAfter(r, 1);
  console.log(
    `\n${r.metrics} metrics: ${gb(defaults.total)} after a year at the defaults, ` +
      (fitting === HOURLY_CANDLE_DAYS
        ? "well inside 10 GB."
        : fitting
          ? `NOT well inside 10 GB; hourly candles kept ${fitting} days: ${gb(sizeAfter(r, 1, fitting).total)} after a year.`
          : `NOT well inside 10 GB, and not even with 31 days of hourly candles (${gb(sizeAfter(r, 1, 31).total)} after a year, ` +
            `10 GB after ${sizeAfter(r, 1, 31).yearsToLimit.toFixed(1)} years): the daily rows need a retention too, or smaller cells.`),
  );
}
