package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// The soak (-soak DURATION) runs `checkpointd serve --demo` as its own
// process, as it is deployed (request log to a file, metrics on), with the
// engine taking the demo's simulated checkpoints on a schedule sped up
// -soak-speed times (and pruning the oldest as it goes), and loads it for
// the whole duration at the highest rate -connections closed-loop clients
// reach: a mix of lists and gets, half the clients with a bearer token and
// half with an API key over Digest (nonce reuse). Every few seconds it
// samples the server's memory. It fails if any answer was not a 2xx.
//
// Each prune moves its cluster's epoch, and with it the keys of the
// store's page cache: the cache fills with pages of past epochs up to its
// bound (sqlite.DefaultPageCacheSize pages, some 60 MB of a 3-shard
// cluster's pages of 100) and then evicts them. At the default
// -soak-speed of 1700 that takes about a minute and a half; memory is
// flat only after it, so the soak should run for several minutes.

// soakConfig is what the soak flags say.
type soakConfig struct {
	duration, sample time.Duration
	speed            float64
	conns            int
	binary           string // checkpointd to run; empty: build it
	dir              string
}

// soakSample is one reading of the server, every soakConfig.sample.
type soakSample struct {
	at                time.Duration // since the load started
	requests, errors  int64         // so far
	rss, heapInuse    int64         // bytes
	heapGoal          int64         // go_memstats_next_gc_bytes: the live heap after the last GC, doubled (GOGC 100)
	engineCheckpoints float64       // checkpointd_engine_checkpoints_total, all outcomes
}

