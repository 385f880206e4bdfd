-- The Digest replay memory the server processes share while there are
-- several of them (see UseNonce in instances.go): one row per nonce count
-- used with a nonce, kept until the nonce goes stale. A second use of
-- the same count, through any process, finds the row and is refused.
-- Heartbeats delete the expired rows through the expires index.
--
-- UNLOGGED: the row is written on every Digest request of a deployment of
-- several processes, and a logged table would make each of them wait for
-- a WAL flush. The price is that a crash of the database server (or a
-- failover: unlogged tables are not replicated) empties the table, so a
-- request captured in the minute before could be replayed once after it.

-- +goose Up
CREATE UNLOGGED TABLE digest_nonces (
    nonce   bytea  NOT NULL,
    nc      bigint NOT NULL,
    expires bigint NOT NULL,
    CONSTRAINT digest_nonces_pkey PRIMARY KEY (nonce, nc)
);

CREATE INDEX digest_nonces_expires ON digest_nonces (expires);

-- +goose Down
DROP TABLE digest_nonces;
