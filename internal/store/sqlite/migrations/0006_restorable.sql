-- A cluster's newest restorable checkpoint (NewestRestorable, in
-- restorable.go), read on every metrics scrape of every server: with this
-- partial index it is one seek per cluster, max(ts) at the end of the
-- cluster's range, however many of the newest checkpoints are not
-- restorable. Without it the read would walk the primary key back from
-- the newest checkpoint, as far as a run of unrestorable ones goes: the
-- very case the age is watched for.

-- +goose Up
CREATE INDEX checkpoints_restorable ON checkpoints (cluster, ts) WHERE restorable = 1;

-- +goose Down
DROP INDEX checkpoints_restorable;
