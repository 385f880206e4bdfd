package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/mongodb-forks/digest"
)

// syncBuffer collects output written from another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

// startServe runs `checkpointd serve` with args on a free port until the
// test ends, and returns what it printed up to "listening on" and the base
// URL.
func startServe(t *testing.T, getenv func(string) string, args ...string) (printed, base string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, pw, stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop after its context was cancelled")
		}
	})
	sc := bufio.NewScanner(pr)
	var out strings.Builder
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "listening on "); ok {
			go io.Copy(io.Discard, pr)
			return out.String(), u
		}
	}
	t.Fatalf("serve ended before listening; printed:\n%s\nstderr:\n%s", out.String(), stderr.String())
	return "", ""
}

var demoKeyLine = regexp.MustCompile(`(?m)^api key: ([a-z]{8}):([0-9a-f-]{36})$`)

// demoClient authenticates with the key serve --demo printed, through the
// Digest transport the official clients use.
func demoClient(t *testing.T, printed string) *http.Client {
	t.Helper()
	key := demoKeyLine.FindStringSubmatch(printed)
	if key == nil {
		t.Fatalf("no api key line:\n%s", printed)
	}
	return &http.Client{Transport: digest.NewTransport(key[1], key[2])}
}

var curlURL = regexp.MustCompile(`curl --digest -u '([a-z]{8}):([0-9a-f-]{36})' (-H '([^']*)' )?'([^']+)'`)

// TestServeDemo runs the README's first command and tries every URL it
// prints, on every API generation.
func TestServeDemo(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	printed, base := startServe(t, noEnv, "--demo", "--database", db)
	for _, want := range []string{"demo data set created", "cluster Cluster0 (sharded, 3 shards", "cluster Cluster1 (replica set", "mirrored config servers"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	key := demoKeyLine.FindStringSubmatch(printed)
	if key == nil {
		t.Fatalf("no api key line:\n%s", printed)
	}
	urls := curlURL.FindAllStringSubmatch(printed, -1)
	if len(urls) != 3*3*2 {
		t.Fatalf("printed %d curl commands, want 18 (3 clusters × 3 APIs × list and get):\n%s", len(urls), printed)
	}
	// Without the key, the demo's URLs ask for it.
	if res, err := http.Get(urls[0][5]); err != nil || res.StatusCode != 401 {
		t.Fatalf("without credentials: %v %v", res, err)
	}
	client := demoClient(t, printed)
	for _, m := range urls {
		if m[1] != key[1] || m[2] != key[2] {
			t.Errorf("curl uses key %s:%s, not the printed one", m[1], m[2])
		}
		if !strings.HasPrefix(m[5], base+"/api/") {
			t.Errorf("URL %s is not on %s", m[5], base)
		}
		req, _ := http.NewRequest(http.MethodGet, m[5], nil)
		if m[4] != "" {
			k, v, _ := strings.Cut(m[4], ": ")
			req.Header.Set(k, v)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(string(body), "{\n  \"") {
			t.Errorf("GET %s: %d %.200s", m[5], res.StatusCode, body)
		}
	}
}

// TestServeDemoTwice: a second --demo run on the same file reuses the data
// set instead of failing or duplicating it.
func TestServeDemoTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	var first, second string
	t.Run("first", func(t *testing.T) { first, _ = startServe(t, noEnv, "--demo", "--database", db) })
	t.Run("second", func(t *testing.T) {
		var base string
		second, base = startServe(t, noEnv, "--demo", "--database", db)
		// Each start replaces the demo key: the first run's is gone.
		url := base + "/api/atlas/v1.0/groups"
		for _, tt := range []struct {
			printed string
			want    int
		}{{first, 401}, {second, 200}} {
			res, err := demoClient(t, tt.printed).Get(url)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.want {
				t.Errorf("GET with a key: %d, want %d", res.StatusCode, tt.want)
			}
		}
	})
	if !strings.Contains(first, "demo data set created") || !strings.Contains(second, "demo data set already present") {
		t.Errorf("first run:\n%s\nsecond run:\n%s", first, second)
	}
	count := regexp.MustCompile(`Cluster0 .*: (\d+) checkpoints`)
	if a, b := count.FindStringSubmatch(first), count.FindStringSubmatch(second); a == nil || b == nil || a[1] != b[1] {
		t.Errorf("checkpoint counts differ between runs: %v vs %v", a, b)
	}
}

// TestServeSettings checks that bad settings are refused with a message
// naming the setting, from flags and from the environment.
func TestServeSettings(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"paging flag", []string{"--paging", "loose"}, nil, `--paging: "loose"`},
		{"paging env", nil, map[string]string{"CHECKPOINTD_PAGING": "loose"}, `--paging: "loose"`},
		{"log format", []string{"--log-format", "xml"}, nil, `--log-format: "xml"`},
		{"log level", []string{"--log-level", "loud"}, nil, `--log-level`},
		{"external url", []string{"--external-url", "backup.example.com"}, nil, `--external-url`},
		{"address", []string{"--addr", "127.0.0.1:99999"}, nil, `99999`},
		{"bool env", nil, map[string]string{"CHECKPOINTD_DEMO": "perhaps"}, `CHECKPOINTD_DEMO`},
		{"rate limit", []string{"--rate-limit", "100"}, nil, `--rate-limit: "100"`},
		{"rate limit window", []string{"--rate-limit", "100/1ms"}, nil, `--rate-limit: "100/1ms"`},
		{"rate limit zero requests", []string{"--rate-limit", "0/1m"}, nil, `--rate-limit`},
		{"token rate limit env", nil, map[string]string{"CHECKPOINTD_TOKEN_RATE_LIMIT": "x/1m"}, `--token-rate-limit: "x/1m"`},
		{"digest algorithm", []string{"--digest-algorithms", "MD5,SHA-512"}, nil, `--digest-algorithms`},
		{"digest algorithm twice", []string{"--digest-algorithms", "MD5,md5"}, nil, `--digest-algorithms`},
		{"negative refresh", []string{"--auth-refresh", "-1s"}, nil, `--auth-refresh`},
		{"bool trust", []string{"--trust-forwarded-for=maybe"}, nil, `trust-forwarded-for`},
		{"unknown flag", []string{"--colour"}, nil, `unknown flag: --colour`},
		{"arguments", []string{"extra"}, nil, `unknown command "extra"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			args := append([]string{"serve", "--database", filepath.Join(dir, tt.name+".db")}, tt.args...)
			err := run(context.Background(), args, getenv, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%q) = %v, want an error containing %q", args, err, tt.want)
			}
		})
	}
}

// TestServeFlagBeatsEnv: the command line wins over the environment.
func TestServeFlagBeatsEnv(t *testing.T) {
	env := map[string]string{"CHECKPOINTD_PAGING": "loose", "CHECKPOINTD_DATABASE": filepath.Join(t.TempDir(), "env.db")}
	printed, base := startServe(t, func(k string) string { return env[k] }, "--paging", "strict", "--demo")
	res, err := demoClient(t, printed).Get(base + "/api/atlas/v1.0/groups?itemsPerPage=0")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("strict paging from the flag not in force: status %d", res.StatusCode)
	}
}

// TestHelp checks that --help lists every setting.
func TestHelp(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), []string{"serve", "--help"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"--addr", "--database", "--demo", "--demo-seed", "--external-url", "--paging", "--log-format", "--log-level",
		"--trust-forwarded-for", "--auth-refresh", "--rate-limit", "--token-rate-limit", "--digest-algorithms", "CHECKPOINTD_"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("serve --help lacks %s:\n%s", flag, out.String())
		}
	}
}
