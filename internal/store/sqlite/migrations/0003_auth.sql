-- Credentials: API keys (HTTP Digest), service accounts (OAuth 2.0 client
-- credentials) and their secrets, revoked access tokens, and secrets the
-- server itself shares between processes (e.g. the token signing key).
--
-- Grants and access lists are JSON, in shapes with their own lowercase
-- names (see auth.go): a principal is read whole, once per cache miss,
-- and never queried by them; the one write that looks inside grants,
-- deleting a project, is rare and touches the few rows that name it.
--
--   grants       [{"role":"ORG_READ_ONLY"},{"role":"GROUP_READ_ONLY","groupId":"<24 hex>"}]
--   access_list  ["10.0.0.0/8","192.0.2.1/32"]

-- +goose Up
-- Only the HA1s of a key's private key are kept: they are what HTTP Digest
-- needs, and the private key cannot be recovered from them.
CREATE TABLE api_keys (
    id          TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 24),
    org_id      TEXT    NOT NULL REFERENCES organizations (id),
    public_key  TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL,
    ha1_md5     TEXT    NOT NULL,
    ha1_sha256  TEXT    NOT NULL,
    grants      TEXT    NOT NULL,
    access_list TEXT    NOT NULL,
    created     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX api_keys_org ON api_keys (org_id);

CREATE TABLE service_accounts (
    client_id   TEXT    NOT NULL PRIMARY KEY,
    org_id      TEXT    NOT NULL REFERENCES organizations (id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    grants      TEXT    NOT NULL,
    access_list TEXT    NOT NULL,
    created     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX service_accounts_org ON service_accounts (org_id);

-- Secrets are argon2id hashes (PHC strings). The store deletes them with
-- their account itself; the cascade covers any other writer that has
-- foreign keys on.
CREATE TABLE service_account_secrets (
    id        TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 24),
    client_id TEXT    NOT NULL REFERENCES service_accounts (client_id) ON DELETE CASCADE,
    hash      TEXT    NOT NULL,
    created   INTEGER NOT NULL,
    expires   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX service_account_secrets_client ON service_account_secrets (client_id, created);

-- A revocation need only outlive its token: every revoke deletes the rows
-- whose expiry has passed, through the expires index, so the table holds
-- the tokens revoked within one token lifetime. IsRevoked is one seek of
-- the primary key, which WITHOUT ROWID makes the row itself.
CREATE TABLE revoked_tokens (
    jti     TEXT    NOT NULL PRIMARY KEY,
    expires INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires);

-- Secrets the server makes for itself and that every process sharing the
-- file must agree on: the first writer's value stays.
CREATE TABLE shared_secrets (
    name    TEXT    NOT NULL PRIMARY KEY,
    value   BLOB    NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;

-- The auth epoch: one number that changes in the transaction of any write
-- to what authenticates or authorizes a caller, so that the server can
-- cache principals and validate the cache with one read of one row per
-- request, and see writes by another process (a second server, the admin
-- CLI, SQL by hand) at once. Triggers keep it, so that no writer can
-- forget it. They fire once per row, so a write of n rows raises it by n:
-- only inequality matters.
CREATE TABLE auth_epoch (
    id    INTEGER NOT NULL PRIMARY KEY CHECK (id = 0),
    epoch INTEGER NOT NULL
);

INSERT INTO auth_epoch (id, epoch) VALUES (0, 0);

-- +goose StatementBegin
CREATE TRIGGER organizations_insert_auth AFTER INSERT ON organizations
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER organizations_update_auth AFTER UPDATE ON organizations
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER organizations_delete_auth AFTER DELETE ON organizations
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER api_keys_insert_auth AFTER INSERT ON api_keys
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_update_auth AFTER UPDATE ON api_keys
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER api_keys_delete_auth AFTER DELETE ON api_keys
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER service_accounts_insert_auth AFTER INSERT ON service_accounts
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER service_accounts_update_auth AFTER UPDATE ON service_accounts
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER service_accounts_delete_auth AFTER DELETE ON service_accounts
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER service_account_secrets_insert_auth AFTER INSERT ON service_account_secrets
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER service_account_secrets_update_auth AFTER UPDATE ON service_account_secrets
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER service_account_secrets_delete_auth AFTER DELETE ON service_account_secrets
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER revoked_tokens_insert_auth AFTER INSERT ON revoked_tokens
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER revoked_tokens_update_auth AFTER UPDATE ON revoked_tokens
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER revoked_tokens_delete_auth AFTER DELETE ON revoked_tokens
BEGIN UPDATE auth_epoch SET epoch = epoch + 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER revoked_tokens_delete_auth;
DROP TRIGGER revoked_tokens_update_auth;
DROP TRIGGER revoked_tokens_insert_auth;
DROP TRIGGER service_account_secrets_delete_auth;
DROP TRIGGER service_account_secrets_update_auth;
DROP TRIGGER service_account_secrets_insert_auth;
DROP TRIGGER service_accounts_delete_auth;
DROP TRIGGER service_accounts_update_auth;
DROP TRIGGER service_accounts_insert_auth;
DROP TRIGGER api_keys_delete_auth;
DROP TRIGGER api_keys_update_auth;
DROP TRIGGER api_keys_insert_auth;
DROP TRIGGER organizations_delete_auth;
DROP TRIGGER organizations_update_auth;
DROP TRIGGER organizations_insert_auth;
DROP TABLE auth_epoch;
DROP TABLE shared_secrets;
DROP TABLE revoked_tokens;
DROP TABLE service_account_secrets;
DROP TABLE service_accounts;
DROP TABLE api_keys;
