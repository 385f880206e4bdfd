package main

import (
	"bytes"
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
// token, in four configurations:
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
// list-100 (a cached page of 100), once from one goroutine and once from
// every core at once (parallel), where the path's locks and shared
// counters meet.
func BenchmarkRequestPath(b *testing.B) {
	benchRequestPath(b, false)
}

// BenchmarkRequestPathHTTP is BenchmarkRequestPath's shipped and stripped
// configurations served by net/http over an in-memory connection
// (serveOverConn), beside the ceiling: a handler writing the bytes and
// headers the API answered, as the load test's ceiling does. What
// net/http does per request (reading it, cloning the header map, writing
// the response) is in every figure; the difference between a
// configuration and the ceiling is what checkpointd adds.
func BenchmarkRequestPathHTTP(b *testing.B) {
	benchRequestPath(b, true)
}

func benchRequestPath(b *testing.B, overHTTP bool) {
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
	if overHTTP {
		configs = []config{{"shipped", never, shippedLog}, {"stripped", auth.Limit{}, noLog}}
	}

	base := "/api/atlas/v2/groups/" + ds.Project.ID.Hex() + "/clusters/Cluster0/backupCheckpoints"
	targets := []struct{ name, path string }{
		{"get-one", base + "/" + ds.Sample["Cluster0"].Hex()},
		{"list-100", base + "?itemsPerPage=100"},
	}
	for _, tg := range targets {
		var ceiling http.Handler // from the first configuration's answer
		for _, c := range configs {
			logger, closeLog := c.logger(io.Discard)
			a, err := auth.New(ctx, auth.Config{Store: db, RateLimit: c.limit, TokenRateLimit: auth.Limit{}, Refresh: auth.DefaultRefresh, Logger: logger})
			if err != nil {
				b.Fatal(err)
			}
			api := httpapi.New(httpapi.Config{Logger: logger, Auth: a, OAuth: a}, db)
			authz := "Bearer " + benchToken(b, api, sa.ClientID, secret)
			r := httptest.NewRequest(http.MethodGet, tg.path, nil)
			r.RemoteAddr = "127.0.0.1:1234"
			r.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
			r.Header["Authorization"] = []string{authz}
			if !overHTTP {
				b.Run(tg.name+"/"+c.name, func(b *testing.B) {
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
				b.Run(tg.name+"/"+c.name+"/parallel", func(b *testing.B) {
					b.ReportAllocs()
					b.RunParallel(func(pb *testing.PB) {
						w := &discardWriter{h: http.Header{}}
						for pb.Next() {
							w.reset()
							api.ServeHTTP(w, r)
						}
					})
				})
				closeLog()
				continue
			}
			// As wrk sends it: Host, the two headers, keep-alive.
			raw := []byte("GET " + tg.path + " HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" +
				"Accept: application/vnd.atlas.2023-01-01+json\r\nAuthorization: " + authz + "\r\n\r\n")
			if ceiling == nil {
				rec := httptest.NewRecorder()
				api.ServeHTTP(rec, r)
				if rec.Code != 200 {
					b.Fatalf("status %d", rec.Code)
				}
				ceiling = ceilingOf(rec.Header(), rec.Body.Bytes())
			}
			b.Run(tg.name+"/"+c.name, func(b *testing.B) { serveOverConn(b, api, raw) })
			closeLog()
			if c.name == configs[len(configs)-1].name {
				b.Run(tg.name+"/ceiling", func(b *testing.B) { serveOverConn(b, ceiling, raw) })
			}
		}
	}
}

// ceilingOf is a handler answering every request with hdr (but Date)
// and body, as the load test's ceiling answers a captured request.
func ceilingOf(hdr http.Header, body []byte) http.Handler {
	hdr = hdr.Clone()
	hdr.Del("Date")
	body = bytes.Clone(body)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range hdr {
			h[k] = v
		}
		_, _ = w.Write(body)
	})
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