func soak(ctx context.Context, cfg soakConfig, out io.Writer) error {
	srv, err := startServer(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.stop()
	fmt.Fprintf(out, "soak: checkpointd serve --demo (pid %d) at %s, engine schedule %gx, metrics at %s, log in %s\n",
		srv.cmd.Process.Pid, srv.apiURL, cfg.speed, srv.metricsURL, srv.logPath)

	digestCreds := &credentials{kind: authDigest, user: srv.keyUser, pass: srv.keyPass}
	bearerCreds, err := soakServiceAccount(ctx, srv, cfg.duration)
	if err != nil {
		return err
	}
	targets, err := soakTargets(ctx, srv, bearerCreds)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "soak: %d connections (half bearer, half digest) for %s; %s\n", cfg.conns, cfg.duration, targets.describe())

	tr := &http.Transport{MaxIdleConnsPerHost: cfg.conns, MaxConnsPerHost: cfg.conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		requests, failures atomic.Int64
		mu                 sync.Mutex
		lat                []time.Duration
		statuses           = map[int]int{}
		firstErr           error
	)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	loadCtx, stopLoad := context.WithDeadline(ctx, deadline)
	defer stopLoad()
	var wg sync.WaitGroup
	for i := range cfg.conns {
		creds := bearerCreds
		if i%2 == 1 {
			creds = digestCreds
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			sign, err := creds.conn(ctx, client, targets.anyURL(), cfg.duration)
			mine := make([]time.Duration, 0, 1<<16)
			byStatus := map[int]int{}
			var myErr error
			for err == nil && time.Now().Before(deadline) {
				u := targets.pick(rng)
				req, _ := http.NewRequestWithContext(loadCtx, http.MethodGet, u.url, nil)
				if u.accept {
					req.Header.Set("Accept", accept)
				}
				if err := sign(req); err != nil { // a digest client's fresh nonce: a challenge not answered 401
					failures.Add(1)
					myErr = err
					break
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if err != nil {
					if loadCtx.Err() != nil {
						break // the deadline cut the request short: not the server's fault
					}
					failures.Add(1)
					byStatus[0]++
					if myErr == nil {
						myErr = err
					}
					continue
				}
				requests.Add(1)
				byStatus[res.StatusCode]++
				if res.StatusCode < 200 || res.StatusCode > 299 {
					failures.Add(1)
					if myErr == nil {
						myErr = fmt.Errorf("GET %s: status %d", u.url, res.StatusCode)
					}
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			if err != nil && myErr == nil {
				myErr = err
				failures.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			for s, n := range byStatus {
				statuses[s] += n
			}
			if firstErr == nil {
				firstErr = myErr
			}
			mu.Unlock()
		}()
	}

	// Sample the server while the load runs, and once more after it.
	var samples []soakSample
	fmt.Fprintf(out, "\n| t | requests/s | errors | RSS | Go heap in use | GC heap goal | engine checkpoints |\n|---|---|---|---|---|---|---|\n")
	var prev soakSample
	take := func() {
		s := soakSample{at: time.Since(start).Round(time.Second), requests: requests.Load(), errors: failures.Load()}
		s.rss = rssOf(srv.cmd.Process.Pid)
		if m, err := scrape(ctx, srv.metricsURL); err == nil {
			s.heapInuse = int64(m["go_memstats_heap_inuse_bytes"])
			s.heapGoal = int64(m["go_memstats_next_gc_bytes"])
			s.engineCheckpoints = m["checkpointd_engine_checkpoints_total"]
		}
		rate := float64(s.requests-prev.requests) / (s.at - prev.at).Seconds()
		fmt.Fprintf(out, "| %s | %.0f | %d | %s | %s | %s | %.0f |\n", s.at, rate, s.errors, mib(s.rss), mib(s.heapInuse), mib(s.heapGoal), s.engineCheckpoints)
		samples = append(samples, s)
		prev = s
	}
	prev = soakSample{engineCheckpoints: 0}
	tick := time.NewTicker(cfg.sample)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
sampling:
	for {
		select {
		case <-tick.C:
			take()
		case <-done:
			break sampling
		}
	}
	tick.Stop()
	elapsed := time.Since(start)
	if len(samples) == 0 || samples[len(samples)-1].at < elapsed.Round(time.Second) {
		take()
	}

	slices.Sort(lat)
	n := requests.Load()
	fmt.Fprintf(out, "\nrequests: %d in %s (%.0f/s), by status %v\n", n, elapsed.Round(time.Second), float64(n)/elapsed.Seconds(), statuses)
	fmt.Fprintf(out, "errors (any answer not 2xx, or no answer): %d\n", failures.Load())
	if len(lat) > 0 {
		fmt.Fprintf(out, "latency: p50 %s, p99 %s, max %s\n", lat[len(lat)/2].Round(10*time.Microsecond),
			lat[len(lat)*99/100].Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	}
	if len(samples) > 0 {
		writeMemory(out, samples, cfg.duration)
		fmt.Fprintf(out, "engine: %.0f checkpoints taken while loaded\n", samples[len(samples)-1].engineCheckpoints-samples[0].engineCheckpoints)
	}
	if err := srv.stop(); err != nil {
		return fmt.Errorf("soak: stopping the server: %w", err)
	}
	if f := failures.Load(); f > 0 {
		return fmt.Errorf("soak: %d errors; the first: %v", f, firstErr)
	}
	return nil
}

// writeMemory reports memory at the start (after a tenth of the run, for
// warming up), in the middle and at the end, and whether the end is
// within 10 % of the middle. The Go heap in use rises and falls with
// every garbage collection (up to twice the live heap), so each of the
// three is the median of the samples in a window around it (a tenth of
// the run after the warm-up, a fifth around the middle, the last fifth),
// not one sample; the GC heap goal, twice the heap that survived the last
// collection, is the steadier measure of what the server keeps.
func writeMemory(out io.Writer, samples []soakSample, d time.Duration) {
	window := func(from, to time.Duration) []soakSample {
		var w []soakSample
		for _, s := range samples {
			if s.at >= from && s.at <= to {
				w = append(w, s)
			}
		}
		if len(w) == 0 { // a run too short for the window: the nearest sample after it
			for _, s := range samples {
				if s.at >= from {
					return []soakSample{s}
				}
			}
			return samples[len(samples)-1:]
		}
		return w
	}
	windows := []struct {
		name string
		w    []soakSample
	}{
		{"start", window(d/10, d/5)},
		{"middle", window(2*d/5, 3*d/5)},
		{"end", window(4*d/5, d)},
	}
	for _, m := range []struct {
		name string
		v    func(soakSample) int64
	}{
		{"RSS", func(s soakSample) int64 { return s.rss }},
		{"GC heap goal", func(s soakSample) int64 { return s.heapGoal }},
		{"Go heap in use", func(s soakSample) int64 { return s.heapInuse }},
	} {
		var vals [3]int64
		var parts []string
		for i, w := range windows {
			vs := make([]int64, len(w.w))
			for j, s := range w.w {
				vs[j] = m.v(s)
			}
			slices.Sort(vs)
			vals[i] = vs[len(vs)/2]
			parts = append(parts, fmt.Sprintf("%s (t=%s-%s, %d samples) %s", w.name, w.w[0].at, w.w[len(w.w)-1].at, len(w.w), mib(vals[i])))
		}
		flat := "unknown"
		if vals[1] > 0 {
			ratio := float64(vals[2]) / float64(vals[1])
			flat = fmt.Sprintf("end/middle %.2f: ", ratio)
			if ratio <= 1.10 && ratio >= 0.90 {
				flat += "flat"
			} else {
				flat += "NOT flat"
			}
		}
		fmt.Fprintf(out, "%s, median: %s; %s\n", m.name, strings.Join(parts, ", "), flat)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// rssOf reads VmRSS of a process, in bytes (0 if it cannot).
func rssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

var metricLine = regexp.MustCompile(`(?m)^([a-z_]+)(\{[^}]*\})? (\S+)$`)

// scrape reads the Prometheus text at url: each metric's value, summed
// over its series.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %d", url, res.StatusCode)
	}
	m := map[string]float64{}
	for _, sm := range metricLine.FindAllStringSubmatch(string(b), -1) {
		v, err := strconv.ParseFloat(sm[3], 64)
		if err == nil {
			m[sm[1]] += v
		}
	}
	return m, nil
}

// soakServer is the checkpointd process under soak.
type soakServer struct {
	cmd                *exec.Cmd
	db                 string
	logPath            string
	apiURL, metricsURL string
	project            string
	clusters           []string
	keyUser, keyPass   string
	waited             chan error
	stopOnce           sync.Once
	stopErr            error
}

var (
	lineProject = regexp.MustCompile(`^demo data set (?:created|already present): project \S+ \(([0-9a-f]{24})\)`)
	lineCluster = regexp.MustCompile(`^  cluster (\S+) \(`)
	lineKey     = regexp.MustCompile(`^api key: ([^:\s]+):(\S+)$`)
	lineMetrics = regexp.MustCompile(`^metrics on (http://\S+/metrics)$`)
	lineListen  = regexp.MustCompile(`^listening on (http://\S+)$`)
)

// startServer builds checkpointd unless given one, starts serve --demo in
// cfg.dir and reads what it prints until it listens.
func startServer(ctx context.Context, cfg soakConfig) (*soakServer, error) {
	bin := cfg.binary
	if bin == "" {
		bin = filepath.Join(cfg.dir, "checkpointd")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/checkpointd/checkpointd/cmd/checkpointd")
		if b, err := build.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("soak: go build ./cmd/checkpointd (run inside the module): %w: %s", err, b)
		}
	}
	s := &soakServer{db: filepath.Join(cfg.dir, "soak.db"), logPath: filepath.Join(cfg.dir, "soak.log"), waited: make(chan error, 1)}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	s.cmd = exec.Command(bin, "serve", "--demo", "--database", s.db, "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0",
		"--rate-limit", "0", "--token-rate-limit", "0", "--demo-speed", strconv.FormatFloat(cfg.speed, 'f', -1, 64))
	s.cmd.Stderr = logFile
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { s.waited <- s.cmd.Wait() }()
	timeout := time.After(2 * time.Minute)
	for s.apiURL == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				s.stop()
				return nil, fmt.Errorf("soak: checkpointd exited before listening; its log is %s", s.logPath)
			}
			if m := lineProject.FindStringSubmatch(line); m != nil {
				s.project = m[1]
			} else if m := lineCluster.FindStringSubmatch(line); m != nil {
				s.clusters = append(s.clusters, m[1])
			} else if m := lineKey.FindStringSubmatch(line); m != nil {
				s.keyUser, s.keyPass = m[1], m[2]
			} else if m := lineMetrics.FindStringSubmatch(line); m != nil {
				s.metricsURL = m[1]
			} else if m := lineListen.FindStringSubmatch(line); m != nil {
				s.apiURL = m[1]
			}
		case <-timeout:
			s.stop()
			return nil, errors.New("soak: checkpointd did not listen within 2 minutes")
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		}
	}
	go func() { // the rest of stdout: the demo's URLs
		for range lines {
		}
	}()
	if s.project == "" || len(s.clusters) == 0 || s.keyUser == "" || s.metricsURL == "" {
		s.stop()
		return nil, fmt.Errorf("soak: checkpointd did not print its project, clusters, api key and metrics address")
	}
	return s, nil
}

// stop asks the server to stop (SIGINT, as a terminal would) and waits.
func (s *soakServer) stop() error {
	s.stopOnce.Do(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case s.stopErr = <-s.waited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			s.stopErr = errors.New("did not stop within 30 s of SIGINT; killed")
		}
	})
	return s.stopErr
}

