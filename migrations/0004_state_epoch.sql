-- A random name for this database's data, part of every ETag and edge-cache
-- key: should the version counter ever repeat (a restore from Time Travel, a
-- database recreated under the same Worker), old cached answers cannot match.
ALTER TABLE tracker_state ADD COLUMN epoch TEXT NOT NULL DEFAULT '';
UPDATE tracker_state SET epoch = lower(hex(randomblob(8)));
