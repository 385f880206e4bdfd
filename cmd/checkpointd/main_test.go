package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	digest "github.com/mongodb-forks/digest"

	"github.com/checkpointd/checkpointd/internal/clock"
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

// run runs the command line as main does, on the wall clock.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return (&env{getenv: getenv, stdout: stdout, stderr: stderr, clock: clock.System}).run(ctx, args)
}

// startServe runs `checkpointd serve` with args on a free port until the
// test ends, and returns what it printed up to "listening on" and the base
// URL.

func startServe(t *testing.T, getenv func(string) string, args ...string) (printed, base string) {
	t.Helper()
	printed, base, _ = startServeOn(t, nil, getenv, args...)
	return printed, base
}

// startServeOn is startServe with the server on clk, a virtual clock the
// test moves (serve --demo's clusters are scheduled on it), or on the wall
// clock if clk is nil; it also returns what serve logs. When the test
// ends it keeps the clock going until serve has returned, so that a
// checkpoint under way can finish.
func startServeOn(t *testing.T, clk *clock.Virtual, getenv func(string) string, args ...string) (printed, base string, logs *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		e := &env{getenv: getenv, stdout: pw, stderr: stderr, clock: clock.System}
		if clk != nil {
			e.clock = clk
		}
		done <- e.run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...))
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		timeout := time.After(15 * time.Second)
		for {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve returned %v", err)
				}
				return
			case <-timeout:
				t.Error("serve did not stop after its context was cancelled")
				return
			case <-time.After(time.Millisecond):
				if clk == nil {
					continue
				}
				if next, ok := clk.Next(); ok {
					clk.AdvanceTo(next)
				}
			}
		}
	})
	sc := bufio.NewScanner(pr)
	var out strings.Builder
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "listening on "); ok {
			go io.Copy(io.Discard, pr)
			return out.String(), u, stderr
		}
	}
	t.Fatalf("serve ended before listening; printed:\n%s\nstderr:\n%s", out.String(), stderr.String())
	return "", "", nil
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
	// The web view, at the printed address, with the same key.
	if !strings.Contains(printed, "\nui: "+base+"/ui/\n") {
		t.Errorf("no ui line for %s:\n%s", base, printed)
	}
	if res, err := http.Get(base + "/ui/"); err != nil || res.StatusCode != 401 {
		t.Fatalf("the web view without credentials: %v %v", res, err)
	}
	if res, err := client.Get(base + "/ui/"); err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("the web view with the key: %v %v", res, err)
	} else {
		res.Body.Close()
	}
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
// set instead of failing or duplicating it. The demo clusters run on a
// virtual clock that stands still, so that no slot comes between the runs
// and the counts must match.
func TestServeDemoTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "demo.db")
	clk := clock.NewVirtual(time.Date(2026, 11, 23, 12, 0, 7, 0, time.UTC))
	var first, second string
	t.Run("first", func(t *testing.T) { first, _, _ = startServeOn(t, clk, noEnv, "--demo", "--database", db) })
	t.Run("second", func(t *testing.T) {
		var base string
		second, base, _ = startServeOn(t, clk, noEnv, "--demo", "--database", db)
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
	// The first run said, beside its key, that the next would revoke it.
	if want := "the next serve --demo on the same database revokes it"; !strings.Contains(first, want) {
		t.Errorf("first run does not say %q beside its key:\n%s", want, first)
	}
	count := regexp.MustCompile(`Cluster0 .*: (\d+) checkpoints`)
	if a, b := count.FindStringSubmatch(first), count.FindStringSubmatch(second); a == nil || b == nil || a[1] != b[1] {
		t.Errorf("checkpoint counts differ between runs: %v vs %v", a, b)
	}
}

// demoCount matches a cluster's line of serve --demo's output.
var demoCount = regexp.MustCompile(`(?m)^  cluster (\S+) \(.*\): (\d+) checkpoints$`)

// TestServeDemoTakesCheckpoints runs serve --demo with its clusters on a
// virtual clock and moves the clock six hours on: the API lists a new
// checkpoint of each simulated cluster for its latest slot (or the one
// before, as a sharded cluster's slot may be skipped), none of the
// agent's replica set, the week's window keeps each list about the size
// that was seeded, and the checkpoints taken are logged at debug level.
func TestServeDemoTakesCheckpoints(t *testing.T) {
	start := time.Date(2026, 11, 23, 12, 0, 7, 0, time.UTC)
	clk := clock.NewVirtual(start)
	printed, base, logs := startServeOn(t, clk, noEnv, "--demo", "--database", filepath.Join(t.TempDir(), "demo.db"), "--log-level", "debug")
	seeded := map[string]int{}
	for _, m := range demoCount.FindAllStringSubmatch(printed, -1) {
		seeded[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(seeded) != 3 {
		t.Fatalf("no count for each of three clusters in:\n%s", printed)
	}

	// Each step waits until the two simulated clusters' loops sleep on the clock,
	// then wakes the earliest. The end is ten minutes before a slot of
	// every cluster, so that no checkpoint is under way then.
	end := start.Add(6*time.Hour - 10*time.Minute)
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

	client := demoClient(t, printed)
	getList := func(url string) (total int, timestamps []time.Time) {
		t.Helper()
		res, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Results []struct {
				Timestamp time.Time `json:"timestamp"`
			} `json:"results"`
			TotalCount int `json:"totalCount"`
		}
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %d, %v", url, res.StatusCode, err)
		}
		for _, r := range body.Results {
			timestamps = append(timestamps, r.Timestamp)
		}
		return body.TotalCount, timestamps
	}
	intervals := map[string]time.Duration{"Cluster0": 15 * time.Minute, "Cluster1": time.Hour, "LegacyCluster": 30 * time.Minute}
	for name, n := range seeded {
		list := base + "/api/atlas/v1.0/groups/5e2211c17a3e5a48f5497de3/clusters/" + name + "/backupCheckpoints?itemsPerPage=1"
		total, _ := getList(list)
		_, newest := getList(list + "&pageNum=" + strconv.Itoa(total))
		if name == "Cluster1" { // an agent's: the engine takes none, nothing prunes it here
			if total != n {
				t.Errorf("%s: %d checkpoints after six hours, %d seeded; the engine took or pruned some", name, total, n)
			}
			continue
		}
		if total < n-2 || total > n+2 {
			t.Errorf("%s: %d checkpoints after six hours, %d seeded: the retention does not hold the size", name, total, n)
		}
		// A sharded cluster may skip a slot whose balancer would not stop.
		if len(newest) != 1 || newest[0].Before(end.Truncate(intervals[name]).Add(-intervals[name])) {
			t.Errorf("%s: newest checkpoint at %v; the clock is at %v", name, newest, clk.Now())
		}
		if !strings.Contains(logs.String(), `level=DEBUG msg="checkpoint taken" component=engine cluster=`+name) {
			t.Errorf("no debug line for a checkpoint of %s:\n%.3000s", name, logs.String())
		}
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
		{"no read timeout", []string{"--read-timeout", "0s"}, nil, `--read-timeout: 0s must be positive`},
		{"negative shutdown timeout", nil, map[string]string{"CHECKPOINTD_SHUTDOWN_TIMEOUT": "-1s"}, `--shutdown-timeout: -1s must be positive`},
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
		{"cache size unit", []string{"--cache-size", "16MB"}, nil, `--cache-size: "16MB": want a size`},
		{"negative cache size", []string{"--cache-size", "-1MiB"}, nil, `--cache-size: "-1MiB"`},
		{"cache size env", nil, map[string]string{"CHECKPOINTD_CACHE_SIZE": "lots"}, `--cache-size: "lots"`},
		{"pages in flight", []string{"--pages-in-flight", "-2"}, nil, `--pages-in-flight: -2 must be -1 (no bound), 0 (the default) or more`},
		{"no engine refresh", []string{"--engine-refresh", "0"}, nil, `--engine-refresh: 0s must be positive`},
		{"negative engine refresh", nil, map[string]string{"CHECKPOINTD_ENGINE_REFRESH": "-1s"}, `--engine-refresh: -1s must be positive`},
		{"metrics address", []string{"--metrics-addr", "127.0.0.1:99999"}, nil, `--metrics-addr: listen tcp: address 99999: invalid port`},
		{"negative database timeout", []string{"--database-timeout", "-1s"}, nil, `--database-timeout: -1s must be 0 (no bound) or more`},
		{"database timeout env", nil, map[string]string{"CHECKPOINTD_DATABASE_TIMEOUT": "soon"}, `CHECKPOINTD_DATABASE_TIMEOUT`},
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
			// Every setting is checked, and the addresses bound, before
			// the store is opened: a refused one leaves no file behind.
			if _, err := os.Stat(args[2]); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("run(%q) left %s behind (stat: %v)", args, args[2], err)
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
		"--trust-forwarded-for", "--auth-refresh", "--rate-limit", "--token-rate-limit", "--digest-algorithms", "--cache-size", "--pages-in-flight", "CHECKPOINTD_"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("serve --help lacks %s:\n%s", flag, out.String())
		}
	}
}
