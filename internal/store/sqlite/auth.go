package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// Credentials (migrations/0003_auth.sql). Every write here changes the
// auth epoch through the tables' triggers, in the write's transaction.

// checkOrgAndGrants checks, inside the write transaction that stores a
// principal, that its organization exists (ORG_NOT_FOUND) and that every
// project its grants name is one of that organization's (GROUP_NOT_FOUND,
// as for a project that does not exist: a principal may not be granted,
// nor learn of, another organization's projects).
// what names the write in errors.
func checkOrgAndGrants(ctx context.Context, tx *sql.Tx, what string, org backup.ObjectID, grants []backup.Grant) error {
	var exists int64
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM organizations WHERE id = ?)`, org.Hex()).Scan(&exists); err != nil {
		return fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if exists == 0 {
		return backup.ErrOrgNotFound(org.Hex())
	}
	for _, g := range grants {
		if g.ProjectID.IsZero() {
			continue
		}
		var ok int64
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = ? AND org_id = ?)`,
			g.ProjectID.Hex(), org.Hex()).Scan(&ok); err != nil {
			return fmt.Errorf("sqlite: %s: %w", what, err)
		}
		if ok == 0 {
			return backup.ErrGroupNotFound(g.ProjectID.Hex())
		}
	}
	return nil
}

// principalTable names a table of principals with grants, for the writes
// both kinds share.
type principalTable struct {
	name, key string
}

var (
	apiKeysTable         = principalTable{"api_keys", "id"}
	serviceAccountsTable = principalTable{"service_accounts", "client_id"}
)

// removeGrants removes the grants on project from the principals of org
// that hold one, inside the transaction that deletes the project. Only
// the organization's principals can hold one (checkOrgAndGrants), and
// instr finds them without decoding every row's JSON; the decoding is
// exact.
func removeGrants(ctx context.Context, tx *sql.Tx, t principalTable, org string, project backup.ObjectID) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+t.key+`, grants FROM `+t.name+` WHERE org_id = ? AND instr(grants, ?) > 0`,
		org, project.Hex())
	if err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	type change struct{ key, grants string }
	var changes []change
	for rows.Next() {
		var key, stored string
		if err := rows.Scan(&key, &stored); err != nil {
			rows.Close()
			return fmt.Errorf("%s: %w", t.name, err)
		}
		enc, changed, err := shape.DropProjectGrants(stored, project)
		if err != nil {
			rows.Close()
			return fmt.Errorf("%s %s: %w", t.name, key, err)
		}
		if changed {
			changes = append(changes, change{key, enc})
		}
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	for _, c := range changes {
		if _, err := tx.ExecContext(ctx, `UPDATE `+t.name+` SET grants = ? WHERE `+t.key+` = ?`, c.grants, c.key); err != nil {
			return fmt.Errorf("%s %s: %w", t.name, c.key, err)
		}
	}
	return nil
}

