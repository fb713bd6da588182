declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
declare namespace Cloudflare {
  interface Env {
    /** Only in `npm run bench`: {"metrics", "minutes", "runs"}. */
    BENCH_OPTIONS: string;
    /** Only in `npm run bench`: today's design before issue 10, the comparison arm. */
    BASELINE: D1Database;
    /** Only in `npm run bench`: our layout ticked with the candle step off (issue 18). */
    PLAIN: D1Database;
    /** Only in `npm run bench`: a month of candles written in the stored layout, and the naive arm's table (issue 18). */
    CANDLES: D1Database;
  }
}
declare namespace Cloudflare {
  interface Env {
    /** vitest.config.ts binds each registered source's base URL var to https://<name>.test. */
    [urlVar: `${string}_API_URL`]: string;
  }
}
