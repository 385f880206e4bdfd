package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// Credentials (migrations/0003_auth.sql). Every write here changes the
// auth epoch through the tables' triggers, in the write's transaction.

// checkOrgAndGrants checks, inside the write transaction that stores a
// principal, that its organization exists (ORG_NOT_FOUND) and that every
// project its grants name is one of that organization's (GROUP_NOT_FOUND,
// as for a project that does not exist). It locks the rows it finds (FOR
// KEY SHARE) until the commit, so that a concurrent delete of the
// organization or of a granted project waits for this write and then
// sees the principal, or this write waits for the delete and then finds
// the row gone. It takes these locks before the insert takes the auth
// epoch's, in the order the deletes take theirs.
func checkOrgAndGrants(ctx context.Context, tx pgx.Tx, org backup.ObjectID, grants []backup.Grant) error {
	var found bool
	err := tx.QueryRow(ctx, `SELECT true FROM organizations WHERE id = $1 FOR KEY SHARE`, org.Hex()).Scan(&found)
	if errors.Is(err, pgx.ErrNoRows) {
		return backup.ErrOrgNotFound(org.Hex())
	}
	if err != nil {
		return err
	}
	for _, g := range grants {
		if g.ProjectID.IsZero() {
			continue
		}
		err := tx.QueryRow(ctx, `SELECT true FROM projects WHERE id = $1 AND org_id = $2 FOR KEY SHARE`,
			g.ProjectID.Hex(), org.Hex()).Scan(&found)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.ErrGroupNotFound(g.ProjectID.Hex())
		}
		if err != nil {
			return err
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
// strpos finds them without decoding every row's JSON; the decoding is
// exact.
func removeGrants(ctx context.Context, tx pgx.Tx, t principalTable, org string, project backup.ObjectID) error {
	rows, err := tx.Query(ctx, `SELECT `+t.key+`, grants FROM `+t.name+` WHERE org_id = $1 AND strpos(grants, $2) > 0 FOR UPDATE`,
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
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	for _, c := range changes {
		if _, err := tx.Exec(ctx, `UPDATE `+t.name+` SET grants = $1 WHERE `+t.key+` = $2`, c.grants, c.key); err != nil {
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
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if err := k.Validate(); err != nil {
		return err
	}
	// The HA1s come from the server, never from a client: a malformed one
	// is a bug, and storing it would make the key unusable.
	if !shape.ValidHA1(ha1.MD5, 32) || !shape.ValidHA1(ha1.SHA256, 64) || ha1 == (backup.DigestHA1{}) {
		return fmt.Errorf("postgres: create API key %s: malformed HA1", k.ID.Hex())
	}
	grants, access, err := shape.Principal(k.Grants, k.AccessList)
	if err != nil {
		return err
	}
	return db.inTx(ctx, "create API key "+k.ID.Hex(), func(tx pgx.Tx) error {
		if err := checkOrgAndGrants(ctx, tx, k.OrgID, k.Grants); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO api_keys
  (id, org_id, public_key, description, ha1_md5, ha1_sha256, grants, access_list, created)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			k.ID.Hex(), k.OrgID.Hex(), k.PublicKey, k.Description, ha1.MD5, ha1.SHA256, grants, access, k.Created.Unix())
		switch {
		case violation(err, codeUniqueViolation, "api_keys_pkey"):
			return store.ErrDuplicateAPIKeyID(k.ID)
		case violation(err, codeUniqueViolation, ""):
			return store.ErrDuplicatePublicKey(k.PublicKey)
		case violation(err, codeForeignKeyViolation, ""):
			return backup.ErrOrgNotFound(k.OrgID.Hex())
		}
		return err
	})
}

// apiKeyCols are the columns scanAPIKey reads, in its order.
const apiKeyCols = `id, org_id, public_key, description, ha1_md5, ha1_sha256, grants, access_list, created`

func scanAPIKey(row pgx.Row) (backup.APIKey, backup.DigestHA1, error) {
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
// ORG_NOT_FOUND, the organization and its keys read by one statement.
func (db *DB) APIKeys(ctx context.Context, orgID backup.ObjectID) (_ []backup.APIKey, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT o.found, `+apiKeyCols+`
FROM (SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1) AS found) AS o
LEFT JOIN LATERAL (SELECT * FROM api_keys WHERE org_id = $1) AS k ON true
ORDER BY k.id`, orgID.Hex())
	if err != nil {
		return nil, fmt.Errorf("postgres: API keys: %w", err)
	}
	defer rows.Close()
	out := []backup.APIKey{}
	found := false
	for rows.Next() {
		row, err := joinedRow(rows, &found, 8)
		if err != nil {
			return nil, fmt.Errorf("postgres: API keys: %w", err)
		}
		if row == nil {
			continue
		}
		k, _, err := scanAPIKey(row)
		if err != nil {
			return nil, fmt.Errorf("postgres: API keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: API keys: %w", err)
	}
	if !found {
		return nil, backup.ErrOrgNotFound(orgID.Hex())
	}
	return out, nil
}

// joinedRow scans a row of found and a LEFT JOINed row of texts text
// columns and one bigint: the joined row as values to scan, or nil when
// its columns are NULL.
func joinedRow(rows pgx.Rows, found *bool, texts int) (valuesRow, error) {
	cols := make([]pgtype.Text, texts)
	var last pgtype.Int8
	dest := []any{found}
	for i := range cols {
		dest = append(dest, &cols[i])
	}
	if err := rows.Scan(append(dest, &last)...); err != nil {
		return nil, err
	}
	if !cols[0].Valid {
		return nil, nil
	}
	out := make(valuesRow, 0, texts+1)
	for _, c := range cols {
		out = append(out, c.String)
	}
	return append(out, last.Int64), nil
}

// APIKey finds an API key and its HA1s by public key, or
// API_KEY_NOT_FOUND.
func (db *DB) APIKey(ctx context.Context, publicKey string) (_ backup.APIKey, _ backup.DigestHA1, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return backup.APIKey{}, backup.DigestHA1{}, err
	}
	k, ha1, err := scanAPIKey(db.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE public_key = $1`, publicKey))
	if errors.Is(err, pgx.ErrNoRows) {
		return backup.APIKey{}, backup.DigestHA1{}, store.ErrPublicKeyNotFound(publicKey)
	}
	if err != nil {
		return backup.APIKey{}, backup.DigestHA1{}, fmt.Errorf("postgres: API key %s: %w", publicKey, err)
	}
	return k, ha1, nil
}

// DeleteAPIKey deletes an API key by id, or API_KEY_NOT_FOUND.
func (db *DB) DeleteAPIKey(ctx context.Context, id backup.ObjectID) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM api_keys WHERE id = $1`, id.Hex())
	if err != nil {
		return fmt.Errorf("postgres: delete API key %s: %w", id.Hex(), err)
	}
	if tag.RowsAffected() == 0 {
		return backup.ErrAPIKeyNotFound(id.Hex())
	}
	return nil
}

// CreateServiceAccount validates and stores a service account with its
// first secret, with CreateAPIKey's errors, DUPLICATE_SERVICE_ACCOUNT for
// a taken client id, and a Conflict for a taken secret id.
func (db *DB) CreateServiceAccount(ctx context.Context, sa backup.ServiceAccount, secret backup.ServiceAccountSecret) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
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
		return fmt.Errorf("postgres: create service account %s: secret %s has no hash", sa.ClientID, secret.ID.Hex())
	}
	grants, access, err := shape.Principal(sa.Grants, sa.AccessList)
	if err != nil {
		return err
	}
	return db.inTx(ctx, "create service account "+sa.ClientID, func(tx pgx.Tx) error {
		if err := checkOrgAndGrants(ctx, tx, sa.OrgID, sa.Grants); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO service_accounts
  (client_id, org_id, name, description, grants, access_list, created) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			sa.ClientID, sa.OrgID.Hex(), sa.Name, sa.Description, grants, access, sa.Created.Unix())
		switch {
		case violation(err, codeUniqueViolation, ""):
			return store.ErrDuplicateClientID(sa.ClientID)
		case violation(err, codeForeignKeyViolation, ""):
			return backup.ErrOrgNotFound(sa.OrgID.Hex())
		case err != nil:
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO service_account_secrets (id, client_id, hash, created, expires) VALUES ($1, $2, $3, $4, $5)`,
			secret.ID.Hex(), sa.ClientID, secret.Hash, secret.Created.Unix(), secret.Expires.Unix())
		if violation(err, codeUniqueViolation, "") {
			return store.ErrDuplicateID("service account secret", secret.ID)
		}
		return err
	})
}

