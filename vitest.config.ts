import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { readdirSync } from "node:fs";

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
                // Unit tests of the core read Cryptowatch; tests of the exchange sources
                // select theirs. Each source's base URL var is https://<name>.test, for each
                // folder of test/fixtures/ (sources.test.ts fails a registered source without
                // one; test/unit/exchanges.ts plays them). Tests intercept fetch: never reached.
                SOURCES: "cryptowatch",
                ...Object.fromEntries(
                  readdirSync("./test/fixtures", { withFileTypes: true })
                    .filter((entry) => entry.isDirectory())
                    .map(({ name }) => [`${name.toUpperCase()}_API_URL`, `https://${name}.test`]),
                ),
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
