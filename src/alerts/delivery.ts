/**
 * Webhook delivery of stored alerts: POST of a JSON body, signed with
 * HMAC-SHA256 under ALERT_WEBHOOK_SECRET. X-Signature is `sha256=` followed
 * by the lower-case hex HMAC of the exact body bytes. A failure (non-2xx,
 * network error, timeout) is retried through the queue with exponential
 * backoff; when the queue gives up, the dead-letter consumer marks the alert failed.
 */
import { loadAlertConfig, type AlertConfig } from "../config";
import { alertFacts, type AlertRow } from "../domain/alert";
import { secretValues, type TrackerEnv } from "../domain/env";
import { errorText } from "../lib/errors";
import { publicText } from "../lib/redact";
import { alertById, markAttemptFailed, markDelivered, markFailed, markNotConfigured } from "../storage/alerts";
import type { DeliveryMessage } from "./messages";

type Webhook = NonNullable<AlertConfig["webhook"]>;

/** Seconds before retry n+1 of a message on its n-th attempt: 10, 20, 40... up to 10 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(600, 10 * 2 ** Math.max(0, attempts - 1));
}

/** What the webhook receives. */
export function alertBody(alert: AlertRow): string {
  const facts = alertFacts(alert);
  return JSON.stringify({
    ...facts,
    message: `${facts.metric_type} of ${facts.symbol} is ${facts.value} at ${facts.time}, above its threshold ${facts.threshold} (last-hour average ${facts.average} over ${facts.points} points)`,
  });
}

/** `sha256=` + hex(HMAC-SHA256(secret, body)). */
export async function signature(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return `sha256=${Array.from(mac, (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

/** One POST; resolves to an error text when it did not succeed. */
export async function post(webhook: Webhook, alert: AlertRow): Promise<string | undefined> {
  const body = alertBody(alert);
  const headers: Record<string, string> = { "content-type": "application/json", "x-alert-id": String(alert.id) };
  if (webhook.secret) headers["x-signature"] = await signature(webhook.secret, body);
  try {
    const response = await fetch(webhook.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(webhook.timeoutMs),
    });
    await response.body?.cancel();
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (err) {
    return err instanceof DOMException && err.name === "TimeoutError" ? `timed out after ${webhook.timeoutMs} ms` : errorText(err);
  }
}

export async function deliverAlerts(batch: MessageBatch<DeliveryMessage>, env: TrackerEnv): Promise<void> {
  const { webhook } = loadAlertConfig(env);
  // A network error can quote the webhook URL, which is a secret (it often carries a token).
  const secrets = secretValues(env);
  await Promise.all(
    batch.messages.map(async (message) => {
      const id = message.body.alert_id;
      try {
        const alert = await alertById(env.DB, id);
        if (!alert || alert.delivery_state !== "pending") return message.ack();
        if (!webhook) {
          await markNotConfigured(env.DB, id);
          return message.ack();
        }
        const failure = await post(webhook, alert);
        const error = failure === undefined ? undefined : publicText(failure, secrets);
        if (error === undefined) {
          await markDelivered(env.DB, id, Date.now());
          console.log({ msg: "alert delivered", alert_id: id, attempt: message.attempts });
          return message.ack();
        }
        await markAttemptFailed(env.DB, id, error);
        const delaySeconds = retryDelaySeconds(message.attempts);
        console.warn({ msg: "alert delivery failed; will retry", alert_id: id, attempt: message.attempts, error, retry_in_s: delaySeconds });
        message.retry({ delaySeconds });
      } catch (err) {
        console.error({ msg: "alert delivery errored; will retry", alert_id: id, error: publicText(errorText(err), secrets) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}

/** The delivery queue gave up on these: the alerts become failed, never silently lost. */
export async function markUndelivered(batch: MessageBatch<DeliveryMessage>, env: TrackerEnv): Promise<void> {
  for (const message of batch.messages) {
    const id = message.body.alert_id;
    const changed = await markFailed(env.DB, id, "delivery retries exhausted");
    console.error({ msg: "alert delivery failed for good", alert_id: id, marked_failed: changed });
    message.ack();
  }
}
