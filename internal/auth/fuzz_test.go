package auth_test

import (
	"errors"
	"github.com/checkpointd/checkpointd/internal/auth"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// FuzzAuthenticate sends any Authorization header (and X-Forwarded-For) to
// the whole authenticator over a real store: it must never panic or fail
// internally, and must let a request through only with the key's genuine
// credentials.
func FuzzAuthenticate(f *testing.F) {
	e := newEnv(f, func(c *auth.Config) { c.TrustForwardedFor = true })
	pub, priv := e.key(e.org(), orgRole(backup.OrgReadOnly), "192.0.2.0/24")
	nonce := e.challenge()
	good := digestAuth("MD5", pub, priv, "GET", e.v2(), nonce, 1)
	for _, s := range []string{good, "Bearer abc.def.ghi", "Basic YTpi", "Digest ", "", "Digest username=\"\\\"\"",
		digestAuth("SHA-256", pub, priv, "GET", e.v2(), nonce, 2), digestAuth("MD5", pub, "x", "GET", e.v2(), nonce, 3)} {
		f.Add(s, "192.0.2.1")
	}
	f.Fuzz(func(t *testing.T, authz, xff string) {
		r := newRequest(e.v2(), authz).r
		r.Header.Set("X-Forwarded-For", xff)
		p, err := e.auth.Authenticate(r)
		var u *auth.Unauthorized
		switch {
		case err == nil:
			if p == nil || p.ID != pub {
				t.Fatalf("authenticated %v with %q", p, authz)
			}
		case errors.As(err, &u):
			if len(u.Challenges) == 0 {
				t.Fatal("401 without a challenge")
			}
		case backup.IsCode(err, backup.CodeIPNotOnAccessList):
		default:
			t.Fatalf("%q: %v", authz, err)
		}
	})
}
