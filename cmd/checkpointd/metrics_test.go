package main

import (
	"context"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	digest "github.com/mongodb-forks/digest"

	"github.com/checkpointd/checkpointd/internal/clock"
)

var metricsLine = regexp.MustCompile(`(?m)^metrics on (http://127\.0\.0\.1:\d+/metrics)$`)

// series is one sample of a scrape: its name, labels and value.
type series struct {
	name   string
	labels map[string]string
	value  float64
}

var labelPair = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// parseExposition reads the samples of the Prometheus text format.
func parseExposition(t *testing.T, text string) []series {
	t.Helper()
	var out []series
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		s := series{name: line[:i], labels: map[string]string{}, value: v}
		if j := strings.IndexByte(line[:i], '{'); j >= 0 {
			s.name = line[:j]
			for _, m := range labelPair.FindAllStringSubmatch(line[j:i], -1) {
				s.labels[m[1]] = m[2]
			}
		}
		out = append(out, s)
	}
	return out
}

// sum adds the samples of a name whose labels include want.
func sum(ss []series, name string, want map[string]string) (total float64, n int) {
	for _, s := range ss {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range want {
			match = match && s.labels[k] == v
		}
		if match {
			total += s.value
			n++
		}
	}
	return total, n
}

// TestServeMetrics runs serve --demo with --metrics-addr, its clusters on
// a virtual clock that ends just before the wall clock's now so that they
// take a slot or two: the metrics listener, found from what serve prints,
// serves without credentials the request counter (an authenticated
// request, two refused), the auth failures by reason, the engine's slots
// and the age of each demo cluster's newest restorable checkpoint; the API
// port does not serve them.
func TestServeMetrics(t *testing.T) {
	start := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	clk := clock.NewVirtual(start)
	printed, base, logs := startServeOn(t, clk, noEnv, "--demo", "--database", filepath.Join(t.TempDir(), "demo.db"),
		"--metrics-addr", "127.0.0.1:0")
	m := metricsLine.FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("no metrics line in:\n%s", printed)
	}
	metricsURL := m[1]

	// Move the demo clusters on 18 minutes: every 18 minutes hold a slot
	// of Cluster0's 15-minute grid.
	end := start.Add(18 * time.Minute)
	guard, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if err := clk.BlockUntil(guard, 2); err != nil {
			t.Fatalf("the demo clusters do not all wait on the clock at %v; log:\n%s", clk.Now(), logs.String())
		}
		next, _ := clk.Next()
		if next.After(end) {
			break
		}
		clk.AdvanceTo(next)
	}

	groups := base + "/api/atlas/v1.0/groups"
	for _, tt := range []struct {
		name   string
		client *http.Client
		want   int
	}{
		{"the demo key", demoClient(t, printed), 200},
		{"no credentials", http.DefaultClient, 401},
		// The Digest transport's first request has no credentials, its
		// second a wrong password.
		{"a wrong key", &http.Client{Transport: digest.NewTransport("abcdefgh", "00000000-0000-0000-0000-000000000000")}, 401},
	} {
		res, err := tt.client.Get(groups)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tt.want {
			t.Fatalf("%s: GET %s: %d, want %d", tt.name, groups, res.StatusCode, tt.want)
		}
	}
	// Metrics are not on the API's port (an unknown path there asks for
	// credentials).
	if res, err := http.Get(base + "/metrics"); err != nil || res.StatusCode == 200 {
		t.Fatalf("GET %s/metrics: %v %v", base, res, err)
	} else {
		res.Body.Close()
	}

	// A request is counted once its response has gone: scrape until the
	// last one is in.
	var ss []series
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		res, err := http.Get(metricsURL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", metricsURL, res.StatusCode, body)
		}
		ss = parseExposition(t, string(body))
		if n, _ := sum(ss, "checkpointd_http_requests_total", map[string]string{"route": "not_found", "status": "401"}); n == 1 || time.Now().After(deadline) {
			break
		}
	}

	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"checkpointd_http_requests_total", map[string]string{"route": "atlas-v1.0.listProjects", "method": "GET", "status": "200"}, 1},
		{"checkpointd_http_requests_total", map[string]string{"route": "atlas-v1.0.listProjects", "method": "GET", "status": "401"}, 3},
		{"checkpointd_http_requests_total", map[string]string{"route": "not_found", "method": "GET", "status": "401"}, 1},
		{"checkpointd_http_request_duration_seconds_count", map[string]string{"route": "atlas-v1.0.listProjects", "method": "GET"}, 4},
		{"checkpointd_auth_failures_total", map[string]string{"reason": "missing_credentials"}, 3},
		{"checkpointd_auth_failures_total", map[string]string{"reason": "bad_credentials"}, 1},
		{"checkpointd_engine_checkpoints_total", map[string]string{"cluster_id": "6b8cd61180eef547110159d9"}, 1}, // Cluster0
		{"checkpointd_engine_checkpoint_duration_seconds_count", nil, 1},
		{"go_goroutines", nil, 1},
	} {
		if got, n := sum(ss, c.name, c.labels); n == 0 || got < c.min {
			t.Errorf("%s%v = %v (%d series), want at least %v", c.name, c.labels, got, n, c.min)
		}
	}
	if got, _ := sum(ss, "checkpointd_auth_failures_total", map[string]string{"reason": "rate_limited"}); got != 0 {
		t.Errorf("rate_limited failures %v, want 0", got)
	}

	// Every demo cluster has a restore point, no older than a few of its
	// slots on the server's clock, and its timestamp says the same.
	now := clk.Now()
	for _, name := range []string{"Cluster0", "Cluster1", "LegacyCluster"} {
		labels := map[string]string{"cluster_name": name, "group_id": "5e2211c17a3e5a48f5497de3"}
		age, n := sum(ss, "checkpointd_newest_restorable_checkpoint_age_seconds", labels)
		if n != 1 || math.IsInf(age, 0) || age < 0 || age > (6*time.Hour).Seconds() {
			t.Errorf("%s: restore point age %v s (%d series)", name, age, n)
		}
		ts, n := sum(ss, "checkpointd_newest_restorable_checkpoint_timestamp_seconds", labels)
		if n != 1 || math.Abs(float64(now.Unix())-age-ts) > 60 {
			t.Errorf("%s: restore point at %v (%d series), %v s old at %v", name, ts, n, age, now)
		}
		if !strings.Contains(printed, "cluster "+name+" (") {
			t.Errorf("serve did not print cluster %s", name)
		}
	}
}

// TestServeMetricsAddr: an unusable --metrics-addr is refused, naming the
// flag, from the command line and from the environment.
func TestServeMetricsAddr(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flag", []string{"--metrics-addr", "127.0.0.1:99999"}, nil},
		{"env", nil, map[string]string{"CHECKPOINTD_METRICS_ADDR": "not an address"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", "127.0.0.1:0", "--database", filepath.Join(dir, tt.name+".db")}, tt.args...)
			err := run(context.Background(), args, func(k string) string { return tt.env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
				t.Errorf("run(%q) = %v, want an error naming --metrics-addr", args, err)
			}
		})
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"serve", "--help"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "--metrics-addr") || !strings.Contains(out.String(), "GET /metrics") {
		t.Errorf("serve --help does not tell of --metrics-addr:\n%s", out.String())
	}
}