// CreateAPIKey validates and stores an API key with the HA1s of its
// private key: ORG_NOT_FOUND, GROUP_NOT_FOUND for a grant on a project
// that is not the organization's, DUPLICATE_API_KEY for a taken id or
// public key.
func (db *DB) CreateAPIKey(ctx context.Context, k backup.APIKey, ha1 backup.DigestHA1) (err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if err := k.Validate(); err != nil {
		return err
	}
	// The HA1s come from the server, never from a client: a malformed one
	// is a bug, and storing it would make the key unusable.
	if !shape.ValidHA1(ha1.MD5, 32) || !shape.ValidHA1(ha1.SHA256, 64) || ha1 == (backup.DigestHA1{}) {
		return fmt.Errorf("sqlite: create API key %s: malformed HA1", k.ID.Hex())
	}
	grants, access, err := shape.Principal(k.Grants, k.AccessList)
	if err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create API key %s: %w", k.ID.Hex(), err)
	}
	defer rollback(tx)
	if err := checkOrgAndGrants(ctx, tx, "create API key "+k.ID.Hex(), k.OrgID, k.Grants); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO api_keys
  (id, org_id, public_key, description, ha1_md5, ha1_sha256, grants, access_list, created)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID.Hex(), k.OrgID.Hex(), k.PublicKey, k.Description, ha1.MD5, ha1.SHA256, grants, access, k.Created.Unix())
	switch sqliteCode(err) {
	case codePrimaryKey, codeUnique:
		// Which of the two keys is taken, asked in the same transaction.
		var idTaken int64
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys WHERE id = ?)`, k.ID.Hex()).Scan(&idTaken); err != nil {
			return fmt.Errorf("sqlite: create API key %s: %w", k.ID.Hex(), err)
		}
		if idTaken != 0 {
			return store.ErrDuplicateAPIKeyID(k.ID)
		}
		return store.ErrDuplicatePublicKey(k.PublicKey)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create API key %s: %w", k.ID.Hex(), err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create API key %s: %w", k.ID.Hex(), err)
	}
	return nil
}

// apiKeyCols are the columns scanAPIKey reads, in its order.
const apiKeyCols = `id, org_id, public_key, description, ha1_md5, ha1_sha256, grants, access_list, created`

type scanner interface{ Scan(dest ...any) error }

func scanAPIKey(row scanner) (backup.APIKey, backup.DigestHA1, error) {
	var (
		k                     backup.APIKey
		ha1                   backup.DigestHA1
		id, org, grants, list string
		created               int64
	)
	if err := row.Scan(&id, &org, &k.PublicKey, &k.Description, &ha1.MD5, &ha1.SHA256, &grants, &list, &created); err != nil {
		return k, ha1, err
	}
	var err error
	if k.ID, err = shape.ParseIDString(id); err != nil {
		return k, ha1, err
	}
	if k.OrgID, err = shape.ParseIDString(org); err != nil {
		return k, ha1, err
	}
	if k.Grants, err = shape.DecodeGrants(grants); err != nil {
		return k, ha1, fmt.Errorf("API key %s: %w", id, err)
	}
	if k.AccessList, err = shape.DecodeAccessList(list); err != nil {
		return k, ha1, fmt.Errorf("API key %s: %w", id, err)
	}
	k.Created = shape.UnixTime(created)
	return k, ha1, nil
}

// APIKeys lists an organization's API keys ordered by id, or
// ORG_NOT_FOUND.
func (db *DB) APIKeys(ctx context.Context, orgID backup.ObjectID) (_ []backup.APIKey, err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return nil, fmt.Errorf("sqlite: API keys: %w", err)
	}
	defer rollback(tx)
	if err := orgExists(ctx, tx, orgID); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE org_id = ? ORDER BY id`, orgID.Hex())
	if err != nil {
		return nil, fmt.Errorf("sqlite: API keys: %w", err)
	}
	defer rows.Close()
	out := []backup.APIKey{}
	for rows.Next() {
		k, _, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: API keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: API keys: %w", err)
	}
	return out, nil
}

