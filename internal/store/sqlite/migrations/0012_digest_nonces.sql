-- The Digest replay memory the server processes share while there are
-- several of them on one file (see UseNonce in instances.go): one row per
-- nonce count used with a nonce, kept until the nonce goes stale. A
-- second use of the same count, through any process, finds the row and
-- is refused. Heartbeats delete the expired rows through the expires
-- index. A server alone on its file never writes here.

-- +goose Up
CREATE TABLE digest_nonces (
    nonce   BLOB    NOT NULL,
    nc      INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (nonce, nc)
) WITHOUT ROWID;

CREATE INDEX digest_nonces_expires ON digest_nonces (expires);

-- +goose Down
DROP TABLE digest_nonces;
