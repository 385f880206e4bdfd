package storetest

import (
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// This file holds the suite's tests of credentials: API keys, service
// accounts, revoked tokens, the auth epoch and shared secrets.

// testHA1 is the HA1 pair of a made-up private key of publicKey.
func testHA1(publicKey string) backup.DigestHA1 {
	a := publicKey + ":checkpointd:not-a-real-private-key"
	return backup.DigestHA1{MD5: fmt.Sprintf("%x", md5.Sum([]byte(a))), SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(a)))}
}

func wantAPIKey(t testing.TB, got, want backup.APIKey) {
	t.Helper()
	if d := diffTime(got.Created, want.Created); d != "" {
		t.Fatalf("API key %s Created %s", want.PublicKey, d)
	}
	if got.ID != want.ID || got.OrgID != want.OrgID || got.PublicKey != want.PublicKey || got.Description != want.Description ||
		!equalGrants(got.Grants, want.Grants) || !equalPrefixes(got.AccessList, want.AccessList) {
		t.Fatalf("API key:\n got %+v\nwant %+v", got, want)
	}
}

func wantServiceAccount(t testing.TB, got, want backup.ServiceAccount) {
	t.Helper()
	if d := diffTime(got.Created, want.Created); d != "" {
		t.Fatalf("service account %s Created %s", want.ClientID, d)
	}
	if got.ClientID != want.ClientID || got.OrgID != want.OrgID || got.Name != want.Name || got.Description != want.Description ||
		!equalGrants(got.Grants, want.Grants) || !equalPrefixes(got.AccessList, want.AccessList) {
		t.Fatalf("service account:\n got %+v\nwant %+v", got, want)
	}
}