// orgExists is ORG_NOT_FOUND for an unknown organization, read in tx.
func orgExists(ctx context.Context, tx *sql.Tx, id backup.ObjectID) error {
	var exists int64
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM organizations WHERE id = ?)`, id.Hex()).Scan(&exists); err != nil {
		return fmt.Errorf("sqlite: organization %s: %w", id.Hex(), err)
	}
	if exists == 0 {
		return backup.ErrOrgNotFound(id.Hex())
	}
	return nil
}

// APIKey finds an API key and its HA1s by public key, or
// API_KEY_NOT_FOUND.
func (db *DB) APIKey(ctx context.Context, publicKey string) (_ backup.APIKey, _ backup.DigestHA1, err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return backup.APIKey{}, backup.DigestHA1{}, err
	}
	k, ha1, err := scanAPIKey(db.apiKeyByPublicKey.QueryRowContext(ctx, publicKey))
	if err == sql.ErrNoRows {
		return backup.APIKey{}, backup.DigestHA1{}, store.ErrPublicKeyNotFound(publicKey)
	}
	if err != nil {
		return backup.APIKey{}, backup.DigestHA1{}, fmt.Errorf("sqlite: API key %s: %w", publicKey, err)
	}
	return k, ha1, nil
}

// DeleteAPIKey deletes an API key by id, or API_KEY_NOT_FOUND.
func (db *DB) DeleteAPIKey(ctx context.Context, id backup.ObjectID) (err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id.Hex())
	if err != nil {
		return fmt.Errorf("sqlite: delete API key %s: %w", id.Hex(), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete API key %s: %w", id.Hex(), err)
	}
	if n == 0 {
		return backup.ErrAPIKeyNotFound(id.Hex())
	}
	return nil
}

// CreateServiceAccount validates and stores a service account with its
// first secret, with CreateAPIKey's errors, DUPLICATE_SERVICE_ACCOUNT for
// a taken client id, and a Conflict for a taken secret id.
func (db *DB) CreateServiceAccount(ctx context.Context, sa backup.ServiceAccount, secret backup.ServiceAccountSecret) (err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if err := sa.Validate(); err != nil {
		return err
	}
	if secret.ID.IsZero() {
		return store.ErrMissingID("service account secret")
	}
	if secret.Hash == "" {
		return fmt.Errorf("sqlite: create service account %s: secret %s has no hash", sa.ClientID, secret.ID.Hex())
	}
	grants, access, err := shape.Principal(sa.Grants, sa.AccessList)
	if err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create service account %s: %w", sa.ClientID, err)
	}
	defer rollback(tx)
	if err := checkOrgAndGrants(ctx, tx, "create service account "+sa.ClientID, sa.OrgID, sa.Grants); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO service_accounts
  (client_id, org_id, name, description, grants, access_list, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		sa.ClientID, sa.OrgID.Hex(), sa.Name, sa.Description, grants, access, sa.Created.Unix())
	switch sqliteCode(err) {
	case codePrimaryKey, codeUnique:
		return store.ErrDuplicateClientID(sa.ClientID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create service account %s: %w", sa.ClientID, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO service_account_secrets (id, client_id, hash, created, expires) VALUES (?, ?, ?, ?, ?)`,
		secret.ID.Hex(), sa.ClientID, secret.Hash, secret.Created.Unix(), secret.Expires.Unix())
	switch sqliteCode(err) {
	case codePrimaryKey, codeUnique:
		return store.ErrDuplicateID("service account secret", secret.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create service account %s: %w", sa.ClientID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create service account %s: %w", sa.ClientID, err)
	}
	return nil
}

// serviceAccountCols are the columns scanServiceAccount reads, in its
// order.
const serviceAccountCols = `client_id, org_id, name, description, grants, access_list, created`

func scanServiceAccount(row scanner) (backup.ServiceAccount, error) {
	var (
		sa                backup.ServiceAccount
		org, grants, list string
		created           int64
	)
	if err := row.Scan(&sa.ClientID, &org, &sa.Name, &sa.Description, &grants, &list, &created); err != nil {
		return sa, err
	}
	var err error
	if sa.OrgID, err = shape.ParseIDString(org); err != nil {
		return sa, err
	}
	if sa.Grants, err = shape.DecodeGrants(grants); err != nil {
		return sa, fmt.Errorf("service account %s: %w", sa.ClientID, err)
	}
	if sa.AccessList, err = shape.DecodeAccessList(list); err != nil {
		return sa, fmt.Errorf("service account %s: %w", sa.ClientID, err)
	}
	sa.Created = shape.UnixTime(created)
	return sa, nil
}

// ServiceAccounts lists an organization's service accounts ordered by
// client id, or ORG_NOT_FOUND.
func (db *DB) ServiceAccounts(ctx context.Context, orgID backup.ObjectID) (_ []backup.ServiceAccount, err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return nil, fmt.Errorf("sqlite: service accounts: %w", err)
	}
	defer rollback(tx)
	if err := orgExists(ctx, tx, orgID); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+serviceAccountCols+` FROM service_accounts WHERE org_id = ? ORDER BY client_id`, orgID.Hex())
	if err != nil {
		return nil, fmt.Errorf("sqlite: service accounts: %w", err)
	}
	defer rows.Close()
	out := []backup.ServiceAccount{}
	for rows.Next() {
		sa, err := scanServiceAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: service accounts: %w", err)
		}
		out = append(out, sa)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: service accounts: %w", err)
	}
	return out, nil
}

