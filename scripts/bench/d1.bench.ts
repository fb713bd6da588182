/**
 * The D1 half of `npm run bench`, run by vitest in workerd (as the tests are)
 * with vitest.bench.config.ts. Prints one line `BENCH_RESULT <json>` that
 * scripts/bench/run.mjs turns into the table.
 */
import { env } from "cloudflare:workers";
import { it } from "vitest";
import { buildHourlyBuckets, measureFold, measureHistory, measurePurge, measureRank, measureTick, seed } from "./workload";

const MINUTE = 60_000;

it("benchmark", async () => {
  const { metrics, minutes, runs } = JSON.parse(env.BENCH_OPTIONS) as { metrics: number; minutes: number; runs: number };
  const started = Date.now();
  const progress = (message: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

  // History ends at minute `last`; then 12 live ticks follow, as the tracker runs.
  const last = Math.floor(Date.UTC(2026, 10, 29, 12, 0) / MINUTE);
  const points = await seed(env.DB, metrics, minutes, last);
  progress(`seeded ${points} points`);
  const initialFold = await measureFold(env.DB, last * MINUTE);
  progress(`initial fold: ${initialFold.cost.rowsRead} rows read`);

  const ticks = [];
  let fold, purge;
  for (let j = 1; j <= 12; j++) {
    const minute = last + j;
    ticks.push(await measureTick(env.DB, metrics, minute));
    if (j === 10) {
      // The maintenance the scheduled handler runs every 10 minutes.
      fold = await measureFold(env.DB, minute * MINUTE);
      purge = await measurePurge(env.DB, minute * MINUTE - 24 * 60 * MINUTE);
    }
  }
  progress("ticks done");

  // Read 30 s after the last tick: the sums were folded 2 minutes earlier.
  const now = (last + 12) * MINUTE + 30_000;
  await buildHourlyBuckets(env.DB);
  const rankOurs = [];
  const rankNaive = [];
  const rankHourly = [];
  const history = [];
  for (let run = 0; run < runs; run++) {
    rankOurs.push(await measureRank(env.DB, "ours", now));
    rankNaive.push(await measureRank(env.DB, "naive", now));
    rankHourly.push(await measureRank(env.DB, "hourly", now));
    history.push(await measureHistory(env.DB, "p17", now));
  }
  progress("reads done");

  const strip = <T extends { rows?: unknown }>(runs: T[]) => runs.map(({ rows, ...rest }) => rest);
  console.log(
    `BENCH_RESULT ${JSON.stringify({
      scale: { metrics, minutes, points, runs },
      initialFold,
      ticks: ticks.slice(1), // the first tick creates the volume metrics
      firstTick: ticks[0],
      fold,
      purge,
      rank: { ours: strip(rankOurs), naive: strip(rankNaive), hourly: strip(rankHourly) },
      rankRows: { ours: rankOurs[0]!.rows, naive: rankNaive[0]!.rows, hourly: rankHourly[0]!.rows },
      history,
    })}`,
  );
});