// serviceAccountCols are the columns scanServiceAccount reads, in its
// order.
const serviceAccountCols = `client_id, org_id, name, description, grants, access_list, created`

func scanServiceAccount(row pgx.Row) (backup.ServiceAccount, error) {
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
// client id, or ORG_NOT_FOUND, read by one statement.
func (db *DB) ServiceAccounts(ctx context.Context, orgID backup.ObjectID) (_ []backup.ServiceAccount, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT o.found, `+serviceAccountCols+`
FROM (SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1) AS found) AS o
LEFT JOIN LATERAL (SELECT * FROM service_accounts WHERE org_id = $1) AS s ON true
ORDER BY s.client_id`, orgID.Hex())
	if err != nil {
		return nil, fmt.Errorf("postgres: service accounts: %w", err)
	}
	defer rows.Close()
	out := []backup.ServiceAccount{}
	found := false
	for rows.Next() {
		row, err := joinedRow(rows, &found, 6)
		if err != nil {
			return nil, fmt.Errorf("postgres: service accounts: %w", err)
		}
		if row == nil {
			continue
		}
		sa, err := scanServiceAccount(row)
		if err != nil {
			return nil, fmt.Errorf("postgres: service accounts: %w", err)
		}
		out = append(out, sa)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: service accounts: %w", err)
	}
	if !found {
		return nil, backup.ErrOrgNotFound(orgID.Hex())
	}
	return out, nil
}

// ServiceAccount finds a service account and its secrets, newest first,
// or SERVICE_ACCOUNT_NOT_FOUND, in one statement.
func (db *DB) ServiceAccount(ctx context.Context, clientID string) (_ backup.ServiceAccount, _ []backup.ServiceAccountSecret, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return backup.ServiceAccount{}, nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT a.`+strings.ReplaceAll(serviceAccountCols, ", ", ", a.")+`, x.id, x.hash, x.created, x.expires
FROM service_accounts a
LEFT JOIN LATERAL (SELECT id, hash, created, expires FROM service_account_secrets
  WHERE client_id = a.client_id) AS x ON true
WHERE a.client_id = $1
ORDER BY x.created DESC, x.id DESC`, clientID)
	if err != nil {
		return backup.ServiceAccount{}, nil, fmt.Errorf("postgres: service account %s: %w", clientID, err)
	}
	defer rows.Close()
	var (
		sa      backup.ServiceAccount
		found   bool
		secrets = []backup.ServiceAccountSecret{}
	)
	for rows.Next() {
		var (
			clientID, org, name, description, grants, list, sid, hash string
			created                                                   int64
			screated, sexpires                                        pgtype.Int8
			sidN, hashN                                               pgtype.Text
		)
		if err := rows.Scan(&clientID, &org, &name, &description, &grants, &list, &created, &sidN, &hashN, &screated, &sexpires); err != nil {
			return backup.ServiceAccount{}, nil, fmt.Errorf("postgres: service account %s: %w", clientID, err)
		}
		if !found {
			found = true
			sa, err = scanServiceAccount(valuesRow{clientID, org, name, description, grants, list, created})
			if err != nil {
				return backup.ServiceAccount{}, nil, fmt.Errorf("postgres: service account %s: %w", clientID, err)
			}
		}
		if !sidN.Valid {
			continue
		}
		sid, hash = sidN.String, hashN.String
		s := backup.ServiceAccountSecret{Hash: hash, Created: shape.UnixTime(screated.Int64), Expires: shape.UnixTime(sexpires.Int64)}
		if s.ID, err = shape.ParseIDString(sid); err != nil {
			return backup.ServiceAccount{}, nil, fmt.Errorf("postgres: service account %s: %w", clientID, err)
		}
		secrets = append(secrets, s)
	}
	if err := rows.Err(); err != nil {
		return backup.ServiceAccount{}, nil, fmt.Errorf("postgres: service account %s: %w", clientID, err)
	}
	if !found {
		return backup.ServiceAccount{}, nil, backup.ErrServiceAccountNotFound(clientID)
	}
	return sa, secrets, nil
}