// ServiceAccount finds a service account and its secrets, newest first,
// or SERVICE_ACCOUNT_NOT_FOUND.
func (db *DB) ServiceAccount(ctx context.Context, clientID string) (_ backup.ServiceAccount, _ []backup.ServiceAccountSecret, err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return backup.ServiceAccount{}, nil, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return backup.ServiceAccount{}, nil, fmt.Errorf("sqlite: service account %s: %w", clientID, err)
	}
	defer rollback(tx)
	sa, err := scanServiceAccount(tx.QueryRowContext(ctx, `SELECT `+serviceAccountCols+` FROM service_accounts WHERE client_id = ?`, clientID))
	if err == sql.ErrNoRows {
		return backup.ServiceAccount{}, nil, backup.ErrServiceAccountNotFound(clientID)
	}
	if err != nil {
		return backup.ServiceAccount{}, nil, fmt.Errorf("sqlite: service account %s: %w", clientID, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, hash, created, expires FROM service_account_secrets
WHERE client_id = ? ORDER BY created DESC, id DESC`, clientID)
	if err != nil {
		return backup.ServiceAccount{}, nil, fmt.Errorf("sqlite: service account %s: %w", clientID, err)
	}
	defer rows.Close()
	secrets := []backup.ServiceAccountSecret{}
	for rows.Next() {
		var s backup.ServiceAccountSecret
		var id string
		var created, expires int64
		if err := rows.Scan(&id, &s.Hash, &created, &expires); err != nil {
			return backup.ServiceAccount{}, nil, fmt.Errorf("sqlite: service account %s: %w", clientID, err)
		}
		if s.ID, err = shape.ParseIDString(id); err != nil {
			return backup.ServiceAccount{}, nil, fmt.Errorf("sqlite: service account %s: %w", clientID, err)
		}
		s.Created, s.Expires = shape.UnixTime(created), shape.UnixTime(expires)
		secrets = append(secrets, s)
	}
	if err := rows.Err(); err != nil {
		return backup.ServiceAccount{}, nil, fmt.Errorf("sqlite: service account %s: %w", clientID, err)
	}
	return sa, secrets, nil
}

// DeleteServiceAccount deletes a service account and its secrets, or
// SERVICE_ACCOUNT_NOT_FOUND.
func (db *DB) DeleteServiceAccount(ctx context.Context, clientID string) (err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete service account %s: %w", clientID, err)
	}
	defer rollback(tx)
	// The secrets explicitly, as DeleteOrganization does: the cascade
	// depends on the connection's foreign keys setting.
	if _, err := tx.ExecContext(ctx, `DELETE FROM service_account_secrets WHERE client_id = ?`, clientID); err != nil {
		return fmt.Errorf("sqlite: delete service account %s: %w", clientID, err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM service_accounts WHERE client_id = ?`, clientID)
	if err != nil {
		return fmt.Errorf("sqlite: delete service account %s: %w", clientID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: delete service account %s: %w", clientID, err)
	}
	if n == 0 {
		return backup.ErrServiceAccountNotFound(clientID)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete service account %s: %w", clientID, err)
	}
	return nil
}

// isRevokedQuery reads one row by its primary key. A revocation whose
// token has expired reads as absent, as it would once a later revoke has
// deleted it: the answer does not depend on when the purge ran.
const isRevokedQuery = `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?1 AND expires >= ?2)`

// RevokeToken records that a token id is revoked until its expiry. It is
// idempotent; revoking again with a later expiry extends the revocation.
// In the same transaction it deletes the revocations whose tokens have
// expired (a range of the expires index), so the table stays as small as
// the number of tokens revoked within one token lifetime.
func (db *DB) RevokeToken(ctx context.Context, jti string, expires time.Time) (err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if jti == "" {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "Invalid attribute %s specified.", "jti")
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: revoke token: %w", err)
	}
	defer rollback(tx)
	if _, err := tx.ExecContext(ctx, `DELETE FROM revoked_tokens WHERE expires < ?`, db.clock.Now().Unix()); err != nil {
		return fmt.Errorf("sqlite: revoke token: expired: %w", err)
	}
	// The WHERE makes a repeated revoke write nothing, so that it leaves
	// the auth epoch alone.
	if _, err := tx.ExecContext(ctx, `INSERT INTO revoked_tokens (jti, expires) VALUES (?1, ?2)
ON CONFLICT (jti) DO UPDATE SET expires = excluded.expires WHERE excluded.expires > revoked_tokens.expires`,
		jti, shape.ExpirySeconds(expires)); err != nil {
		return fmt.Errorf("sqlite: revoke token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: revoke token: %w", err)
	}
	return nil
}

