-- The per-market breakdown of the latest tick (src/ingest/breakdown.ts): one
-- row per source, replaced by every tick in the tick's own transaction, so a
-- breakdown always describes stored points. `tick` is the tick it describes:
-- a source that failed later keeps its older row, which readers skip.
CREATE TABLE market_breakdowns (
  source TEXT PRIMARY KEY,
  tick INTEGER NOT NULL,
  data TEXT NOT NULL
) STRICT, WITHOUT ROWID;