func wantSecrets(t testing.TB, got, want []backup.ServiceAccountSecret) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d secrets, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Hash != want[i].Hash ||
			diffTime(got[i].Created, want[i].Created) != "" || diffTime(got[i].Expires, want[i].Expires) != "" {
			t.Fatalf("secret %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

// equalGrants and equalPrefixes compare in order; nil and empty are equal.
func equalGrants(a, b []backup.Grant) bool { return len(a) == 0 && len(b) == 0 || slices.Equal(a, b) }

func equalPrefixes(a, b []netip.Prefix) bool { return len(a) == 0 && len(b) == 0 || slices.Equal(a, b) }

func testAPIKeys(t *testing.T, f *fixture) {
	other := f.newProject("other")
	k1 := f.keyOf(f.org.ID, "qwertyui", orgGrant(backup.OrgMember), projectGrant(backup.ProjectReadOnly, f.project.ID),
		projectGrant(backup.ProjectOwner, other.ID))
	k1.AccessList = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"),
		netip.MustParsePrefix("2001:db8::/32")}
	k2 := f.keyOf(f.org.ID, "asdfghjk", orgGrant(backup.OrgOwner))
	k2.Description = ""
	// Created in the other order than their ids'.
	f.must(f.s.CreateAPIKey(f.ctx, k2, testHA1(k2.PublicKey)))
	f.must(f.s.CreateAPIKey(f.ctx, k1, testHA1(k1.PublicKey)))
	for _, want := range []backup.APIKey{k1, k2} {
		got, ha1, err := f.s.APIKey(f.ctx, want.PublicKey)
		f.must(err)
		wantAPIKey(t, got, want)
		if ha1 != testHA1(want.PublicKey) {
			t.Fatalf("HA1 of %s: %+v", want.PublicKey, ha1)
		}
	}
	list, err := f.s.APIKeys(f.ctx, f.org.ID)
	f.must(err)
	if len(list) != 2 {
		t.Fatalf("%d keys listed, want 2", len(list))
	}
	wantAPIKey(t, list[0], k1)
	wantAPIKey(t, list[1], k2)

	// Another organization's keys are its own.
	otherOrg := f.newOrg("other org")
	none, err := f.s.APIKeys(f.ctx, otherOrg.ID)
	f.must(err)
	if len(none) != 0 {
		t.Fatalf("an organization without keys lists %d", len(none))
	}
	foreign := f.newProjectOf(otherOrg.ID, "foreign")
	k3 := f.keyOf(otherOrg.ID, "zxcvbnma", projectGrant(backup.ProjectReadOnly, foreign.ID))
	f.must(f.s.CreateAPIKey(f.ctx, k3, testHA1(k3.PublicKey)))
	if list, err = f.s.APIKeys(f.ctx, otherOrg.ID); err != nil || len(list) != 1 {
		t.Fatalf("other organization's keys: %d, %v", len(list), err)
	}
	wantAPIKey(t, list[0], k3)
	if list, err = f.s.APIKeys(f.ctx, f.org.ID); err != nil || len(list) != 2 {
		t.Fatalf("keys after another organization's: %d, %v", len(list), err)
	}

	f.must(f.s.DeleteAPIKey(f.ctx, k1.ID))
	_, _, err = f.s.APIKey(f.ctx, k1.PublicKey)
	wantErr(t, err, backup.NotFound, backup.CodeAPIKeyNotFound, "")
	wantErr(t, f.s.DeleteAPIKey(f.ctx, k1.ID), backup.NotFound, backup.CodeAPIKeyNotFound, "No API key with ID "+k1.ID.Hex()+" exists.")
	list, err = f.s.APIKeys(f.ctx, f.org.ID)
	f.must(err)
	if len(list) != 1 {
		t.Fatalf("%d keys after a delete, want 1", len(list))
	}
	wantAPIKey(t, list[0], k2)
	// The public key is free again.
	k4 := f.keyOf(f.org.ID, k1.PublicKey, orgGrant(backup.OrgReadOnly))
	f.must(f.s.CreateAPIKey(f.ctx, k4, testHA1("another private key")))
	got, ha1, err := f.s.APIKey(f.ctx, k1.PublicKey)
	f.must(err)
	wantAPIKey(t, got, k4)
	if ha1 != testHA1("another private key") {
		t.Fatal("the new key has the old key's HA1")
	}
}

func testAPIKeyErrors(t *testing.T, f *fixture) {
	otherOrg := f.newOrg("other org")
	foreign := f.newProjectOf(otherOrg.ID, "foreign")
	unknownOrg, unknownProject := f.ids.New(t0), f.ids.New(t0)
	existing := f.keyOf(f.org.ID, "existing", orgGrant(backup.OrgReadOnly))
	f.must(f.s.CreateAPIKey(f.ctx, existing, testHA1(existing.PublicKey)))
	cases := []struct {
		name         string
		change       func(k *backup.APIKey)
		kind         backup.Kind
		code, detail string
	}{
		{"malformed public key", func(k *backup.APIKey) { k.PublicKey = "ABCDEFGH" }, backup.Invalid, backup.CodeInvalidAttribute, ""},
		{"no id", func(k *backup.APIKey) { k.ID = backup.ObjectID{} }, backup.Invalid, backup.CodeInvalidAttribute, ""},
		{"no grants", func(k *backup.APIKey) { k.Grants = nil }, backup.Invalid, backup.CodeInvalidAttribute, ""},
		{"unknown role", func(k *backup.APIKey) { k.Grants = []backup.Grant{projectGrant("GROUP_SUPERUSER", f.project.ID)} },
			backup.Invalid, backup.CodeInvalidRole, ""},
		{"org role on a project", func(k *backup.APIKey) { k.Grants = []backup.Grant{projectGrant(backup.OrgOwner, f.project.ID)} },
			backup.Invalid, backup.CodeInvalidRole, ""},
		{"project role without a project", func(k *backup.APIKey) { k.Grants = []backup.Grant{orgGrant(backup.ProjectOwner)} },
			backup.Invalid, backup.CodeInvalidRole, ""},
		{"unknown organization", func(k *backup.APIKey) { k.OrgID = unknownOrg },
			backup.NotFound, backup.CodeOrgNotFound, "No organization with ID " + unknownOrg.Hex() + " exists."},
		{"unknown organization, grant on a project", func(k *backup.APIKey) {
			k.OrgID = unknownOrg
			k.Grants = []backup.Grant{projectGrant(backup.ProjectReadOnly, foreign.ID)}
		}, backup.NotFound, backup.CodeOrgNotFound, ""},
		{"grant on another organization's project", func(k *backup.APIKey) {
			k.Grants = []backup.Grant{orgGrant(backup.OrgMember), projectGrant(backup.ProjectReadOnly, f.project.ID), projectGrant(backup.ProjectReadOnly, foreign.ID)}
		}, backup.NotFound, backup.CodeGroupNotFound, "No group with ID " + foreign.ID.Hex() + " exists."},
		{"grant on an unknown project", func(k *backup.APIKey) { k.Grants = []backup.Grant{projectGrant(backup.ProjectOwner, unknownProject)} },
			backup.NotFound, backup.CodeGroupNotFound, "No group with ID " + unknownProject.Hex() + " exists."},
		{"taken public key", func(k *backup.APIKey) { k.PublicKey = existing.PublicKey }, backup.Conflict, backup.CodeDuplicateAPIKey, ""},
		{"taken id", func(k *backup.APIKey) { k.ID = existing.ID }, backup.Conflict, backup.CodeDuplicateAPIKey, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := f.keyOf(f.org.ID, "freshkey", orgGrant(backup.OrgReadOnly))
			c.change(&k)
			wantErr(t, f.s.CreateAPIKey(f.ctx, k, testHA1(k.PublicKey)), c.kind, c.code, c.detail)
			if k.PublicKey != existing.PublicKey {
				_, _, err := f.s.APIKey(f.ctx, k.PublicKey)
				wantErr(t, err, backup.NotFound, backup.CodeAPIKeyNotFound, "")
			}
		})
	}
	got, ha1, err := f.s.APIKey(f.ctx, existing.PublicKey)
	f.must(err)
	wantAPIKey(t, got, existing)
	if ha1 != testHA1(existing.PublicKey) {
		t.Fatal("a failed create changed an existing key's HA1")
	}
	list, err := f.s.APIKeys(f.ctx, f.org.ID)
	f.must(err)
	if len(list) != 1 {
		t.Fatalf("%d keys after failed creates, want 1", len(list))
	}

	_, err = f.s.APIKeys(f.ctx, unknownOrg)
	wantErr(t, err, backup.NotFound, backup.CodeOrgNotFound, "No organization with ID "+unknownOrg.Hex()+" exists.")
	_, _, err = f.s.APIKey(f.ctx, "nosuchky")
	wantErr(t, err, backup.NotFound, backup.CodeAPIKeyNotFound, "")
	unknownKey := f.ids.New(t0)
	wantErr(t, f.s.DeleteAPIKey(f.ctx, unknownKey), backup.NotFound, backup.CodeAPIKeyNotFound, "No API key with ID "+unknownKey.Hex()+" exists.")
}