// soakServiceAccount creates a service account with ORG_READ_ONLY in the
// demo organization, through the store file the server serves, and mints
// its token at the server's token endpoint.
func soakServiceAccount(ctx context.Context, srv *soakServer, d time.Duration) (*credentials, error) {
	// The account is written to the data set directly, as the server itself.
	ctx = backup.WithPrincipal(ctx, backup.System)
	db, err := sqlite.Open(ctx, srv.db)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	pid, ok := backup.ParseObjectID(srv.project)
	if !ok {
		return nil, fmt.Errorf("soak: project id %q", srv.project)
	}
	p, err := db.Project(ctx, pid)
	if err != nil {
		return nil, err
	}
	sa, secret, err := admin.CreateServiceAccount(ctx, db, p.OrgID, "soak", "soak test", []backup.Grant{{Role: backup.OrgReadOnly}}, nil, admin.MinSecretTTL, clock.System)
	if err != nil {
		return nil, err
	}
	c := &credentials{kind: authBearer, tokenURL: srv.apiURL + "/api/oauth/token", clientID: sa.ClientID, secret: secret}
	if _, err := c.bearer(ctx, d); err != nil {
		return nil, err
	}
	return c, nil
}

// soakTarget is one request of the mix.
type soakTarget struct {
	url    string
	accept bool // send the v2 Accept header
}

