-- Storage that costs what it stores (README, "How storage stays cheap").
--
-- Values: one row per metric type, block of BLOCK_SLOTS (48) metrics and minute,
-- the block's values of that minute as a JSON array (slot -> value or null).
-- A tick writes one row per block; the purge deletes one per block.
CREATE TABLE frames (
  metric_type TEXT NOT NULL,
  block INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  v TEXT NOT NULL,
  PRIMARY KEY (metric_type, block, ts)
) STRICT, WITHOUT ROWID;

-- Rank sums: one row per metric type and part of PART_SLOTS (512) metrics.
-- data is a JSON array with one entry per slot: [symbol, n, s1, s2, K, e],
-- where n, s1 = sum(x - K), s2 = sum((x - K)^2) cover exactly the stored
-- values with tracker_state.lo < ts <= hi, and e is the value at lo + 1 minute
-- (the next to leave the window); latest is [symbol, ts, value] of each slot's
-- newest stored value (for /latest, the metric list, one metric: a smaller
-- document to read). src/storage/ledger.ts owns both.
CREATE TABLE sums (
  metric_type TEXT NOT NULL,
  part INTEGER NOT NULL,
  data TEXT NOT NULL,
  latest TEXT NOT NULL,
  PRIMARY KEY (metric_type, part)
) STRICT, WITHOUT ROWID;

-- The minute a scheduled run claimed for reading the upstreams, until when:
-- overlapping runs of one minute fetch once; a crashed run's claim expires.
CREATE TABLE tick_lease (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  ts INTEGER,
  expires INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO tick_lease (id) VALUES (1);

-- A metric's place: block = slot / BLOCK_SLOTS, part = slot / PART_SLOTS.
ALTER TABLE metrics ADD COLUMN slot INTEGER;
UPDATE metrics SET slot = r.slot
FROM (SELECT id, row_number() OVER (PARTITION BY metric_type ORDER BY id) - 1 AS slot FROM metrics) r
WHERE metrics.id = r.id;
CREATE UNIQUE INDEX metrics_by_slot ON metrics (metric_type, slot);

-- The existing metrics keep their shift K; their sums start empty and are
-- filled as the points are converted (the scheduled handler, in chunks). Each
-- part's arrays are built slot by slot (json_insert '$[#]' appends), so their
-- order never depends on how an aggregate visits rows.
WITH RECURSIVE build (metric_type, part, slot, data, latest) AS (
  SELECT metric_type, slot / 512, slot, json_array(json_array(symbol, 0, 0.0, 0.0, shift, NULL)), json_array(json_array(symbol, NULL, NULL))
  FROM metrics WHERE slot % 512 = 0
  UNION ALL
  SELECT b.metric_type, b.part, m.slot,
         json_insert(b.data, '$[#]', json_array(m.symbol, 0, 0.0, 0.0, m.shift, NULL)),
         json_insert(b.latest, '$[#]', json_array(m.symbol, NULL, NULL))
  FROM build b JOIN metrics m ON m.metric_type = b.metric_type AND m.slot = b.slot + 1 AND m.slot % 512 != 0
)
INSERT INTO sums (metric_type, part, data, latest)
SELECT metric_type, part, data, latest FROM build b
WHERE NOT EXISTS (SELECT 1 FROM metrics m WHERE m.metric_type = b.metric_type AND m.slot = b.slot + 1 AND m.slot % 512 != 0);
ALTER TABLE metrics DROP COLUMN shift;
ALTER TABLE metrics DROP COLUMN n;
ALTER TABLE metrics DROP COLUMN s1;
ALTER TABLE metrics DROP COLUMN s2;

-- ledger: bumped by every write of the sums; a batch planned from an older
-- ledger fails as a whole (NOT NULL), so concurrent writers never mix.
-- purged_until: every frame with ts <= it is deleted.
-- convert_until: points (the old layout) with ts <= it are still to convert.
ALTER TABLE tracker_state ADD COLUMN ledger INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracker_state ADD COLUMN purged_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tracker_state ADD COLUMN convert_until INTEGER;
UPDATE tracker_state SET
  lo = coalesce(last_tick, 0),
  hi = coalesce(last_tick, 0),
  convert_until = CASE WHEN EXISTS (SELECT 1 FROM points) THEN last_tick END;