func testServiceAccounts(t *testing.T, f *fixture) {
	sa1, s1 := f.accountOf(f.org.ID, orgGrant(backup.OrgReadOnly))
	sa1.AccessList = []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}
	sa2, s2 := f.accountOf(f.org.ID, orgGrant(backup.OrgMember), projectGrant(backup.ProjectReadOnly, f.project.ID))
	sa2.Description = ""
	s2.Expires = time.Time{} // one that does not expire
	f.must(f.s.CreateServiceAccount(f.ctx, sa2, s2))
	f.must(f.s.CreateServiceAccount(f.ctx, sa1, s1))
	for _, c := range []struct {
		sa     backup.ServiceAccount
		secret backup.ServiceAccountSecret
	}{{sa1, s1}, {sa2, s2}} {
		got, secrets, err := f.s.ServiceAccount(f.ctx, c.sa.ClientID)
		f.must(err)
		wantServiceAccount(t, got, c.sa)
		wantSecrets(t, secrets, []backup.ServiceAccountSecret{c.secret})
	}
	list, err := f.s.ServiceAccounts(f.ctx, f.org.ID)
	f.must(err)
	if len(list) != 2 {
		t.Fatalf("%d service accounts listed, want 2", len(list))
	}
	wantServiceAccount(t, list[0], sa1) // client ids in id order
	wantServiceAccount(t, list[1], sa2)
	otherOrg := f.newOrg("other org")
	none, err := f.s.ServiceAccounts(f.ctx, otherOrg.ID)
	f.must(err)
	if len(none) != 0 {
		t.Fatalf("an organization without service accounts lists %d", len(none))
	}

	f.must(f.s.DeleteServiceAccount(f.ctx, sa1.ClientID))
	_, _, err = f.s.ServiceAccount(f.ctx, sa1.ClientID)
	wantErr(t, err, backup.NotFound, backup.CodeServiceAccountNotFound, "No service account with client ID "+sa1.ClientID+" exists.")
	wantErr(t, f.s.DeleteServiceAccount(f.ctx, sa1.ClientID), backup.NotFound, backup.CodeServiceAccountNotFound,
		"No service account with client ID "+sa1.ClientID+" exists.")
	list, err = f.s.ServiceAccounts(f.ctx, f.org.ID)
	f.must(err)
	if len(list) != 1 {
		t.Fatalf("%d service accounts after a delete, want 1", len(list))
	}
	wantServiceAccount(t, list[0], sa2)
	// Created again, it has its new secret only: the old one went with it.
	s3 := f.secret(9)
	f.must(f.s.CreateServiceAccount(f.ctx, sa1, s3))
	_, secrets, err := f.s.ServiceAccount(f.ctx, sa1.ClientID)
	f.must(err)
	wantSecrets(t, secrets, []backup.ServiceAccountSecret{s3})
}

