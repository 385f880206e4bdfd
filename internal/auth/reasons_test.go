package auth_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestRefusalReasons: every challenge says why it was sent, for the
// metrics, and a stale nonce is the only reason that makes it stale=true.
func TestRefusalReasons(t *testing.T) {
	e := newEnv(t)
	pub, priv := e.key(e.org(), orgRole(backup.OrgReadOnly))
	id, secret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	path := e.v2()
	digest := func(user, pass, nonce string, nc int) string {
		return digestAuth("MD5", user, pass, "GET", path, nonce, nc)
	}
	stale := e.challenge()
	expired := e.token(id, secret)
	revoked := e.token(id, secret)
	if err := e.db.RevokeToken(backup.WithPrincipal(context.Background(), backup.System), mustJTI(t, revoked), time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(61 * time.Second) // stale is now stale; the tokens are not yet expired
	replayed := e.challenge()
	if _, err := e.auth.Authenticate(newRequest(path, digest(pub, priv, replayed, 1)).r); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name   string
		header []string
		want   string
	}{
		{"no header", nil, auth.MissingCredentials},
		{"two headers", []string{digest(pub, priv, e.challenge(), 1), digest(pub, priv, e.challenge(), 1)}, auth.MalformedCredentials},
		{"unknown scheme", []string{"Negotiate abc"}, auth.MalformedCredentials},
		{"digest garbage", []string{"Digest a=b=c"}, auth.MalformedCredentials},
		{"wrong realm", []string{strings.Replace(digest(pub, priv, e.challenge(), 1), `realm="MMS Public API"`, `realm="Other"`, 1)}, auth.MalformedCredentials},
		{"wrong private key", []string{digest(pub, "00000000-0000-4000-8000-000000000000", e.challenge(), 1)}, auth.BadCredentials},
		{"unknown public key", []string{digest("zzzzzzzz", priv, e.challenge(), 1)}, auth.BadCredentials},
		{"forged nonce", []string{digest(pub, priv, "+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6", 1)}, auth.BadCredentials},
		{"stale nonce", []string{digest(pub, priv, stale, 1)}, auth.StaleNonce},
		{"stale nonce, wrong key", []string{digest(pub, "wrong", stale, 1)}, auth.BadCredentials},
		{"replayed nc", []string{digest(pub, priv, replayed, 1)}, auth.ReplayedNonce},
		{"bearer junk", []string{"Bearer !!!"}, auth.MalformedCredentials},
		{"bearer not a jwt", []string{"Bearer abc.def.ghi"}, auth.BadCredentials},
		{"revoked token", []string{"Bearer " + revoked}, auth.RevokedToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", path, nil)
			r.RemoteAddr = "127.0.0.1:1234"
			for _, h := range tt.header {
				r.Header.Add("Authorization", h)
			}
			_, err := e.auth.Authenticate(r)
			var u *auth.Unauthorized
			if !errors.As(err, &u) {
				t.Fatalf("Authenticate: %v, want a challenge", err)
			}
			if u.Reason != tt.want {
				t.Errorf("reason %q, want %q", u.Reason, tt.want)
			}
			if got := strings.Contains(u.Challenges[0], "stale=true"); got != (tt.want == auth.StaleNonce) {
				t.Errorf("challenge %q for reason %s", u.Challenges[0], u.Reason)
			}
		})
	}

	t.Run("expired token", func(t *testing.T) {
		e.clk.Advance(2 * time.Hour)
		_, err := e.auth.Authenticate(newRequest(path, "Bearer "+expired).r)
		var u *auth.Unauthorized
		if !errors.As(err, &u) || u.Reason != auth.ExpiredToken {
			t.Errorf("Authenticate: %v (%+v), want reason %s", err, u, auth.ExpiredToken)
		}
	})
}

// TestReasonsCounted: the metrics count every reason a challenge gives
// under its own name; httpapi lists them first among its reasons, in the
// same order.
func TestReasonsCounted(t *testing.T) {
	if n := len(auth.Reasons); !slices.Equal(httpapi.AuthFailureReasons[:n], auth.Reasons) {
		t.Errorf("httpapi.AuthFailureReasons %q does not begin with auth.Reasons %q", httpapi.AuthFailureReasons, auth.Reasons)
	}
}
