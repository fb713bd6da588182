import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// `npm run bench` runs this (through scripts/bench/run.mjs), not `npm test`.
export default defineConfig({
  plugins: [
    cloudflareTest(async () => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          BENCH_OPTIONS: process.env.BENCH_OPTIONS ?? '{"metrics":2000,"minutes":1440,"runs":7,"naiveRuns":3}',
        },
        // Today's design (the comparison arm), on its own database.
        // The candles' figures: the same seed ticked without the candle step (PLAIN), and a month of candles (CANDLES).
        d1Databases: { BASELINE: "bench-baseline", PLAIN: "bench-plain", CANDLES: "bench-candles" },
      },
    })),
  ],
  test: {
    include: ["scripts/bench/d1.bench.ts"],
    setupFiles: ["./test/unit/apply-migrations.ts"],
    testTimeout: 3_600_000,
  },
});
