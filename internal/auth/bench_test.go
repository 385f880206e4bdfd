package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// BenchmarkAuthenticate is the cost of authentication alone, per request,
// with a real SQLite store (the auth epoch read included).
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b)
	pub, priv := e.key(e.org(), orgRole(backup.OrgReadOnly))
	id, secret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	path := e.v2()

	digestLoop := func(b *testing.B) {
		hs := e.digestHeaders(b, pub, priv, path)
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = "127.0.0.1:1234"
		b.ReportAllocs()
		for b.Loop() {
			r.Header["Authorization"] = hs.next(b)
			if _, err := e.auth.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("digest-nonce-reuse", digestLoop)
	b.Run("bearer", func(b *testing.B) {
		r := newRequest(path, "Bearer "+e.token(id, secret)).r
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.auth.Authenticate(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	// As one of several instances on the data set: the nonces are shared,
	// so every request spends its count in the store (one insert), and
	// the rate limit is this instance's share.
	b.Run("digest-nonce-reuse-shared", func(b *testing.B) {
		e.auth.SetInstances(3)
		defer e.auth.SetInstances(1)
		digestLoop(b)
	})
}

// BenchmarkServe is one get-checkpoint request through the whole API
// handler (no network), without authentication and with each kind of
// credential, so that the difference is what authentication adds to a
// request. The digest client reuses its nonce with a growing nc, as a
// client that wants to avoid the second round trip does.
func BenchmarkServe(b *testing.B) {
	e := newEnv(b)
	pub, priv := e.key(e.org(), orgRole(backup.OrgReadOnly))
	id, secret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	path := e.v2() + "/" + e.ds.Sample["Cluster0"].Hex()
	open := httpapi.New(httpapi.Config{}, e.db)
	authed := httpapi.New(httpapi.Config{Auth: e.auth}, e.db)
	// As serve runs by default: the auth epoch is read at most every
	// auth.DefaultRefresh (the test clock stands still, so here never
	// after the first request: the cost amortised over a busy second).
	refreshing, err := auth.New(context.Background(), auth.Config{Store: e.db, Clock: e.clk, Refresh: auth.DefaultRefresh})
	if err != nil {
		b.Fatal(err)
	}
	cached := httpapi.New(httpapi.Config{Auth: refreshing}, e.db)

	run := func(b *testing.B, h http.Handler, authz func() []string) {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = "127.0.0.1:1234"
		r.Header.Set("Accept", v2Accept)
		b.ReportAllocs()
		for b.Loop() {
			if authz != nil {
				r.Header["Authorization"] = authz()
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
		}
	}
	b.Run("no-auth", func(b *testing.B) { run(b, open, nil) })
	b.Run("digest-nonce-reuse", func(b *testing.B) {
		hs := e.digestHeaders(b, pub, priv, path)
		run(b, authed, func() []string { return hs.next(b) })
	})
	b.Run("bearer", func(b *testing.B) {
		h := []string{"Bearer " + e.token(id, secret)}
		run(b, authed, func() []string { return h })
	})
	b.Run("digest-nonce-reuse-refresh", func(b *testing.B) {
		hs := e.digestHeaders(b, pub, priv, path)
		run(b, cached, func() []string { return hs.next(b) })
	})
	b.Run("bearer-refresh", func(b *testing.B) {
		h := []string{"Bearer " + e.token(id, secret)}
		run(b, cached, func() []string { return h })
	})
}

// digestHeaders are Authorization headers made ahead, so that the client's
// hashing is not timed: per nonce, nc 1, 2, … as a client reusing it sends.
type digestHeaders struct {
	e                *env
	user, pass, path string
	hs               [][]string
	i                int
}

const headersPerNonce = 4096

func (e *env) digestHeaders(b *testing.B, user, pass, path string) *digestHeaders {
	d := &digestHeaders{e: e, user: user, pass: pass, path: path}
	d.fill()
	return d
}

func (d *digestHeaders) fill() {
	nonce := d.e.challenge()
	d.hs, d.i = d.hs[:0], 0
	for nc := 1; nc <= headersPerNonce; nc++ {
		d.hs = append(d.hs, []string{digestAuth("MD5", d.user, d.pass, "GET", d.path, nonce, nc)})
	}
}

func (d *digestHeaders) next(b *testing.B) []string {
	if d.i == len(d.hs) {
		b.StopTimer()
		d.fill()
		b.StartTimer()
	}
	d.i++
	return d.hs[d.i-1]
}
