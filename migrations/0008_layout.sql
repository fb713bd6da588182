-- The stored layout (src/storage/layout.ts, layout.json), recorded with the
-- data it describes: every read of tracker_state checks these against the
-- code's and refuses a database written with another layout, instead of
-- misreading its frames and sums. Layout 1 is that of migrations 0005 and 0007:
-- 48 slots a block (a frames row, a day_steps row), 512 a part (a sums row),
-- sums.data entries [symbol, n, s1, s2, K, e], sums.latest entries
-- [symbol, ts, value] then [first ts, first, min, max] while the 24 h figures
-- are exact, sums.day entries [front figures, [[segment, figures], ...]].
-- A new layout is a new version and a migration that rewrites the stored rows.
ALTER TABLE tracker_state ADD COLUMN layout_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tracker_state ADD COLUMN block_slots INTEGER NOT NULL DEFAULT 48;
ALTER TABLE tracker_state ADD COLUMN part_slots INTEGER NOT NULL DEFAULT 512;
