-- Credentials: API keys (HTTP Digest), service accounts (OAuth 2.0 client
-- credentials) and their secrets, revoked access tokens, and secrets the
-- servers share (e.g. the token signing key), as in the SQLite store.
--
-- Grants and access lists are JSON text, in the shapes the SQLite store
-- uses (see auth.go): a principal is read whole, once per cache miss,
-- and never queried by them; the one write that looks inside grants,
-- deleting a project, is rare and touches the few rows that name it.
--
--   grants       [{"role":"ORG_READ_ONLY"},{"role":"GROUP_READ_ONLY","groupId":"<24 hex>"}]
--   access_list  ["10.0.0.0/8","192.0.2.1/32"]

-- +goose Up
-- Only the HA1s of a key's private key are kept: they are what HTTP Digest
-- needs, and the private key cannot be recovered from them.
CREATE TABLE api_keys (
    id          text COLLATE "C" NOT NULL CHECK (length(id) = 24),
    org_id      text COLLATE "C" NOT NULL,
    public_key  text COLLATE "C" NOT NULL,
    description text             NOT NULL,
    ha1_md5     text             NOT NULL,
    ha1_sha256  text             NOT NULL,
    grants      text             NOT NULL,
    access_list text             NOT NULL,
    created     bigint           NOT NULL,
    CONSTRAINT api_keys_pkey PRIMARY KEY (id),
    CONSTRAINT api_keys_public_key_key UNIQUE (public_key),
    CONSTRAINT api_keys_org_fkey FOREIGN KEY (org_id) REFERENCES organizations (id)
);

CREATE INDEX api_keys_org ON api_keys (org_id, id);

CREATE TABLE service_accounts (
    client_id   text COLLATE "C" NOT NULL,
    org_id      text COLLATE "C" NOT NULL,
    name        text             NOT NULL,
    description text             NOT NULL,
    grants      text             NOT NULL,
    access_list text             NOT NULL,
    created     bigint           NOT NULL,
    CONSTRAINT service_accounts_pkey PRIMARY KEY (client_id),
    CONSTRAINT service_accounts_org_fkey FOREIGN KEY (org_id) REFERENCES organizations (id)
);

CREATE INDEX service_accounts_org ON service_accounts (org_id, client_id);

-- Secrets are argon2id hashes (PHC strings). They go with their account:
-- PostgreSQL always enforces the cascade.
CREATE TABLE service_account_secrets (
    id        text COLLATE "C" NOT NULL CHECK (length(id) = 24),
    client_id text COLLATE "C" NOT NULL,
    hash      text             NOT NULL,
    created   bigint           NOT NULL,
    expires   bigint           NOT NULL,
    CONSTRAINT service_account_secrets_pkey PRIMARY KEY (id),
    CONSTRAINT service_account_secrets_client_fkey FOREIGN KEY (client_id)
        REFERENCES service_accounts (client_id) ON DELETE CASCADE
);

CREATE INDEX service_account_secrets_client ON service_account_secrets (client_id, created);

-- A revocation need only outlive its token: every revoke deletes the rows
-- whose expiry has passed, through the expires index, so the table holds
-- the tokens revoked within one token lifetime. IsRevoked is one seek of
-- the primary key.
CREATE TABLE revoked_tokens (
    jti     text   NOT NULL,
    expires bigint NOT NULL,
    CONSTRAINT revoked_tokens_pkey PRIMARY KEY (jti)
);

CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires);

-- Secrets the servers make for themselves and that every process sharing
-- the database must agree on: the first writer's value stays.
CREATE TABLE shared_secrets (
    name    text   NOT NULL,
    value   bytea  NOT NULL,
    created bigint NOT NULL,
    CONSTRAINT shared_secrets_pkey PRIMARY KEY (name)
);

-- The auth epoch: one number that changes in the transaction of any write
-- to what authenticates or authorizes a caller, so that every server can
-- cache principals and validate the cache with one read of one row per
-- request, and see writes by another process (another server, the admin
-- commands, SQL by hand) at once. Triggers keep it, so that no writer can
-- forget it. They fire once per row written, so a write of n rows raises
-- it by n (and a statement that writes no row leaves it alone): only
-- inequality matters.
CREATE TABLE auth_epoch (
    id    integer NOT NULL CHECK (id = 0),
    epoch bigint  NOT NULL,
    CONSTRAINT auth_epoch_pkey PRIMARY KEY (id)
);

INSERT INTO auth_epoch (id, epoch) VALUES (0, 0);

-- +goose StatementBegin
CREATE FUNCTION auth_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 0;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER organizations_auth AFTER INSERT OR UPDATE OR DELETE ON organizations
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER api_keys_auth AFTER INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER service_accounts_auth AFTER INSERT OR UPDATE OR DELETE ON service_accounts
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER service_account_secrets_auth AFTER INSERT OR UPDATE OR DELETE ON service_account_secrets
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER revoked_tokens_auth AFTER INSERT OR UPDATE OR DELETE ON revoked_tokens
    FOR EACH ROW EXECUTE FUNCTION auth_epoch_bump();

-- TRUNCATE fires no row trigger: a statement trigger covers it.
CREATE TRIGGER organizations_auth_truncate AFTER TRUNCATE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER api_keys_auth_truncate AFTER TRUNCATE ON api_keys
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER service_accounts_auth_truncate AFTER TRUNCATE ON service_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER service_account_secrets_auth_truncate AFTER TRUNCATE ON service_account_secrets
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();
CREATE TRIGGER revoked_tokens_auth_truncate AFTER TRUNCATE ON revoked_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump();

-- +goose Down
DROP TABLE auth_epoch;
DROP TABLE shared_secrets;
DROP TABLE revoked_tokens;
DROP TABLE service_account_secrets;
DROP TABLE service_accounts;
DROP TABLE api_keys;
DROP TRIGGER organizations_auth_truncate ON organizations;
DROP TRIGGER organizations_auth ON organizations;
DROP FUNCTION auth_epoch_bump();