// IsRevoked reports whether a token id is revoked and its token not yet
// expired: one read of the primary key, on the read pool.
func (db *DB) IsRevoked(ctx context.Context, jti string) (_ bool, err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("sqlite: is revoked: %w", err)
	}
	// Without ctx's cancellation, as head and for the same reason: it
	// runs on every request that carries a token.
	var revoked int64
	if err := db.isRevoked.QueryRowContext(context.WithoutCancel(ctx), jti, db.clock.Now().Unix()).Scan(&revoked); err != nil {
		return false, fmt.Errorf("sqlite: is revoked: %w", err)
	}
	return revoked != 0, nil
}

const authEpochQuery = `SELECT epoch FROM auth_epoch WHERE id = 0`

// AuthEpoch returns the auth epoch (migrations/0003_auth.sql): one read of
// a one-row table, on the read pool.
func (db *DB) AuthEpoch(ctx context.Context) (_ int64, err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("sqlite: auth epoch: %w", err)
	}
	// Unchanged while the file is (see version.go): a commit anywhere
	// reads it again.
	v, ok := db.wal.version()
	if ok {
		if e := db.authEpochAt.Load(); e != nil && e.version == v {
			return e.value, nil
		}
	}
	// Without ctx's cancellation, as head and for the same reason: it
	// runs on every authenticated request.
	var epoch int64
	if err := db.authEpoch.QueryRowContext(context.WithoutCancel(ctx)).Scan(&epoch); err != nil {
		return 0, fmt.Errorf("sqlite: auth epoch: %w", err)
	}
	if ok {
		db.authEpochAt.Store(&versioned[int64]{version: v, value: epoch})
	}
	return epoch, nil
}

// SharedSecret returns the secret of that name, creating it with gen the
// first time. Once it exists it is a read on the read pool. Otherwise gen
// runs, and one write transaction inserts its bytes unless a row is there
// by then and reads the row back: the writer lock orders the processes
// sharing the file, so every one of them gets the first writer's bytes.
func (db *DB) SharedSecret(ctx context.Context, name string, gen func() ([]byte, error)) (_ []byte, err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("sqlite: shared secret: no name")
	}
	var value []byte
	err = db.r.QueryRowContext(ctx, `SELECT value FROM shared_secrets WHERE name = ?`, name).Scan(&value)
	if err == nil {
		return value, nil
	}
	if err != sql.ErrNoRows {
		return nil, fmt.Errorf("sqlite: shared secret %s: %w", name, err)
	}
	fresh, err := gen()
	if err != nil {
		return nil, fmt.Errorf("sqlite: shared secret %s: generate: %w", name, err)
	}
	if len(fresh) == 0 {
		return nil, fmt.Errorf("sqlite: shared secret %s: generated no bytes", name)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: shared secret %s: %w", name, err)
	}
	defer rollback(tx)
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO shared_secrets (name, value, created) VALUES (?, ?, ?)`,
		name, fresh, db.clock.Now().Unix()); err != nil {
		return nil, fmt.Errorf("sqlite: shared secret %s: %w", name, err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT value FROM shared_secrets WHERE name = ?`, name).Scan(&value); err != nil {
		return nil, fmt.Errorf("sqlite: shared secret %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: shared secret %s: %w", name, err)
	}
	return value, nil
}
