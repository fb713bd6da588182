/**
 * The alert queues' consumer: tick parts are judged by the AlertWindow of
 * their metric type, new alerts stored in D1 and handed to the delivery queue.
 * Queues named `*-dlq` are dead-letter queues: what reaches them has exhausted
 * its retries.
 */
import { loadAlertConfig } from "../config";
import type { TrackerEnv } from "../domain/env";
import { errorText } from "../lib/errors";
import { DAY_MS, iso } from "../lib/time";
import { purgeAlerts, storeAlerts } from "../storage/alerts";
import { deliverAlerts, markUndelivered, retryDelaySeconds } from "./delivery";
import type { AlertMessage, DeliveryMessage, TickPart } from "./messages";

/** Alerts are kept for 30 days. */
export const ALERT_RETENTION_MS = 30 * DAY_MS;

export async function handleQueue(batch: MessageBatch<AlertMessage>, env: TrackerEnv): Promise<void> {
  const kind = batch.messages[0]?.body.kind;
  const dead = batch.queue.endsWith("-dlq");
  if (kind === "tick" && !dead) return evaluateTicks(batch as MessageBatch<TickPart>, env);
  if (kind === "delivery" && !dead) return deliverAlerts(batch as MessageBatch<DeliveryMessage>, env);
  if (kind === "delivery") return markUndelivered(batch as MessageBatch<DeliveryMessage>, env);
  for (const message of batch.messages) {
    console.error({ msg: "alert message dropped after retries", queue: batch.queue, body: summary(message.body) });
  }
}

export async function evaluateTicks(batch: MessageBatch<TickPart>, env: TrackerEnv): Promise<void> {
  const config = loadAlertConfig(env);
  // Oldest first, so that within a batch the earliest jump is the one the cooldown keeps.
  const messages = [...batch.messages].sort((a, b) => a.body.ts - b.body.ts || a.body.part - b.body.part);
  let newest = 0;
  for (const message of messages) {
    const part = message.body;
    try {
      const window = env.ALERT_WINDOW.get(env.ALERT_WINDOW.idFromName(part.metric_type));
      const evaluation = await window.evaluate(part, config.settings);
      if (evaluation.status === "too_late") {
        console.warn({ msg: "tick part too late to judge: its hour is no longer kept", ...summary(part), newest: iso(evaluation.newest) });
        message.ack();
        continue;
      }
      const state = config.webhook ? "pending" : "not_configured";
      const pending = await storeAlerts(env.DB, evaluation.candidates, Date.now(), state);
      if (pending.length > 0) {
        await env.ALERT_DELIVERIES.sendBatch(pending.map((id) => ({ body: { kind: "delivery", alert_id: id } satisfies DeliveryMessage })));
      }
      console.log({ msg: "tick part judged", ...summary(part), alerts: evaluation.candidates.length, queued: pending.length });
      newest = Math.max(newest, part.ts);
      message.ack();
    } catch (err) {
      console.error({ msg: "tick part judgement failed; will retry", ...summary(part), error: errorText(err) });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
  if (newest > 0) {
    await purgeAlerts(env.DB, newest - ALERT_RETENTION_MS).catch((err) =>
      console.error({ msg: "alert purge failed", error: errorText(err) }),
    );
  }
}

function summary(body: AlertMessage) {
  return body.kind === "tick"
    ? { tick: iso(body.ts), metric_type: body.metric_type, part: `${body.part + 1}/${body.parts}`, points: body.symbols.length }
    : { alert_id: body.alert_id };
}
