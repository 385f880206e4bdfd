package oauth

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewClientCredentials(t *testing.T) {
	idRE := regexp.MustCompile(`^mdb_sa_id_[a-fA-F\d]{24}$`) // the API spec's pattern
	skRE := regexp.MustCompile(`^mdb_sa_sk_[A-Za-z0-9_-]{40}$`)
	seen := map[string]bool{}
	for range 200 {
		id, sk := NewClientID(), NewClientSecret()
		if !idRE.MatchString(id) || !ValidClientID(id) {
			t.Fatalf("bad id %q", id)
		}
		if !skRE.MatchString(sk) || !ValidClientSecret(sk) {
			t.Fatalf("bad secret %q", sk)
		}
		if seen[id] || seen[sk] {
			t.Fatal("repeated credential")
		}
		seen[id], seen[sk] = true, true
	}
}

func TestValidClientID(t *testing.T) {
	for _, tt := range []struct {
		s  string
		ok bool
	}{
		{"mdb_sa_id_0123456789abcdef01234567", true},
		{"mdb_sa_id_0123456789ABCDEF01234567", true},
		{"mdb_sa_id_0123456789abcdef0123456", false},   // short
		{"mdb_sa_id_0123456789abcdef012345678", false}, // long
		{"mdb_sa_id_0123456789abcdef0123456g", false},
		{"mdb_sa_sk_0123456789abcdef01234567", false},
		{"MDB_SA_ID_0123456789abcdef01234567", false},
		{"", false},
	} {
		if got := ValidClientID(tt.s); got != tt.ok {
			t.Errorf("ValidClientID(%q) = %v", tt.s, got)
		}
	}
}

func TestValidClientSecret(t *testing.T) {
	good := "mdb_sa_sk_" + strings.Repeat("aZ9_-", 8)
	for _, tt := range []struct {
		s  string
		ok bool
	}{
		{good, true},
		{good[:len(good)-1], false},
		{good + "a", false},
		{good[:len(good)-1] + "=", false},
		{good[:len(good)-1] + "+", false},
		{good[:len(good)-1] + "/", false},
		{"mdb_sa_id_" + good[10:], false},
		{"", false},
	} {
		if got := ValidClientSecret(tt.s); got != tt.ok {
			t.Errorf("ValidClientSecret(%q) = %v", tt.s, got)
		}
	}
}
