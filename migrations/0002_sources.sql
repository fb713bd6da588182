-- The health of each source: what it gave at the latest tick that read it, and
-- when it last succeeded and last failed. Every tick upserts all of its
-- sources' rows in one statement; the table holds one row per source, keyed by
-- its name (WITHOUT ROWID: one row written per source, no separate index).
CREATE TABLE source_status (
  source TEXT PRIMARY KEY,
  -- The tick (scheduled minute, epoch ms) of this reading.
  tick INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
  markets INTEGER NOT NULL,
  -- JSON object: reason -> number of markets dropped at this tick.
  dropped TEXT NOT NULL,
  latency_ms INTEGER NOT NULL,
  error TEXT,
  last_success INTEGER,
  last_error INTEGER,
  last_error_message TEXT
) STRICT, WITHOUT ROWID;
