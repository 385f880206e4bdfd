package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var profilesLine = regexp.MustCompile(`(?m)^profiles on (http://127\.0\.0\.1:\d+)/debug/pprof/$`)

// TestServePprof: with --pprof and --metrics-addr the profiler answers on
// the metrics listener (its index, a named profile, a short CPU profile),
// and the API's address answers its paths with the API's 404; without
// --pprof neither listener serves them.
func TestServePprof(t *testing.T) {
	paths := []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"}
	for _, tt := range []struct {
		name  string
		pprof bool
	}{{"on", true}, {"off", false}} {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--demo", "--database", filepath.Join(t.TempDir(), "demo.db"), "--metrics-addr", "127.0.0.1:0"}
			if tt.pprof {
				args = append(args, "--pprof")
			}
			printed, base, _ := startServeOn(t, nil, noEnv, args...)
			m := metricsLine.FindStringSubmatch(printed)
			if m == nil {
				t.Fatalf("no metrics line in:\n%s", printed)
			}
			metricsBase := strings.TrimSuffix(m[1], "/metrics")
			if p := profilesLine.FindStringSubmatch(printed); (p != nil) != tt.pprof || p != nil && p[1] != metricsBase {
				t.Errorf("profiles line %q with --pprof %v, metrics on %s:\n%s", p, tt.pprof, metricsBase, printed)
			}
			client := demoClient(t, printed)
			for _, path := range paths {
				res, err := http.Get(metricsBase + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if want := map[bool]int{true: 200, false: 404}[tt.pprof]; res.StatusCode != want {
					t.Errorf("metrics listener: GET %s: %d, want %d: %.200s", path, res.StatusCode, want, body)
				}
				if tt.pprof && path == "/debug/pprof/" && !strings.Contains(string(body), "goroutine") {
					t.Errorf("metrics listener: GET %s does not list the profiles: %.300s", path, body)
				}

				// On the API's address: the API's own 404, with the
				// caller's credentials (without them every path is
				// challenged first).
				res, err = client.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(res.Body)
				res.Body.Close()
				var e struct {
					Error     int    `json:"error"`
					ErrorCode string `json:"errorCode"`
				}
				if res.StatusCode != 404 || json.Unmarshal(body, &e) != nil || e.Error != 404 || e.ErrorCode != "RESOURCE_NOT_FOUND" ||
					res.Header.Get("X-Error-Code") != "RESOURCE_NOT_FOUND" {
					t.Errorf("API address: GET %s: %d %s, want the API's 404 RESOURCE_NOT_FOUND", path, res.StatusCode, body)
				}
			}
			if tt.pprof {
				// A CPU profile of one second: the write timeout leaves room for it.
				res, err := http.Get(metricsBase + "/debug/pprof/profile?seconds=1")
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || len(body) == 0 || res.Header.Get("Content-Type") != "application/octet-stream" {
					t.Errorf("GET /debug/pprof/profile?seconds=1: %d %s, %d bytes", res.StatusCode, res.Header.Get("Content-Type"), len(body))
				}
			}
		})
	}
}

// TestServePprofNeedsMetrics: --pprof without --metrics-addr is refused,
// naming the flag (the profiler is never served on the API's address),
// and --help tells of it.
func TestServePprofNeedsMetrics(t *testing.T) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--database", filepath.Join(t.TempDir(), "x.db"), "--pprof"}
	err := run(context.Background(), args, noEnv, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--pprof") || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("run(%q) = %v, want an error naming --pprof and --metrics-addr", args, err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"serve", "--help"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--pprof") || !strings.Contains(out.String(), "/debug/pprof/") {
		t.Errorf("serve --help does not tell of --pprof:\n%s", out.String())
	}
}