// valuesRow is a row already scanned, for the scan functions.
type valuesRow []any

func (v valuesRow) Scan(dest ...any) error {
	if len(dest) != len(v) {
		return fmt.Errorf("%d destinations for %d values", len(dest), len(v))
	}
	for i, d := range dest {
		switch d := d.(type) {
		case *string:
			*d = v[i].(string)
		case *int64:
			*d = v[i].(int64)
		default:
			return fmt.Errorf("destination %d is a %T", i, d)
		}
	}
	return nil
}

// DeleteServiceAccount deletes a service account and its secrets (ON
// DELETE CASCADE), or SERVICE_ACCOUNT_NOT_FOUND.
func (db *DB) DeleteServiceAccount(ctx context.Context, clientID string) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM service_accounts WHERE client_id = $1`, clientID)
	if err != nil {
		return fmt.Errorf("postgres: delete service account %s: %w", clientID, err)
	}
	if tag.RowsAffected() == 0 {
		return backup.ErrServiceAccountNotFound(clientID)
	}
	return nil
}

// RevokeToken records that a token id is revoked until its expiry. It is
// idempotent; revoking again with a later expiry extends the revocation.
// In the same transaction it deletes the revocations whose tokens have
// expired (a range of the expires index), so the table stays as small as
// the number of tokens revoked within one token lifetime.
//
// It locks the auth epoch's row first: every credential write takes that
// lock through the triggers, and taking it before the row locks of the
// purge and the upsert keeps concurrent revokes, in any process, from
// deadlocking on each other.
func (db *DB) RevokeToken(ctx context.Context, jti string, expires time.Time) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if jti == "" {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "Invalid attribute %s specified.", "jti")
	}
	return db.inTx(ctx, "revoke token", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT epoch FROM auth_epoch WHERE id = 0 FOR UPDATE`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM revoked_tokens WHERE expires < $1`, db.clock.Now().Unix()); err != nil {
			return err
		}
		// The WHERE makes a repeated revoke write nothing, so that it
		// leaves the auth epoch alone.
		_, err := tx.Exec(ctx, `INSERT INTO revoked_tokens AS r (jti, expires) VALUES ($1, $2)
