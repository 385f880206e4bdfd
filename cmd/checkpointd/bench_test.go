package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// BenchmarkRequestPath is one request through the API as serve wires it,
// over SQLite with the demo data set and a service account's bearer
// token, in three configurations:
//
//   - shipped: serve's defaults: the rate limiter on (with a limit the
//     benchmark never reaches, as a busy caller within its limit) and the
//     request line written in the text format by serve's handler into the
//     log buffer (to io.Discard: the formatting counts, not the terminal);
//   - shipped-slog: the same, the request line written by slog's own text
//     handler, as serve did before requestLineHandler;
//   - limiter-only: the rate limiter on, the request line discarded;
//   - stripped: no rate limiter and the request line discarded, as the
//     in-process load test measures.
//
// Each for get-one (a cached checkpoint, its representation kept) and
// list-100 (a cached page of 100).
func BenchmarkRequestPath(b *testing.B) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Days: 7})
	if err != nil {
		b.Fatal(err)
	}
	sa, secret, err := admin.CreateServiceAccount(ctx, db, ds.Org.ID, "bench", "bench", []backup.Grant{{Role: backup.OrgReadOnly}}, nil, admin.MinSecretTTL, clock.System)
	if err != nil {
		b.Fatal(err)
	}

	type config struct {
		name   string
		limit  auth.Limit
		logger func(io.Writer) (*slog.Logger, func() error)
	}
	shippedLog := func(w io.Writer) (*slog.Logger, func() error) {
		buf := newLogBuffer(w)
		return slog.New(requestLineHandler{flushingHandler{slog.NewTextHandler(buf, nil), buf}, buf}), buf.Close
	}
	slogLog := func(w io.Writer) (*slog.Logger, func() error) {
		buf := newLogBuffer(w)
		return slog.New(flushingHandler{slog.NewTextHandler(buf, nil), buf}), buf.Close
	}
	noLog := func(io.Writer) (*slog.Logger, func() error) {
		return slog.New(slog.DiscardHandler), func() error { return nil }
	}
	never := auth.Limit{Requests: 1 << 30, Window: time.Minute}
	configs := []config{{"shipped", never, shippedLog}, {"shipped-slog", never, slogLog}, {"limiter-only", never, noLog}, {"stripped", auth.Limit{}, noLog}}

	base := "/api/atlas/v2/groups/" + ds.Project.ID.Hex() + "/clusters/Cluster0/backupCheckpoints"
	targets := []struct{ name, path string }{
		{"get-one", base + "/" + ds.Sample["Cluster0"].Hex()},
		{"list-100", base + "?itemsPerPage=100"},
	}
	for _, tg := range targets {
		for _, c := range configs {
			b.Run(tg.name+"/"+c.name, func(b *testing.B) {
				logger, closeLog := c.logger(io.Discard)
				defer closeLog()
				a, err := auth.New(ctx, auth.Config{Store: db, RateLimit: c.limit, TokenRateLimit: auth.Limit{}, Refresh: auth.DefaultRefresh, Logger: logger})
				if err != nil {
					b.Fatal(err)
				}
				api := httpapi.New(httpapi.Config{Logger: logger, Auth: a, OAuth: a}, db)
				authz := []string{"Bearer " + benchToken(b, api, sa.ClientID, secret)}
				r := httptest.NewRequest(http.MethodGet, tg.path, nil)
				r.RemoteAddr = "127.0.0.1:1234"
				r.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
				r.Header["Authorization"] = authz
				w := &discardWriter{h: http.Header{}}
				api.ServeHTTP(w, r)
				if w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
				b.SetBytes(int64(w.n))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					w.reset()
					api.ServeHTTP(w, r)
				}
			})
		}
	}
}

// benchToken mints an access token through the API's token endpoint.
func benchToken(b *testing.B, api http.Handler, id, secret string) string {
	r := httptest.NewRequest(http.MethodPost, "/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	r.SetBasicAuth(id, secret)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.RemoteAddr = "127.0.0.1:1234"
	w := httptest.NewRecorder()
	api.ServeHTTP(w, r)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &tok) != nil {
		b.Fatalf("token: %d %s", w.Code, w.Body)
	}
	return tok.AccessToken
}

// discardWriter is a ResponseWriter that keeps nothing, so that the
// benchmark measures the handler, not a recorder's buffering.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	w.n += len(p)
	return len(p), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}
