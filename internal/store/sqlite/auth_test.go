package sqlite_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// authFixture is a file with two store handles on it (two server
// processes, say) and a plain SQL connection (the admin poking at it by
// hand).
type authFixture struct {
	t    *testing.T
	ctx  context.Context
	path string
	a, b *sqlite.DB
	raw  *sql.DB
	ids  *backup.IDSource
	t0   time.Time
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "auth.db")
	f := &authFixture{t: t, ctx: ctx, path: path, a: openHandle(t, path), b: openHandle(t, path),
		ids: backup.NewIDSourceFrom([5]byte{0xa7, 0x4e, 0, 0, 1}, 0), t0: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	f.raw = raw
	return f
}

func openHandle(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (f *authFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func ha1Of(s string) backup.DigestHA1 {
	return backup.DigestHA1{MD5: strings.Repeat(s[:1], 32), SHA256: strings.Repeat(s[:1], 64)}
}

// TestAuthEpochOtherProcess writes every kind of data through one handle,
// the other, or plain SQL, and checks after each write that both handles
// read the same auth epoch, changed exactly by the writes to what
// authenticates or authorizes a caller.
func TestAuthEpochOtherProcess(t *testing.T) {
	f := newAuthFixture(t)
	ctx, t0 := f.ctx, f.t0
	epochs := func() (int64, int64) {
		t.Helper()
		ea, err := f.a.AuthEpoch(ctx)
		f.must(err)
		eb, err := f.b.AuthEpoch(ctx)
		f.must(err)
		return ea, eb
	}
	step := func(what string, changes bool, write func() error) {
		t.Helper()
		a0, b0 := epochs()
		f.must(write())
		a1, b1 := epochs()
		if a1 != b1 {
			t.Errorf("%s: the handles read epochs %d and %d", what, a1, b1)
		}
		if (a1 != a0) != changes || (b1 != b0) != changes {
			t.Errorf("%s: epochs %d->%d and %d->%d, want a change: %v", what, a0, a1, b0, b1, changes)
		}
	}
	exec := func(q string, args ...any) func() error {
		return func() error { _, err := f.raw.ExecContext(ctx, q, args...); return err }
	}
	org := backup.Organization{ID: f.ids.New(t0), Name: "o", Created: t0}
	project := backup.Project{ID: f.ids.New(t0), OrgID: org.ID, Name: "p", Created: t0}
	cluster := backup.Cluster{ID: f.ids.New(t0), GroupID: project.ID, Name: "c", Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
		ReplicaSetName: "rs", Backup: backup.BackupLegacy, Created: t0}
	key := backup.APIKey{ID: f.ids.New(t0), OrgID: org.ID, PublicKey: "abcdefgh", Grants: []backup.Grant{
		{Role: backup.OrgMember}, {Role: backup.ProjectReadOnly, ProjectID: project.ID}}, Created: t0}
	saID := f.ids.New(t0)
	sa := backup.ServiceAccount{ClientID: "mdb_sa_id_" + saID.Hex(), OrgID: org.ID, Name: "sa",
		Grants: []backup.Grant{{Role: backup.OrgReadOnly}}, Created: t0}
	secret := backup.ServiceAccountSecret{ID: f.ids.New(t0), Hash: "$argon2id$x", Created: t0, Expires: t0.Add(time.Hour)}

	step("creating an organization", true, func() error { return f.a.CreateOrganization(ctx, org) })
	step("creating a project", false, func() error { return f.b.CreateProject(ctx, project) })
	step("creating a cluster", false, func() error { return f.b.CreateCluster(ctx, cluster) })
	step("adding a checkpoint", false, func() error {
		return f.a.AddCheckpoint(ctx, backup.Checkpoint{ID: f.ids.New(t0), ClusterID: cluster.ID, GroupID: project.ID, Started: t0, Timestamp: t0})
	})
	step("creating an API key", true, func() error { return f.a.CreateAPIKey(ctx, key, ha1Of("a")) })
	step("a failed create", false, func() error {
		dup := key
		dup.ID = f.ids.New(t0)
		if err := f.b.CreateAPIKey(ctx, dup, ha1Of("b")); !backup.IsCode(err, backup.CodeDuplicateAPIKey) {
			return fmt.Errorf("duplicate key: %v", err)
		}
		return nil
	})
	step("creating a service account", true, func() error { return f.b.CreateServiceAccount(ctx, sa, secret) })
	step("an API key changed by hand", true, exec(`UPDATE api_keys SET description = 'by hand' WHERE id = ?`, key.ID.Hex()))
	step("an organization renamed by hand", true, exec(`UPDATE organizations SET name = 'renamed' WHERE id = ?`, org.ID.Hex()))
	step("a service account changed by hand", true, exec(`UPDATE service_accounts SET name = 'renamed' WHERE client_id = ?`, sa.ClientID))
	step("a secret added by hand", true, exec(`INSERT INTO service_account_secrets (id, client_id, hash, created, expires) VALUES (?, ?, 'h', 0, 0)`,
		f.ids.New(t0).Hex(), sa.ClientID))
	step("a secret changed by hand", true, exec(`UPDATE service_account_secrets SET expires = 1 WHERE id = ?`, secret.ID.Hex()))
	step("a secret deleted by hand", true, exec(`DELETE FROM service_account_secrets WHERE id = ?`, secret.ID.Hex()))
	step("revoking a token", true, func() error { return f.b.RevokeToken(ctx, "jti-1", time.Now().Add(time.Hour)) })
	step("revoking it again", false, func() error { return f.a.RevokeToken(ctx, "jti-1", time.Now().Add(time.Minute)) })
	step("extending its revocation", true, func() error { return f.a.RevokeToken(ctx, "jti-1", time.Now().Add(2*time.Hour)) })
	step("a revocation deleted by hand", true, exec(`DELETE FROM revoked_tokens`))
	step("a shared secret", false, func() error {
		_, err := f.a.SharedSecret(ctx, "s", func() ([]byte, error) { return []byte("x"), nil })
		return err
	})
	step("deleting an API key", true, func() error { return f.b.DeleteAPIKey(ctx, key.ID) })
	step("deleting a service account", true, func() error { return f.a.DeleteServiceAccount(ctx, sa.ClientID) })
	step("deleting a cluster", false, func() error { return f.a.DeleteCluster(ctx, backup.ClusterRef{GroupID: project.ID, ID: cluster.ID}) })
	step("deleting a project no grant names", false, func() error { return f.b.DeleteProject(ctx, project.ID) })
	step("deleting an organization", true, func() error { return f.b.DeleteOrganization(ctx, org.ID) })
	step("an organization created by hand", true, exec(`INSERT INTO organizations (id, name, created) VALUES (?, 'o', 0)`, f.ids.New(t0).Hex()))
}

// TestSharedSecretProcesses asks for one secret from two handles on one
// file at once, each with its own generator: everyone gets the same bytes,
// and so does a handle opened later.
func TestSharedSecretProcesses(t *testing.T) {
	f := newAuthFixture(t)
	const callers = 8
	var wg sync.WaitGroup
	got := make([][]byte, callers)
	generated := make([][]byte, callers)
	errs := make([]error, callers)
	for i := range callers {
		db := []*sqlite.DB{f.a, f.b}[i%2]
		wg.Go(func() {
			got[i], errs[i] = db.SharedSecret(f.ctx, "token-signing", func() ([]byte, error) {
				b := make([]byte, 32)
				rand.Read(b)
				generated[i] = b
				return b, nil
			})
		})
	}
	wg.Wait()
	for i := range callers {
		f.must(errs[i])
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("caller %d got %x, caller 0 %x", i, got[i], got[0])
		}
	}
	first := false
	for _, g := range generated {
		first = first || bytes.Equal(g, got[0])
	}
	if !first {
		t.Fatal("the secret is none of the generated ones")
	}
	late := openHandle(t, f.path)
	again, err := late.SharedSecret(f.ctx, "token-signing", func() ([]byte, error) { return []byte("late"), nil })
	f.must(err)
	if !bytes.Equal(again, got[0]) {
		t.Fatalf("a handle opened later got %x", again)
	}
}

// TestRevocationsExpire checks that a revocation is forgotten once its
// token has expired: IsRevoked says so at once, and the next revoke
// deletes the row.
func TestRevocationsExpire(t *testing.T) {
	f := newAuthFixture(t)
	rows := func() int {
		t.Helper()
		var n int
		f.must(f.raw.QueryRowContext(f.ctx, `SELECT count(*) FROM revoked_tokens`).Scan(&n))
		return n
	}
	revoked := func(jti string) bool {
		t.Helper()
		r, err := f.a.IsRevoked(f.ctx, jti)
		f.must(err)
		return r
	}
	expiry := func(jti string) int64 {
		t.Helper()
		var e int64
		f.must(f.raw.QueryRowContext(f.ctx, `SELECT expires FROM revoked_tokens WHERE jti = ?`, jti).Scan(&e))
		return e
	}
	// Expiries are kept to the second, rounded up: the revocation lasts
	// at least as long as the token.
	ceil := func(t time.Time) int64 {
		if t.Nanosecond() != 0 {
			return t.Unix() + 1
		}
		return t.Unix()
	}
	now := time.Now()
	f.must(f.a.RevokeToken(f.ctx, "expired", now.Add(-time.Minute)))
	if revoked("expired") {
		t.Fatal("an expired token's revocation is reported")
	}
	if n := rows(); n != 1 {
		t.Fatalf("%d rows, want the one just written", n)
	}
	f.must(f.b.RevokeToken(f.ctx, "live", now.Add(time.Hour)))
	if n := rows(); n != 1 {
		t.Fatalf("%d rows after a revoke, want 1 (the expired one deleted)", n)
	}
	if !revoked("live") || revoked("expired") {
		t.Fatal("wrong revocations after the purge")
	}
	// Revoking again extends a revocation, never shortens it.
	f.must(f.a.RevokeToken(f.ctx, "live", now.Add(2*time.Hour)))
	if got, want := expiry("live"), ceil(now.Add(2*time.Hour)); got != want {
		t.Fatalf("extended expiry %d, want %d", got, want)
	}
	f.must(f.a.RevokeToken(f.ctx, "live", now.Add(time.Minute)))
	if got, want := expiry("live"), ceil(now.Add(2*time.Hour)); got != want {
		t.Fatalf("expiry after a shorter revoke %d, want %d", got, want)
	}
	edge := time.Unix(now.Unix()+3600, 1)
	f.must(f.a.RevokeToken(f.ctx, "edge", edge))
	if stored := expiry("edge"); stored != edge.Unix()+1 {
		t.Fatalf("expiry stored as %d, want %d", stored, edge.Unix()+1)
	}
	if err := f.a.RevokeToken(f.ctx, "", now.Add(time.Hour)); backup.KindOf(err) != backup.Invalid {
		t.Fatalf("revoking an empty id: %v", err)
	}
}

// TestServiceAccountSecretsOrder adds secrets by hand, as a rotation
// would, and reads them newest first.
func TestServiceAccountSecretsOrder(t *testing.T) {
	f := newAuthFixture(t)
	t0 := f.t0
	org := backup.Organization{ID: f.ids.New(t0), Name: "o", Created: t0}
	f.must(f.a.CreateOrganization(f.ctx, org))
	sa := backup.ServiceAccount{ClientID: "mdb_sa_id_" + f.ids.New(t0).Hex(), OrgID: org.ID, Name: "sa",
		Grants: []backup.Grant{{Role: backup.OrgOwner}}, Created: t0}
	first := backup.ServiceAccountSecret{ID: f.ids.New(t0), Hash: "h4", Created: t0.Add(4 * time.Hour), Expires: t0.Add(100 * time.Hour)}
	f.must(f.a.CreateServiceAccount(f.ctx, sa, first))
	for _, h := range []int{10, 1} {
		created := t0.Add(time.Duration(h) * time.Hour)
		if _, err := f.raw.ExecContext(f.ctx, `INSERT INTO service_account_secrets (id, client_id, hash, created, expires) VALUES (?, ?, ?, ?, ?)`,
			f.ids.New(created).Hex(), sa.ClientID, fmt.Sprint("h", h), created.Unix(), created.Add(100*time.Hour).Unix()); err != nil {
			t.Fatal(err)
		}
	}
	_, secrets, err := f.b.ServiceAccount(f.ctx, sa.ClientID)
	f.must(err)
	var hashes []string
	for _, s := range secrets {
		hashes = append(hashes, s.Hash)
	}
	if strings.Join(hashes, ",") != "h10,h4,h1" {
		t.Fatalf("secrets in order %v, want newest first", hashes)
	}
	// Deleting the account deletes them all, whatever wrote them.
	f.must(f.b.DeleteServiceAccount(f.ctx, sa.ClientID))
	var n int
	f.must(f.raw.QueryRowContext(f.ctx, `SELECT count(*) FROM service_account_secrets`).Scan(&n))
	if n != 0 {
		t.Fatalf("%d secrets left after deleting their account", n)
	}
}

// TestCredentialValidation covers what the store refuses beyond the
// domain's Validate: HA1s that are not what Digest needs, and access list
// entries that would not read back.
func TestCredentialValidation(t *testing.T) {
	f := newAuthFixture(t)
	t0 := f.t0
	org := backup.Organization{ID: f.ids.New(t0), Name: "o", Created: t0}
	f.must(f.a.CreateOrganization(f.ctx, org))
	key := func() backup.APIKey {
		return backup.APIKey{ID: f.ids.New(t0), OrgID: org.ID, PublicKey: "validkey", Grants: []backup.Grant{{Role: backup.OrgOwner}}, Created: t0}
	}
	for name, ha1 := range map[string]backup.DigestHA1{
		"none":              {},
		"uppercase":         {MD5: strings.Repeat("A", 32), SHA256: strings.Repeat("a", 64)},
		"short":             {MD5: "abc", SHA256: strings.Repeat("a", 64)},
		"sha256 as md5":     {MD5: strings.Repeat("a", 64)},
		"not hex":           {MD5: strings.Repeat("g", 32)},
		"sha256 too long":   {SHA256: strings.Repeat("a", 65)},
		"md5 in sha256 too": {SHA256: strings.Repeat("a", 32)},
	} {
		if err := f.a.CreateAPIKey(f.ctx, key(), ha1); err == nil || backup.ErrorOf(err) != nil {
			t.Errorf("HA1 %s: %v, want an internal error", name, err)
		}
	}
	// One algorithm is enough.
	for publicKey, ha1 := range map[string]backup.DigestHA1{
		"onlymdfv": {MD5: strings.Repeat("0", 32)},
		"onlyshaa": {SHA256: strings.Repeat("f", 64)},
	} {
		k := key()
		k.PublicKey = publicKey
		f.must(f.a.CreateAPIKey(f.ctx, k, ha1))
	}
	k := key()
	k.AccessList = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), {}}
	if err := f.a.CreateAPIKey(f.ctx, k, ha1Of("a")); backup.KindOf(err) != backup.Invalid {
		t.Errorf("an invalid access list entry: %v, want Invalid", err)
	}
	// Unmasked prefixes and IPv4-mapped addresses read back as written.
	k = key()
	k.AccessList = []netip.Prefix{netip.MustParsePrefix("10.1.2.3/8"), netip.MustParsePrefix("::ffff:192.0.2.1/128")}
	f.must(f.a.CreateAPIKey(f.ctx, k, ha1Of("a")))
	got, _, err := f.b.APIKey(f.ctx, k.PublicKey)
	f.must(err)
	if len(got.AccessList) != 2 || got.AccessList[0] != k.AccessList[0] || got.AccessList[1] != k.AccessList[1] {
		t.Fatalf("access list %v, want %v", got.AccessList, k.AccessList)
	}
	// The stored JSON has its own shapes.
	var grants, list string
	f.must(f.raw.QueryRowContext(f.ctx, `SELECT grants, access_list FROM api_keys WHERE id = ?`, k.ID.Hex()).Scan(&grants, &list))
	if grants != `[{"role":"ORG_OWNER"}]` || list != `["10.1.2.3/8","::ffff:192.0.2.1/128"]` {
		t.Fatalf("stored grants %s, access list %s", grants, list)
	}
}
