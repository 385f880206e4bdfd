-- Each cluster's checkpoint schedule (backup.CheckpointSchedule): who
-- takes its checkpoints ('' means AGENT), the interval in minutes (0:
-- checkpoints off) and the point-in-time window in hours (0: the
-- default). The partial index is what the engine reads to find the
-- clusters it takes checkpoints of.

-- +goose Up
ALTER TABLE clusters ADD COLUMN ckpt_driver text NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN ckpt_interval_min integer NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN pit_window_hours integer NOT NULL DEFAULT 0;
CREATE INDEX clusters_scheduled ON clusters (id) WHERE ckpt_driver = 'SIMULATED' AND ckpt_interval_min > 0;

-- +goose Down
DROP INDEX clusters_scheduled;
ALTER TABLE clusters DROP COLUMN pit_window_hours;
ALTER TABLE clusters DROP COLUMN ckpt_interval_min;
ALTER TABLE clusters DROP COLUMN ckpt_driver;
