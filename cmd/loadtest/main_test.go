package main

import (
	"context"
	"strings"
	"testing"
)

// TestRunBuiltin runs the in-process load test briefly with the built-in
// generator: seeding, the servers, every target and the report, with
// each kind of credentials. Every answer must be a 200: with credentials,
// that is the authenticated servers accepting them on every request.
func TestRunBuiltin(t *testing.T) {
	for _, tc := range []struct {
		auth     []string
		duration string
		want     []string
		dontWant []string
	}{
		{nil, "300ms", // the default: bearer
			[]string{"auth: bearer: service account mdb_sa_id_", "| get-one |", "| get-one, no auth |", "| list-100, no auth |", "with bearer vs no auth: get-one requests/s",
				"| get-one, bearer, built-in generator |", "| get-one, digest, built-in generator | ", "digest (nonce reuse) vs bearer, built-in generator: get-one requests/s"},
			nil},
		{[]string{"-auth", "none"}, "100ms", nil,
			[]string{"no auth", "built-in generator"}},
		{[]string{"-auth", "digest"}, "100ms",
			[]string{"auth: digest: API key", "| list-100, no auth |", "with digest vs no auth: get-one requests/s"},
			[]string{"built-in generator"}},
	} {
		name := "bearer"
		if tc.auth != nil {
			name = tc.auth[1]
		}
		t.Run(name, func(t *testing.T) {
			var out strings.Builder
			args := append([]string{"-inprocess", "-duration", tc.duration, "-small", "250", "-big", "0", "-generator", "builtin", "-connections", "2", "-dir", t.TempDir()}, tc.auth...)
			results, err := load(context.Background(), args, &out)
			if err != nil {
				t.Fatalf("load: %v\n%s", err, out.String())
			}
			want := append([]string{"| get-one |", "| list-100 |", "ceiling get-one", "list-100, 250 in store, last page, store cache off", "response sizes: get-one"}, tc.want...)
			for _, w := range want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.dontWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("report has %q:\n%s", w, out.String())
				}
			}
			for _, r := range results {
				if r.requests == 0 || len(r.statuses) != 1 || r.statuses[200] != r.requests {
					t.Errorf("%s: %d requests, by status %v; want all 200", r.name, r.requests, r.statuses)
				}
			}
		})
	}
}

func TestParseWrk(t *testing.T) {
	out := `Running 1s test @ http://127.0.0.1:1/
  Latency Distribution
     50%  520.00us
     75%    1.20ms
     90%    2.00ms
     99%    7.02ms
  15000 requests in 1.00s, 10.00MB read
Requests/sec:  39211.45
Transfer/sec:     10.00MB
`
	r, err := parseWrk(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.rps != 39211.45 || r.p99.String() != "7.02ms" {
		t.Errorf("parseWrk = %+v", r)
	}
	if _, err := parseWrk(out + "  Non-2xx or 3xx responses: 12\n"); err == nil {
		t.Error("errors reported by wrk were not refused")
	}
}

// TestSoak runs the soak briefly: checkpointd serve --demo as a process
// of its own (built here), both kinds of credentials, the engine writing,
// memory sampled, and no answer but 2xx.
func TestSoak(t *testing.T) {
	var out strings.Builder
	args := []string{"-soak", "3s", "-soak-sample", "1s", "-connections", "2", "-dir", t.TempDir()}
	if _, err := load(context.Background(), args, &out); err != nil {
		t.Fatalf("soak: %v\n%s", err, out.String())
	}
	for _, w := range []string{"half bearer, half digest", "errors (any answer not 2xx, or no answer): 0", "latency: p50 ",
		"RSS, median: start (t=", "GC heap goal, median: start (t=", "Go heap in use, median: start (t=", "engine: "} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, out.String())
		}
	}
	if _, err := load(context.Background(), []string{"-soak", "1h", "-soak-speed", "1700"}, &out); err == nil || !strings.Contains(err.Error(), "lower -soak-speed") {
		t.Errorf("a soak longer than the demo keeps its checkpoints: %v", err)
	}
}
