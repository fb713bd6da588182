/**
 * The D1 half of `npm run bench`, run by vitest in workerd (as the tests are)
 * with vitest.bench.config.ts. Prints one line `BENCH_RESULT <json>` that
 * scripts/bench/run.mjs turns into the table.
 *
 * Two databases get the same data: DB (our layout, every migration) and
 * BASELINE (today's design before issue 10: migrations 0001-0004, one row per
 * point, scripts/bench/baseline.ts). The naive rank runs on BASELINE's points.
 */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { it } from "vitest";
import { measureCandleReads, seedCandleMonth } from "./candles";
import { measureBaselineMaintenance, measureBaselineTick, measureCandleHour, measureFigures, measureRead, measureTick, seedBaseline, seedOurs } from "./workload";

const MINUTE = 60_000;

it("benchmark", async () => {
  const { metrics, minutes, runs, naiveRuns, only } = JSON.parse(env.BENCH_OPTIONS) as {
    metrics: number;
    minutes: number;
    runs: number;
    naiveRuns: number;
    /** "candles": only the candles' figures (issue 18), for a quicker run at scale. */
    only?: "candles";
  };
  const started = Date.now();
  const progress = (message: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);
  // History ends at minute `last`; then 12 live ticks follow, as the tracker runs.
  const last = Math.floor(Date.UTC(2026, 10, 29, 12, 0) / MINUTE);
  const existing = only === "candles" ? await seedOnly(metrics, minutes, last, progress) : await measureAll(metrics, minutes, runs, naiveRuns, last, progress);

  // Candles (issue 18). An hour of ticks with them (DB, as the tracker runs) and without (PLAIN, the same seed and ticks, the candle step off).
  await applyD1Migrations(env.PLAIN, env.TEST_MIGRATIONS);
  await seedOurs(env.PLAIN, metrics, minutes, last, { candles: false });
  for (let j = 1; j <= 12; j++) await measureTick(env.PLAIN, metrics, last + j, null, { candles: false });
  const hour = await measureCandleHour(env.DB, env.PLAIN, metrics, last + 13);
  progress("an hour of ticks with and without candles done");
  await applyD1Migrations(env.CANDLES, env.TEST_MIGRATIONS);
  const month = await seedCandleMonth(env.CANDLES, metrics, last * MINUTE);
  progress(`a month of candles seeded: ${JSON.stringify(month.seed)}`);
  const candleReads = await measureCandleReads(env.CANDLES, month, runs, naiveRuns);
  progress("candle reads measured");
  const rowsOf = (t: Awaited<ReturnType<typeof measureTick>>) => ({
    rows_written: t.cost.rowsWritten + t.lease + t.statuses.rowsWritten + t.breakdown.rowsWritten,
    rows_read: t.cost.rowsRead + t.statuses.rowsRead + 1,
    statements: t.cost.statements,
    ms: t.ms,
  });
  const candles = {
    hour: {
      closing: hour.closing,
      minutes: hour.minutes.map((m) => ({ minute: m.minute, with: rowsOf(m.with), without: rowsOf(m.without) })),
    },
    month: { seed: month.seed, size: month.size, candles_until: month.candlesUntil, now: month.now },
    reads: candleReads,
  };

  console.log(
    `BENCH_RESULT ${JSON.stringify({ scale: { metrics, minutes, points: existing.points, runs }, ...existing, candles })}`,
  );
});

/** Only what the candles' figures need: our database seeded and ticked to minute last + 12. */
async function seedOnly(metrics: number, minutes: number, last: number, progress: (message: string) => void) {
  const build = await seedOurs(env.DB, metrics, minutes, last);
  for (let j = 1; j <= 12; j++) await measureTick(env.DB, metrics, last + j);
  progress("ours seeded and ticked (candles only)");
  return { only: "candles" as const, points: 0, build };
}