ON CONFLICT (jti) DO UPDATE SET expires = excluded.expires WHERE excluded.expires > r.expires`,
			jti, shape.ExpirySeconds(expires))
		return err
	})
}

// IsRevoked reports whether a token id is revoked and its token not yet
// expired: one read of the primary key. A revocation whose token has
// expired reads as absent, as it would once a later revoke has deleted
// it: the answer does not depend on when the purge ran.
func (db *DB) IsRevoked(ctx context.Context, jti string) (_ bool, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return false, err
	}
	var revoked bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1 AND expires >= $2)`,
		jti, db.clock.Now().Unix()).Scan(&revoked); err != nil {
		return false, fmt.Errorf("postgres: is revoked: %w", err)
	}
	return revoked, nil
}

// AuthEpoch returns the auth epoch (migrations/0003_auth.sql): one read of
// a one-row table.
func (db *DB) AuthEpoch(ctx context.Context) (_ int64, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	var epoch int64
	if err := db.pool.QueryRow(ctx, `SELECT epoch FROM auth_epoch WHERE id = 0`).Scan(&epoch); err != nil {
		return 0, fmt.Errorf("postgres: auth epoch: %w", err)
	}
	return epoch, nil
}

// SharedSecret returns the secret of that name, creating it with gen the
// first time. Once it exists it is one read. Otherwise gen runs, its bytes
// are inserted unless a row is there by then (ON CONFLICT DO NOTHING,
// which waits for a concurrent insert of the same name to commit or roll
// back), and the row is read back by a statement of its own, whose
// snapshot has the winner's: every process gets the first writer's bytes.
func (db *DB) SharedSecret(ctx context.Context, name string, gen func() ([]byte, error)) (_ []byte, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, fmt.Errorf("postgres: shared secret: no name")
	}
	const read = `SELECT value FROM shared_secrets WHERE name = $1`
	var value []byte
	err = db.pool.QueryRow(ctx, read, name).Scan(&value)
	if err == nil {
		return value, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: shared secret %s: %w", name, err)
	}
	fresh, err := gen()
	if err != nil {
		return nil, fmt.Errorf("postgres: shared secret %s: generate: %w", name, err)
	}
	if len(fresh) == 0 {
		return nil, fmt.Errorf("postgres: shared secret %s: generated no bytes", name)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO shared_secrets (name, value, created) VALUES ($1, $2, $3)
ON CONFLICT (name) DO NOTHING`, name, fresh, db.clock.Now().Unix()); err != nil {
		return nil, fmt.Errorf("postgres: shared secret %s: %w", name, err)
	}
	if err := db.pool.QueryRow(ctx, read, name).Scan(&value); err != nil {
		return nil, fmt.Errorf("postgres: shared secret %s: %w", name, err)
	}
	return value, nil
}
