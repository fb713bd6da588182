import { handleQueue } from "./alerts/consumer";
import type { AlertMessage } from "./alerts/messages";
import { handleFetch } from "./api/router";
import type { TrackerEnv } from "./domain/env";
import { runScheduled } from "./ingest/tick";

export { AlertWindow } from "./alerts/window";

export default {
  fetch: handleFetch,
  async scheduled(controller, env, _ctx) {
    await runScheduled(env, controller.scheduledTime);
  },
  async queue(batch, env, _ctx) {
    await handleQueue(batch, env);
  },
} satisfies ExportedHandler<TrackerEnv, AlertMessage>;
