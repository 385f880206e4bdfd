-- Each cluster's recovery point objective in minutes
-- (backup.CheckpointSchedule.Objective); 0 when it declares none.

-- +goose Up
ALTER TABLE clusters ADD COLUMN rpo_min integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE clusters DROP COLUMN rpo_min;
