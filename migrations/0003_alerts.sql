-- Alerts raised by the alert queue consumer (src/alerts/), one per metric and
-- tick: the unique key makes a redelivered or late message insert nothing.
-- Timestamps are integer epoch milliseconds. delivery_state: pending (queued
-- for the webhook), delivered, failed (retries exhausted, seen on the dead-letter
-- queue), not_configured (no ALERT_WEBHOOK_URL when raised).
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  metric_type TEXT NOT NULL,
  symbol TEXT NOT NULL,
  tick_ts INTEGER NOT NULL,
  value REAL NOT NULL,
  average REAL NOT NULL,
  threshold REAL NOT NULL,
  points INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  delivery_state TEXT NOT NULL CHECK (delivery_state IN ('pending', 'delivered', 'failed', 'not_configured')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  delivered_at INTEGER,
  UNIQUE (metric_type, symbol, tick_ts)
) STRICT;

-- Serves GET /alerts newest first without a filter, and the retention purge.
CREATE INDEX alerts_by_tick ON alerts (tick_ts);