func testServiceAccountErrors(t *testing.T, f *fixture) {
	otherOrg := f.newOrg("other org")
	foreign := f.newProjectOf(otherOrg.ID, "foreign")
	unknownOrg := f.ids.New(t0)
	existing, existingSecret := f.accountOf(f.org.ID, orgGrant(backup.OrgReadOnly))
	f.must(f.s.CreateServiceAccount(f.ctx, existing, existingSecret))
	cases := []struct {
		name         string
		change       func(sa *backup.ServiceAccount, s *backup.ServiceAccountSecret)
		kind         backup.Kind
		code, detail string
	}{
		{"malformed client id", func(sa *backup.ServiceAccount, _ *backup.ServiceAccountSecret) { sa.ClientID = "mdb_sa_id_nothex" },
			backup.Invalid, backup.CodeInvalidAttribute, ""},
		{"no name", func(sa *backup.ServiceAccount, _ *backup.ServiceAccountSecret) { sa.Name = "" },
			backup.Invalid, backup.CodeInvalidAttribute, ""},
		{"no grants", func(sa *backup.ServiceAccount, _ *backup.ServiceAccountSecret) { sa.Grants = nil },
			backup.Invalid, backup.CodeInvalidAttribute, ""},
		{"org role on a project", func(sa *backup.ServiceAccount, _ *backup.ServiceAccountSecret) {
			sa.Grants = []backup.Grant{projectGrant(backup.OrgReadOnly, f.project.ID)}
		}, backup.Invalid, backup.CodeInvalidRole, ""},
		{"unknown organization", func(sa *backup.ServiceAccount, _ *backup.ServiceAccountSecret) { sa.OrgID = unknownOrg },
			backup.NotFound, backup.CodeOrgNotFound, "No organization with ID " + unknownOrg.Hex() + " exists."},
		{"grant on another organization's project", func(sa *backup.ServiceAccount, _ *backup.ServiceAccountSecret) {
			sa.Grants = []backup.Grant{projectGrant(backup.ProjectReadOnly, foreign.ID)}
		}, backup.NotFound, backup.CodeGroupNotFound, "No group with ID " + foreign.ID.Hex() + " exists."},
		{"taken client id", func(sa *backup.ServiceAccount, _ *backup.ServiceAccountSecret) { sa.ClientID = existing.ClientID },
			backup.Conflict, backup.CodeDuplicateClientID, ""},
		{"secret without an id", func(_ *backup.ServiceAccount, s *backup.ServiceAccountSecret) { s.ID = backup.ObjectID{} },
			backup.Invalid, backup.CodeInvalidAttribute, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sa, secret := f.accountOf(f.org.ID, orgGrant(backup.OrgOwner))
			c.change(&sa, &secret)
			wantErr(t, f.s.CreateServiceAccount(f.ctx, sa, secret), c.kind, c.code, c.detail)
			if sa.ClientID != existing.ClientID && backup.ValidClientID(sa.ClientID) {
				_, _, err := f.s.ServiceAccount(f.ctx, sa.ClientID)
				wantErr(t, err, backup.NotFound, backup.CodeServiceAccountNotFound, "")
			}
		})
	}
	// A secret id already taken stores nothing, the account included.
	sa, _ := f.accountOf(f.org.ID, orgGrant(backup.OrgOwner))
	if err := f.s.CreateServiceAccount(f.ctx, sa, existingSecret); backup.KindOf(err) != backup.Conflict {
		t.Fatalf("taken secret id: %v, want a Conflict", err)
	}
	_, _, err := f.s.ServiceAccount(f.ctx, sa.ClientID)
	wantErr(t, err, backup.NotFound, backup.CodeServiceAccountNotFound, "")

	got, secrets, err := f.s.ServiceAccount(f.ctx, existing.ClientID)
	f.must(err)
	wantServiceAccount(t, got, existing)
	wantSecrets(t, secrets, []backup.ServiceAccountSecret{existingSecret})
	list, err := f.s.ServiceAccounts(f.ctx, f.org.ID)
	f.must(err)
	if len(list) != 1 {
		t.Fatalf("%d service accounts after failed creates, want 1", len(list))
	}
	_, err = f.s.ServiceAccounts(f.ctx, unknownOrg)
	wantErr(t, err, backup.NotFound, backup.CodeOrgNotFound, "No organization with ID "+unknownOrg.Hex()+" exists.")
	_, _, err = f.s.ServiceAccount(f.ctx, "mdb_sa_id_000000000000000000000000")
	wantErr(t, err, backup.NotFound, backup.CodeServiceAccountNotFound, "")
	wantErr(t, f.s.DeleteServiceAccount(f.ctx, "mdb_sa_id_000000000000000000000000"), backup.NotFound, backup.CodeServiceAccountNotFound, "")
}

