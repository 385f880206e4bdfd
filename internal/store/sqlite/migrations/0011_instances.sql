-- The registry of the server processes sharing the file (see Heartbeat
-- in instances.go): one row per live process, with the time (Unix
-- milliseconds of its wall clock) until which its last heartbeat vouches
-- for it. Each heartbeat deletes the rows that expired, so the table
-- holds the live processes and those dead for less than a ttl.

-- +goose Up
CREATE TABLE instances (
    id      TEXT    NOT NULL PRIMARY KEY,
    expires INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE instances;
