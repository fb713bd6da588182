-- The 24 h figures of every metric (src/storage/day.ts): the oldest value in
-- the window, the lowest and the highest, exact for (lo, hi].
--
-- Suffix rows: per metric type, block of 48 metrics and 10-minute step s of a
-- 12 h segment (C - 12 h, C], each slot's [first ts, first value, min, max] of
-- the stored values with s < ts <= C. ring = (s / 10 min) mod 144: a day of
-- steps reuses the same rows (upserts, never deletes); ts says which step a
-- row holds now.
CREATE TABLE day_steps (
  metric_type TEXT NOT NULL,
  block INTEGER NOT NULL,
  ring INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  v TEXT NOT NULL,
  PRIMARY KEY (metric_type, block, ring)
) STRICT, WITHOUT ROWID;

-- Per slot of a sums row: [front figures, [[segment, figures], ...]].
ALTER TABLE sums ADD COLUMN day TEXT NOT NULL DEFAULT '[]';

-- The figures' state; stale until the first scheduled run rebuilds them from the frames.
ALTER TABLE tracker_state ADD COLUMN day TEXT NOT NULL DEFAULT '{"ok":false}';