// testRevocations checks what the contract promises of revocations: a
// token revoked until a time to come is revoked, however often it is
// revoked and whatever else is revoked or expires meanwhile. (A store may
// forget a revocation once its expiry has passed: testRevocationExpiry.)
func testRevocations(t *testing.T, f *fixture) {
	now := f.clk.Now()
	revoked := func(jti string) bool {
		t.Helper()
		r, err := f.s.IsRevoked(f.ctx, jti)
		f.must(err)
		return r
	}
	if revoked("never-revoked") {
		t.Fatal("a token never revoked is revoked")
	}
	f.must(f.s.RevokeToken(f.ctx, "token-a", now.Add(time.Hour)))
	if !revoked("token-a") {
		t.Fatal("a revoked token is not revoked")
	}
	// Idempotent, with the same expiry or another.
	f.must(f.s.RevokeToken(f.ctx, "token-a", now.Add(time.Hour)))
	f.must(f.s.RevokeToken(f.ctx, "token-a", now.Add(time.Minute)))
	if !revoked("token-a") {
		t.Fatal("revoking again undid a revocation")
	}
	// A token that expired already, then more revocations: the ones to
	// come stay.
	f.must(f.s.RevokeToken(f.ctx, "token-expired", now.Add(-time.Hour)))
	var jtis []string
	for i := range 20 {
		jti := fmt.Sprintf("token-%02d", i)
		f.must(f.s.RevokeToken(f.ctx, jti, now.Add(time.Duration(i+1)*time.Minute)))
		jtis = append(jtis, jti)
	}
	for _, jti := range append(jtis, "token-a") {
		if !revoked(jti) {
			t.Fatalf("%s is not revoked", jti)
		}
	}
	if revoked("never-revoked") || revoked("") {
		t.Fatal("a token never revoked is revoked")
	}
}

// testRevocationExpiry: a revocation holds until its token's expiry on
// the store's clock, the expiry's second included, and is forgotten once
// that has passed (the token is then refused for its expiry anyway); a
// revocation for longer, or made again, is not.
func testRevocationExpiry(t *testing.T, f *fixture) {
	revoked := func(jti string) bool {
		t.Helper()
		r, err := f.s.IsRevoked(f.ctx, jti)
		f.must(err)
		return r
	}
	now := f.clk.Now()
	f.must(f.s.RevokeToken(f.ctx, "short", now.Add(time.Minute)))
	f.must(f.s.RevokeToken(f.ctx, "long", now.Add(time.Hour)))
	f.clk.Advance(time.Minute)
	if !revoked("short") || !revoked("long") {
		t.Fatal("a revocation ended before its token's expiry had passed")
	}
	f.clk.Advance(time.Second)
	if revoked("short") {
		t.Error("a revocation outlived its token's expiry")
	}
	if !revoked("long") {
		t.Error("a revocation ended with another one's expiry")
	}
	// Revoking prunes the expired revocations; one made again holds.
	f.must(f.s.RevokeToken(f.ctx, "short", f.clk.Now().Add(time.Minute)))
	if !revoked("short") || !revoked("long") {
		t.Error("a revocation made again after its expiry does not hold")
	}
	f.clk.Advance(time.Hour)
	if revoked("short") || revoked("long") {
		t.Error("revocations outlived their tokens' expiry")
	}
}

