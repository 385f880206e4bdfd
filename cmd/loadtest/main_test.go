package main

import (
	"context"
	"strings"
	"testing"
)

// TestRunBuiltin runs the whole load test briefly with the built-in
// generator: seeding, both servers, every target and the report.
func TestRunBuiltin(t *testing.T) {
	var out strings.Builder
	args := []string{"-duration", "300ms", "-small", "250", "-big", "0", "-generator", "builtin", "-connections", "2", "-dir", t.TempDir()}
	if err := run(context.Background(), args, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"| get-one |", "| list-100 |", "ceiling get-one", "list-100, 250 in store, last page, store cache off", "response sizes: get-one"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
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
