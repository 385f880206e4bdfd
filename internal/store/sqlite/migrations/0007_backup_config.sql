-- Each cluster's backup state (backup.BackupStatus, Cloud Manager's
-- backup configuration statusName; '' means the default: STARTED under
-- legacy backup, INACTIVE otherwise) and the rest of its legacy snapshot
-- schedule (backup.SnapshotSchedule) as JSON ('' means the defaults).

-- +goose Up
ALTER TABLE clusters ADD COLUMN backup_status TEXT NOT NULL DEFAULT '';
ALTER TABLE clusters ADD COLUMN snapshot_schedule TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clusters DROP COLUMN snapshot_schedule;
ALTER TABLE clusters DROP COLUMN backup_status;