// testAuthEpoch checks that the auth epoch changes with every kind of
// write to credentials, and holds still between writes.
func testAuthEpoch(t *testing.T, f *fixture) {
	epoch := func() int64 {
		t.Helper()
		e, err := f.s.AuthEpoch(f.ctx)
		f.must(err)
		return e
	}
	last := epoch()
	if epoch() != last {
		t.Fatal("the auth epoch changed without a write")
	}
	step := func(what string, write func() error) {
		t.Helper()
		f.must(write())
		now := epoch()
		if now == last {
			t.Errorf("%s: the auth epoch stayed %d", what, now)
		}
		if again := epoch(); again != now {
			t.Errorf("after %s: the auth epoch moved from %d to %d without a write", what, now, again)
		}
		last = now
	}
	var org backup.Organization
	step("creating an organization", func() error {
		org = backup.Organization{ID: f.ids.New(t0), Name: "new", Created: t0}
		return f.s.CreateOrganization(f.ctx, org)
	})
	project := f.newProjectOf(org.ID, "p")
	last = epoch()
	key := f.keyOf(org.ID, "epochkey", orgGrant(backup.OrgMember), projectGrant(backup.ProjectReadOnly, project.ID))
	step("creating an API key", func() error { return f.s.CreateAPIKey(f.ctx, key, testHA1(key.PublicKey)) })
	sa, secret := f.accountOf(org.ID, projectGrant(backup.ProjectReadOnly, project.ID))
	step("creating a service account", func() error { return f.s.CreateServiceAccount(f.ctx, sa, secret) })
	step("revoking a token", func() error { return f.s.RevokeToken(f.ctx, "epoch-token", f.clk.Now().Add(time.Hour)) })
	step("deleting a project that grants name", func() error { return f.s.DeleteProject(f.ctx, project.ID) })
	step("deleting an API key", func() error { return f.s.DeleteAPIKey(f.ctx, key.ID) })
	step("deleting a service account", func() error { return f.s.DeleteServiceAccount(f.ctx, sa.ClientID) })
	other := f.keyOf(org.ID, "otherkey", orgGrant(backup.OrgOwner))
	step("creating another API key", func() error { return f.s.CreateAPIKey(f.ctx, other, testHA1(other.PublicKey)) })
	step("deleting an organization", func() error { return f.s.DeleteOrganization(f.ctx, org.ID) })
}

func testSharedSecret(t *testing.T, f *fixture) {
	gen := func(value string) func() ([]byte, error) {
		return func() ([]byte, error) { return []byte(value), nil }
	}
	get := func(name string, g func() ([]byte, error)) string {
		t.Helper()
		b, err := f.s.SharedSecret(f.ctx, name, g)
		f.must(err)
		return string(b)
	}
	if got := get("signing", gen("first")); got != "first" {
		t.Fatalf("new secret %q, want the generated one", got)
	}
	if got := get("signing", gen("second")); got != "first" {
		t.Fatalf("existing secret %q, want the first one", got)
	}
	if got := get("other", gen("other value")); got != "other value" {
		t.Fatalf("another name: %q", got)
	}
	// A failed generator stores nothing; the next one's bytes are kept.
	boom := errors.New("no entropy")
	if _, err := f.s.SharedSecret(f.ctx, "failing", func() ([]byte, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("failed generator: %v, want its error", err)
	}
	if got := get("failing", gen("third")); got != "third" {
		t.Fatalf("after a failed generator: %q", got)
	}
	// Callers own what they get.
	b, err := f.s.SharedSecret(f.ctx, "signing", gen("x"))
	f.must(err)
	b[0] = 'X'
	if got := get("signing", gen("x")); got != "first" {
		t.Fatalf("a caller's change reached the stored secret: %q", got)
	}
}
