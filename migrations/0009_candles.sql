-- Candles (src/storage/candles.ts, docs/candles.md): one summary per UTC hour
-- and per UTC day of every metric's minute values, kept after the minutes
-- leave (hourly for HOURLY_CANDLE_DAYS, daily for DAILY_CANDLE_DAYS).
--
-- One row per metric type, interval length (span, ms: 3600000 or 86400000),
-- block of 48 slots and interval start ts; c is a JSON array by slot in the
-- block: null (no value in the interval) or
--   [symbol, open, high, low, close, n, mean, m2]
-- where m2 = sum((x - mean)^2) over the interval's n values (exact to combine:
-- Chan's formula). The symbol names the metric: a slot freed by a forgotten
-- metric and taken by another never mixes their candles.
CREATE TABLE candles (
  metric_type TEXT NOT NULL,
  span INTEGER NOT NULL CHECK (span IN (3600000, 86400000)),
  block INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  c TEXT NOT NULL,
  PRIMARY KEY (metric_type, span, block, ts)
) STRICT, WITHOUT ROWID;

-- Per sums row (part of 512 slots), rewritten by the ledger with the rest:
-- hour: per slot null or [open, high, low, close, n, mean, m2, open ts, close ts]
--   of its stored values with tracker_state.hour_ts <= ts < hour_ts + 1 h;
-- windows: per slot null or [[n, mean, m2] of 7 d, [n, mean, m2] of 30 d], the
--   stored values of the closed hours [candles_until - 168 h, candles_until)
--   and [candles_until - 720 h, candles_until).
-- variances: per slot null or [symbol, variance of 7 d, of 30 d] (null where
--   the window holds no value): the windows with the open hour, as the ranking
--   reads them (one small document per 512 metrics, nothing to combine).
ALTER TABLE sums ADD COLUMN hour TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sums ADD COLUMN windows TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sums ADD COLUMN variances TEXT NOT NULL DEFAULT '[]';

-- hour_ts: the hour sums.hour describes (NULL: none yet).
-- candles_until: every hour before it that had stored values has its hourly
--   candle (NULL: not started; the roll-up starts at the oldest stored tick's
--   hour, so an upgraded tracker gets the candles of the day it holds).
-- days_until: every day before it has its daily candle (from the hourly ones).
-- windows_block: the next block whose sums.windows the roll-up recomputes
--   exactly from the candles (round robin).
ALTER TABLE tracker_state ADD COLUMN hour_ts INTEGER;
ALTER TABLE tracker_state ADD COLUMN candles_until INTEGER;
ALTER TABLE tracker_state ADD COLUMN days_until INTEGER;
ALTER TABLE tracker_state ADD COLUMN windows_block INTEGER NOT NULL DEFAULT 0;

-- Layout 2: layout 1 plus the candles and the sums columns above.
UPDATE tracker_state SET layout_version = 2;
