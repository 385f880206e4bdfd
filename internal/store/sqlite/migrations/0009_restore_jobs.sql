-- Restore jobs that target a checkpoint: one row per part of the
-- checkpoint's cluster, the rows of one request sharing batch_id. A job
-- keeps what it restores (the part and the oplog timestamp to replay up
-- to, token_ts:token_inc) rather than a reference into the checkpoint,
-- which retention may prune while the job is read. Times are Unix
-- seconds; due, claimed and finished are 0 until they apply.

-- +goose Up
CREATE TABLE restore_jobs (
    id                  TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 24),
    cluster             INTEGER NOT NULL REFERENCES clusters (pk),
    batch_id            TEXT    NOT NULL CHECK (length(batch_id) = 24),
    checkpoint_id       TEXT    NOT NULL CHECK (length(checkpoint_id) = 24),
    created             INTEGER NOT NULL,
    part_type           TEXT    NOT NULL,
    shard_name          TEXT    NOT NULL,
    replica_set_name    TEXT    NOT NULL,
    host_id             TEXT    NOT NULL,
    token_ts            INTEGER NOT NULL,
    token_inc           INTEGER NOT NULL,
    target_group_id     TEXT    NOT NULL,
    target_cluster_id   TEXT    NOT NULL,
    target_cluster_name TEXT    NOT NULL,
    driver              TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    due                 INTEGER NOT NULL,
    owner               TEXT    NOT NULL,
    finished            INTEGER NOT NULL
) WITHOUT ROWID;

-- A cluster's jobs in id order, and a batch's.
CREATE INDEX restore_jobs_cluster ON restore_jobs (cluster, id);
CREATE INDEX restore_jobs_batch ON restore_jobs (cluster, batch_id, id);

-- +goose Down
DROP TABLE restore_jobs;
