-- Data planes that dial out: each execution carries the execution cluster
-- label admin gave it (empty: any data plane may run it) and the cluster of
-- the propeller that claimed it. Same statements in migrations/sqlite and
-- migrations/postgres.
ALTER TABLE executions ADD COLUMN cluster_label TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN cluster TEXT NOT NULL DEFAULT '';

-- A claim looks for the oldest claimable execution of each label the
-- propeller serves (and of none), one index range each. The predicate must
-- match the claim query's so both databases use this small index.
DROP INDEX executions_claimable;
CREATE INDEX executions_claimable ON executions (cluster_label, created_at) WHERE phase IN (0, 1, 2, 3, 5, 9);

-- The propellers admin has heard from, so it can tell a label that no live
-- data plane serves. A propeller is live until `live_until`, which every
-- claim and lease renewal moves on. `labels` is a JSON array of strings.
CREATE TABLE propellers (
    propeller_id TEXT PRIMARY KEY NOT NULL,
    cluster      TEXT NOT NULL,
    labels       TEXT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    live_until   BIGINT NOT NULL
);
CREATE INDEX propellers_by_live_until ON propellers (live_until);
