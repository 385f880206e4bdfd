package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// TestServePostgres runs serve --demo on a PostgreSQL schema of its own
// and tries every URL it prints, then starts a second server on the same
// database, as a deployment behind a load balancer would, and checks that
// each server sees what the other wrote: the second finds the demo data
// set, and the first refuses the demo key the second replaced (within the
// servers' --auth-refresh).
// It needs CHECKPOINTD_TEST_POSTGRES (see pgtest).
func TestServePostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	first, base1 := startServe(t, noEnv, "--demo", "--database", dsn)
	if !strings.Contains(first, "demo data set created") {
		t.Fatalf("first server:\n%s", first)
	}
	urls := curlURL.FindAllStringSubmatch(first, -1)
	if len(urls) != 3*3*2 {
		t.Fatalf("printed %d curl commands, want 18:\n%s", len(urls), first)
	}
	get := func(client *http.Client, url, accept string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if accept != "" {
			k, v, _ := strings.Cut(accept, ": ")
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	client1 := demoClient(t, first)
	for _, m := range urls {
		if code, body := get(client1, m[5], m[4]); code != 200 || !strings.HasPrefix(body, "{\n  \"") {
			t.Errorf("GET %s: %d %.200s", m[5], code, body)
		}
	}
	if code, body := get(http.DefaultClient, base1+"/readyz", ""); code != 200 {
		t.Errorf("GET /readyz: %d %s", code, body)
	}

	second, base2 := startServe(t, noEnv, "--demo", "--database", dsn)
	if !strings.Contains(second, "demo data set already present") {
		t.Fatalf("second server:\n%s", second)
	}
	client2 := demoClient(t, second)
	for _, tt := range []struct {
		name   string
		client *http.Client
		base   string
		want   int
	}{
		{"the first key on the first server", client1, base1, 401},
		{"the second key on the first server", client2, base1, 200},
		{"the first key on the second server", client1, base2, 401},
		{"the second key on the second server", client2, base2, 200},
	} {
		// A server trusts the credentials it has checked for up to
		// --auth-refresh (default auth.DefaultRefresh) before it reads the
		// store's auth epoch again.
		deadline := time.Now().Add(5 * time.Second)
		for {
			code, body := get(tt.client, tt.base+"/api/atlas/v1.0/groups", "")
			if code == tt.want {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: %d, want %d: %.200s", tt.name, code, tt.want, body)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// The admin commands work on the same database.
	out := mustAdmin(t, dsn, "orgs", "list")
	if !strings.Contains(out, "5e2211c17a3e5a48f5497de0") {
		t.Errorf("orgs list on the servers' database:\n%s", out)
	}
}