/** Everything but the candles: both designs seeded, 12 ticks, every read at two moments, the 24 h figures. */
async function measureAll(metrics: number, minutes: number, runs: number, naiveRuns: number, last: number, progress: (message: string) => void) {
  await applyD1Migrations(env.BASELINE, env.TEST_MIGRATIONS.filter((migration) => migration.name < "0005"));

  const points = await seedBaseline(env.BASELINE, metrics, minutes, last);
  progress(`baseline seeded: ${points} points`);
  const initialFold = await measureBaselineMaintenance(env.BASELINE, last);
  const build = await seedOurs(env.DB, metrics, minutes, last);
  progress(`ours seeded; sums built by ${build.length} maintenance runs`);

  const ticks = [];
  const baselineTicks = [];
  let baselineMaintenance;
  for (let j = 1; j <= 12; j++) {
    const minute = last + j;
    ticks.push(await measureTick(env.DB, metrics, minute));
    baselineTicks.push(await measureBaselineTick(env.BASELINE, metrics, minute));
    // The maintenance today's scheduled handler runs every 10 minutes.
    if (j === 10) baselineMaintenance = await measureBaselineMaintenance(env.BASELINE, minute);
  }
  progress("ticks done");

  // Two moments of our cycle: 5 s after the tick of minute last + 12 landed
  // (the sums are the window), and 5 s into the next minute before its tick
  // lands (the window has lost a minute the sums still hold).
  const moments = { after_tick: (last + 12) * MINUTE + 5_000, before_tick: (last + 13) * MINUTE + 5_000 };
  const reads: Record<string, Record<string, Record<string, Awaited<ReturnType<typeof measureRead>>[]>>> = {};
  for (const [moment, now] of Object.entries(moments)) {
    reads[moment] = { ours: {}, again: {}, baseline: {}, naive: {} };
    for (let run = 0; run < runs; run++) {
      for (const read of ["rank", "history", "latest", "metrics", "metric", "metric_figures", "root"]) {
        // Reads of about a millisecond are timed over 100 calls (the clock moves in whole ms).
        // "again" is ours measured a second time: the difference between the two is the
        // noise of this run, against which run.mjs judges ours against today's. The arms
        // take turns going first, so none always runs on a warmer cache.
        const repeat = read === "metric" || read === "metric_figures" || read === "root" ? 100 : 10;
        // Today's design serving one metric with the 24 h figures: the same answer as ours.
        const arms: readonly ("ours" | "again" | "baseline")[] = read === "metric_figures" ? ["baseline"] : ["ours", "again", "baseline"];
        const order = arms.map((_, i) => arms[(i + run) % arms.length]!);
        for (const arm of order) {
          const design = arm === "baseline" ? "baseline" : "ours";
          (reads[moment]![arm]![read] ??= []).push(await measureRead(design === "ours" ? env.DB : env.BASELINE, design, read, now, repeat));
        }
      }
      if (run < naiveRuns) {
        (reads[moment]!.naive!.rank ??= []).push(await measureRead(env.BASELINE, "naive", "rank", now));
        (reads[moment]!.baseline!.latest_figures ??= []).push(await measureRead(env.BASELINE, "baseline", "latest_figures", now));
      }
    }
    progress(`reads at ${moment} done`);
  }

  // The 24 h figures' own work, at the minute of the last tick.
  const figures = {
    build: await measureFigures(env.DB, "build", (last + 12) * MINUTE),
    rebuild: await measureFigures(env.DB, "rebuild", (last + 12) * MINUTE),
  };
  progress("figures measured");

  const strip = (list: { rows?: unknown }[]) => list.map(({ rows, ...rest }) => rest);
  const summary: Record<string, unknown> = {};
  const rankRows: Record<string, Record<string, unknown>> = {};
  for (const [moment, designs] of Object.entries(reads)) {
    summary[moment] = Object.fromEntries(
      Object.entries(designs).map(([design, byRead]) => [design, Object.fromEntries(Object.entries(byRead).map(([read, list]) => [read, strip(list)]))]),
    );
    rankRows[moment] = { ours: designs.ours!.rank![0]!.rows, baseline: designs.baseline!.rank![0]!.rows, naive: designs.naive!.rank![0]!.rows };
  }
  return {
    points,
    build,
    initialFold,
    // The first tick of each arm is left out of the steady state.
    ticks: ticks.slice(1, 11),
    baselineTicks: baselineTicks.slice(1, 11),
    baselineMaintenance,
    reads: summary,
    rankRows,
    figures,
  };
}
