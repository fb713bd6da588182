-- Core schema of the tracker. Timestamps are integer epoch milliseconds.

-- One row per metric (metric_type + symbol). Besides naming the metric, the row
-- carries the folded window aggregate used by rank: with K = shift,
--   n = count, s1 = sum(value - K), s2 = sum((value - K)^2)
-- over this metric's points with tracker_state.lo < ts <= tracker_state.hi.
-- Shifting by a value close to the mean keeps s2 - s1^2/n numerically stable.
CREATE TABLE metrics (
  id INTEGER PRIMARY KEY,
  metric_type TEXT NOT NULL,
  symbol TEXT NOT NULL,
  shift REAL NOT NULL,
  n INTEGER NOT NULL DEFAULT 0,
  s1 REAL NOT NULL DEFAULT 0,
  s2 REAL NOT NULL DEFAULT 0,
  UNIQUE (metric_type, symbol)
) STRICT;

-- One row per metric and minute. The primary key serves history (one metric,
-- a time range), rank's corrections (per-metric ranges) and the purge (per-metric
-- ranges below a cut-off), so the table needs no secondary index: one row
-- written per point. metric_id deliberately has no REFERENCES clause: with
-- D1's foreign keys on, every insert and delete of a point would also read the
-- parent row. Only the tick inserts points (joined to metrics) and a metric is
-- deleted only once it has no point.
CREATE TABLE points (
  metric_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (metric_id, ts)
) STRICT, WITHOUT ROWID;

-- One row per stored tick; its primary key makes a re-run of the same minute
-- fail inside the tick's transaction, so nothing is written twice.
CREATE TABLE ticks (
  ts INTEGER PRIMARY KEY,
  stored_at INTEGER NOT NULL,
  markets INTEGER NOT NULL,
  points INTEGER NOT NULL
) STRICT;

-- A single row: the bounds of the folded aggregates in metrics (lo, hi], and
-- what the API needs on every request: the latest tick and a version that every
-- stored tick bumps (ETags derive from it).
CREATE TABLE tracker_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  lo INTEGER NOT NULL DEFAULT 0,
  hi INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL DEFAULT 0,
  last_tick INTEGER,
  last_tick_stored_at INTEGER
) STRICT;
INSERT INTO tracker_state (id) VALUES (1);

-- What a source's metadata endpoint said (for Cryptowatch: /pairs), kept as one
-- JSON document per source so that a tick reads it as a single row.
CREATE TABLE source_catalogs (
  source TEXT PRIMARY KEY,
  fetched_at INTEGER NOT NULL,
  catalog TEXT NOT NULL
) STRICT;
