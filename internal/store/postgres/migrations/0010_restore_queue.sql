-- The jobs still to carry out, read by the engine on every tick
-- (FinishDueRestoreJobs: simulated jobs by due time) and by agents
-- polling for work (ClaimRestoreJob: a cluster's open agent jobs): partial
-- indexes, so both reads stay seeks however many jobs have finished.

-- +goose Up
CREATE INDEX restore_jobs_due ON restore_jobs (due) WHERE status = 'IN_PROGRESS' AND driver = 'SIMULATED';
CREATE INDEX restore_jobs_open ON restore_jobs (cluster, id) WHERE status = 'IN_PROGRESS' AND driver = 'AGENT';

-- +goose Down
DROP INDEX restore_jobs_open;
DROP INDEX restore_jobs_due;
