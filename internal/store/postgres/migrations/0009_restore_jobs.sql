-- Restore jobs that target a checkpoint: one row per part of the
-- checkpoint's cluster, the rows of one request sharing batch_id. A job
-- keeps what it restores (the part and the oplog timestamp to replay up
-- to, token_ts:token_inc) rather than a reference into the checkpoint,
-- which retention may prune while the job is read. Times are Unix
-- seconds; due, claimed and finished are 0 until they apply.

-- +goose Up
CREATE TABLE restore_jobs (
    id                  text COLLATE "C" NOT NULL PRIMARY KEY CHECK (length(id) = 24),
    cluster             bigint NOT NULL REFERENCES clusters (pk),
    batch_id            text COLLATE "C" NOT NULL CHECK (length(batch_id) = 24),
    checkpoint_id       text NOT NULL CHECK (length(checkpoint_id) = 24),
    created             bigint NOT NULL,
    part_type           text NOT NULL,
    shard_name          text NOT NULL,
    replica_set_name    text NOT NULL,
    host_id             text NOT NULL,
    token_ts            bigint NOT NULL,
    token_inc           bigint NOT NULL,
    target_group_id     text NOT NULL,
    target_cluster_id   text NOT NULL,
    target_cluster_name text NOT NULL,
    driver              text NOT NULL,
    status              text NOT NULL,
    due                 bigint NOT NULL,
    owner               text NOT NULL,
    finished            bigint NOT NULL
);

-- A cluster's jobs in id order, and a batch's.
CREATE INDEX restore_jobs_cluster ON restore_jobs (cluster, id);
CREATE INDEX restore_jobs_batch ON restore_jobs (cluster, batch_id, id);

-- +goose Down
DROP TABLE restore_jobs;
