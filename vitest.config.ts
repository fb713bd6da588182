import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // The tracker logs a structured line per tick; show logs of failing tests only.
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
                // Unit tests of the core read Cryptowatch; tests of the exchange
                // sources select theirs. Tests intercept fetch; these hosts are never reached.
                SOURCES: "cryptowatch",
                CRYPTOWATCH_API_URL: "https://cryptowatch.test",
                KRAKEN_API_URL: "https://kraken.test",
                COINBASE_API_URL: "https://coinbase.test",
                BITSTAMP_API_URL: "https://bitstamp.test",
                OKX_API_URL: "https://okx.test",
                KUCOIN_API_URL: "https://kucoin.test",
                BITFINEX_API_URL: "https://bitfinex.test",
                BINANCE_API_URL: "https://binance.test",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          include: ["test/unit/**/*.test.ts"],
          setupFiles: ["./test/unit/apply-migrations.ts"],
          // Tests assert what happens, never how fast: a generous ceiling only
          // catches a hang, and holds on a busy 2-core machine.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