// soakMix is what the clients ask for: pages of 100 of every demo
// cluster (any but the last two pages, which pruning and new
// checkpoints move), and the newest checkpoints one by one (which the
// run is far too short to see pruned), on Atlas v2 and v1.0.
type soakMix struct {
	lists, gets []soakTarget
}

func soakTargets(ctx context.Context, srv *soakServer, creds *credentials) (*soakMix, error) {
	m := &soakMix{}
	for _, c := range srv.clusters {
		for _, gen := range []struct {
			path   string
			accept bool
		}{{"/api/atlas/v2/groups/", true}, {"/api/atlas/v1.0/groups/", false}} {
			coll := srv.apiURL + gen.path + srv.project + "/clusters/" + c + "/backupCheckpoints"
			first, _, err := fetchAs(ctx, coll+"?itemsPerPage=100", creds, gen.accept)
			if err != nil {
				return nil, err
			}
			tm := totalCount.FindSubmatch(first)
			if tm == nil {
				return nil, fmt.Errorf("soak: no totalCount in %s", coll)
			}
			total, _ := strconv.Atoi(string(tm[1]))
			pages := (total + 99) / 100
			for p := 1; p <= max(1, pages-2); p++ {
				m.lists = append(m.lists, soakTarget{coll + "?itemsPerPage=100&pageNum=" + strconv.Itoa(p), gen.accept})
			}
			last, _, err := fetchAs(ctx, coll+"?itemsPerPage=50&pageNum="+strconv.Itoa(max(1, (total+49)/50)), creds, gen.accept)
			if err != nil {
				return nil, err
			}
			for _, id := range idPattern.FindAllSubmatch(last, -1) {
				m.gets = append(m.gets, soakTarget{coll + "/" + string(id[1]), gen.accept})
			}
		}
	}
	if len(m.lists) == 0 || len(m.gets) == 0 {
		return nil, errors.New("soak: the demo data set has no checkpoints to ask for")
	}
	return m, nil
}

var totalCount = regexp.MustCompile(`"totalCount":(\d+)`)

// pick chooses the next request: a page or a checkpoint, evenly.
func (m *soakMix) pick(rng *rand.Rand) soakTarget {
	if rng.IntN(2) == 0 {
		return m.lists[rng.IntN(len(m.lists))]
	}
	return m.gets[rng.IntN(len(m.gets))]
}

func (m *soakMix) anyURL() string { return m.gets[0].url }

func (m *soakMix) describe() string {
	return fmt.Sprintf("half pages of 100 (%d of them), half single checkpoints (%d), Atlas v2 and v1.0", len(m.lists), len(m.gets))
}
