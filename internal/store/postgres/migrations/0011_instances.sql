-- The registry of the server processes sharing the database (see
-- Heartbeat in instances.go): one row per live process, with the time
-- (Unix milliseconds of its wall clock) until which its last heartbeat
-- vouches for it. Each heartbeat deletes the rows that expired, so the
-- table holds the live processes and those dead for less than a ttl.
--
-- UNLOGGED: a heartbeat writes no WAL, and the rows are not worth keeping
-- across a crash of the server (it empties the table; every live process
-- puts its row back at its next heartbeat).

-- +goose Up
CREATE UNLOGGED TABLE instances (
    id      text   COLLATE "C" NOT NULL PRIMARY KEY,
    expires bigint NOT NULL
);

-- +goose Down
DROP TABLE instances;
