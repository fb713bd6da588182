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
  }
}
declare namespace Cloudflare {
  interface Env {
    /** vitest.config.ts binds each registered source's base URL var to https://<name>.test. */
    [urlVar: `${string}_API_URL`]: string;
  }
}
