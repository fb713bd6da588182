import { handleFetch } from "./api/router";
import type { TrackerEnv } from "./config";
import { runScheduled } from "./ingest/tick";

export default {
  fetch: handleFetch,
  async scheduled(controller, env, _ctx) {
    await runScheduled(env, controller.scheduledTime);
  },
} satisfies ExportedHandler<TrackerEnv>;
