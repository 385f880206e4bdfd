package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/open"
)

// The method (the default; BENCHMARKS.md, "Method") measures
// `checkpointd serve` as a process of its own, as it is deployed, on each
// store (SQLite, and PostgreSQL when one answers) and in two
// configurations:
//
//   - shipped: serve's defaults, the request log written through its
//     logger to a file, the rate limiter on with a limit no load here
//     reaches (the default limit, 6000 a minute per caller, would refuse
//     nearly all of it);
//   - stripped: the rate limiter off and the request log discarded
//     (--log-level warn: request lines are never formatted).
//
// Each phase starts the server afresh, so that its resident set's
// high-water mark (VmHWM) is the phase's own, and resets that mark once
// the server is ready and the phase's requests have been captured. Each
// figure is measured as reps pairs of slices, the reference (the ceiling,
// or bearer for digest) and checkpointd taking turns (A/B/A/B), at each
// connection count; the report gives the medians of the slices and their
// range, and the machine's load average before and after the figure.

// methodConfig is what the method's flags say.
type methodConfig struct {
	duration    time.Duration // one slice
	reps        int
	conns       []int
	small, big  int
	dir         string
	stores      []string
	configs     []string
	phases      *regexp.Regexp
	postgresURL string
	binary      string
	useWrk      bool
	keepLogs    bool
	args        []string // as given, for the report
}

// Server configurations.
const (
	cfgShipped  = "shipped"
	cfgStripped = "stripped"
)

// shippedRateLimit is the shipped configuration's --rate-limit: the
// limiter runs on every request, and refuses none of this load.
const shippedRateLimit = "1000000000/1m"

func (c methodConfig) serveFlags(config string) []string {
	if config == cfgStripped {
		return []string{"--rate-limit", "0", "--log-level", "warn"}
	}
	return []string{"--rate-limit", shippedRateLimit}
}

// side is one side of a figure: requests to the ceiling or to checkpointd,
// with credentials, by wrk or the built-in generator.
type side struct {
	label   string
	ceiling bool // to the ceiling (no credentials), not checkpointd
	req     requests
	creds   *credentials
	builtin bool // the built-in generator, whatever -generator says
}

// figure is a pair measured by turns: a (the reference) and b.
type figure struct {
	name string
	a, b side
}

// phase is one server process's life: its figures, at every connection
// count.
type phase struct {
	name    string
	figures []figure
	// capture lists what the ceiling must answer, beyond the figures'
	// fixed requests and cached walks: sample pages of uncached walks.
	samples []string
}

// measured is one figure at one connection count.
type measured struct {
	store, config, phase, figure string
	conns                        int
	aLabel, bLabel               string
	a, b                         []result // one per repetition
	loadBefore, loadAfter        float64
}

// phaseResult is a phase's memory.
type phaseResult struct {
	store, config, phase string
	startRSS, hwm        int64 // after the reset; the high-water mark at the end
	logLines             int   // request lines the server wrote (shipped)
}

type credentialSet struct{ bearer, digest *credentials }

func method(ctx context.Context, cfg methodConfig, out io.Writer) error {
	ctx = backup.WithPrincipal(ctx, backup.System) // seeding writes as the server itself
	if cfg.dir == "" {
		d, err := os.MkdirTemp("", "checkpointd-load")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		cfg.dir = d
	}
	bin := cfg.binary
	if bin == "" {
		bin = filepath.Join(cfg.dir, "checkpointd")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/checkpointd/checkpointd/cmd/checkpointd")
		if b, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/checkpointd (run inside the module): %w: %s", err, b)
		}
	}
	run := runInfo{start: time.Now(), cores: runtime.NumCPU(), loadStart: loadavg(), generator: map[bool]string{true: "wrk", false: "the built-in generator"}[cfg.useWrk]}
	fmt.Fprintf(out, "method: started %s UTC, load average %.2f (1 min), %d cores\n", run.start.UTC().Format("2006-01-02 15:04"), run.loadStart, run.cores)
	fmt.Fprintf(out, "method: generator %s; %d repetitions of %s per side of each figure at %s connections; stores %s; configurations %s\n",
		map[bool]string{true: "wrk", false: "built-in"}[cfg.useWrk], cfg.reps, cfg.duration, joinInts(cfg.conns), strings.Join(cfg.stores, ", "), strings.Join(cfg.configs, ", "))
	if run.loadStart > float64(run.cores)/2 {
		fmt.Fprintf(out, "method: the machine is not quiet (load average %.2f on %d cores): a rehearsal, not figures\n", run.loadStart, run.cores)
	}
	est := cfg.estimate()
	fmt.Fprintf(out, "method: %d figures; measuring alone takes %s (seeding and server starts come on top)\n", est.figures, est.load.Round(time.Second))

	var all []measured
	var mem []phaseResult
	var skipped []string
	for _, st := range cfg.stores {
		database, err := cfg.prepareStore(ctx, st, out)
		if err != nil {
			var skip skipError
			if errors.As(err, &skip) {
				fmt.Fprintf(out, "%s: SKIPPED: %s\n", storeName(st), skip.msg)
				skipped = append(skipped, fmt.Sprintf("%s skipped: %s", storeName(st), skip.msg))
				continue
			}
			return err
		}
		creds, err := cfg.credentials(ctx, database)
		if err != nil {
			return err
		}
		for _, config := range cfg.configs {
			for _, ph := range cfg.phaseList() {
				if cfg.phases != nil && !cfg.phases.MatchString(ph.name) {
					continue
				}
				ms, pr, err := cfg.runPhase(ctx, bin, st, database, config, ph, creds, out)
				if err != nil {
					return fmt.Errorf("%s, %s, %s: %w", storeName(st), config, ph.name, err)
				}
				all = append(all, ms...)
				mem = append(mem, pr)
			}
		}
	}
	run.took, run.loadEnd = time.Since(run.start), loadavg()
	fmt.Fprintf(out, "\nmethod: done in %s, load average %.2f\n\n", run.took.Round(time.Second), run.loadEnd)
	writeMethodReport(out, cfg, run, all, mem, skipped)
	return nil
}

func joinInts(v []int) string {
	var s []string
	for _, n := range v {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, " and ")
}

func storeName(st string) string {
	return map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[st]
}

// estimate is how long the measuring takes.
type estimate struct {
	figures int
	load    time.Duration
}

func (c methodConfig) estimate() estimate {
	var e estimate
	for _, ph := range c.phaseList() {
		if c.phases != nil && !c.phases.MatchString(ph.name) {
			continue
		}
		e.figures += len(ph.figures) * len(c.conns)
	}
	e.figures *= len(c.stores) * len(c.configs)
	// wrk runs whole seconds.
	slice := c.duration
	if c.useWrk {
		slice = max(time.Second, slice.Truncate(time.Second))
	}
	e.load = time.Duration(e.figures*2*c.reps) * slice
	return e
}

// skipError is a store the run goes without.
type skipError struct{ msg string }

func (e skipError) Error() string { return e.msg }

// prepareStore returns the --database of store st, seeded: a SQLite file
// in dir, or a scratch database on the PostgreSQL server, named by the
// sizes and kept for the next run (seeding a million checkpoints takes
// minutes).
func (c methodConfig) prepareStore(ctx context.Context, st string, out io.Writer) (string, error) {
	database := filepath.Join(c.dir, fmt.Sprintf("load-%d-%d.db", c.small, c.big))
	if st == "postgres" {
		var err error
		if database, err = scratchDatabase(ctx, c.postgresURL, fmt.Sprintf("checkpointd_load_%d_%d", c.small, c.big), out); err != nil {
			return "", err
		}
	}
	db, err := open.Open(ctx, database)
	if err != nil {
		return "", err
	}
	defer db.Close()
	fmt.Fprintf(out, "%s: %s\n", storeName(st), open.Redact(database))
	fresh := false
	if _, err := db.Project(ctx, projectID); err != nil {
		fresh = true
	}
	if err := seed(ctx, db, c.small, c.big, out); err != nil {
		return "", err
	}
	if st == "postgres" && fresh {
		// Statistics and the visibility map, as autovacuum would leave
		// them some time after a load.
		t0 := time.Now()
		conn, err := pgx.Connect(ctx, database)
		if err != nil {
			return "", err
		}
		_, err = conn.Exec(ctx, "VACUUM ANALYZE")
		conn.Close(ctx)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(out, "%s: VACUUM ANALYZE in %s\n", storeName(st), time.Since(t0).Round(time.Millisecond))
	}
	return database, nil
}

// scratchDatabase creates (unless it exists) the database name on the
// PostgreSQL server admin names, and returns its URL. A server that does
// not answer is a skipError.
func scratchDatabase(ctx context.Context, admin, name string, out io.Writer) (string, error) {
	if admin == "" {
		return "", skipError{"no -postgres URL"}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, admin)
	if err != nil {
		return "", skipError{fmt.Sprintf("no PostgreSQL server answers at %s (%v); give one with -postgres URL, or -stores sqlite", open.Redact(admin), err)}
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return "", fmt.Errorf("creating the scratch database %s: %w", name, err)
		}
		fmt.Fprintf(out, "PostgreSQL: created the scratch database %s (kept for the next run; DROP DATABASE %s removes it)\n", name, name)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// credentials creates a service account (bearer) and an API key (digest)
// with ORG_READ_ONLY in the store. The token is minted later, at each
// phase's server.
func (c methodConfig) credentials(ctx context.Context, database string) (credentialSet, error) {
	db, err := open.Open(ctx, database)
	if err != nil {
		return credentialSet{}, err
	}
	defer db.Close()
	b, err := newCredentialsLater(ctx, db)
	if err != nil {
		return credentialSet{}, err
	}
	d, err := newCredentials(ctx, authDigest, db, "")
	if err != nil {
		return credentialSet{}, err
	}
	return credentialSet{bearer: b, digest: d}, nil
}

// Walk parameters.
var (
	walkSizes   = []string{"small", "big"}
	walkModes   = []string{"cached", "uncached"}
	walkPerPage = []int{100, 500}
)

// cachedPages is how many pages a cached walk repeats.
const cachedPages = 8

// uncachedSamples is how many pages of an uncached walk the ceiling
// holds.
const uncachedSamples = 16

func (c methodConfig) size(cluster string) int {
	if cluster == "small" {
		return c.small
	}
	return c.big
}

// sizeLabel is 1k, 20k, 1M…
func sizeLabel(n int) string {
	switch {
	case n >= 1e6 && n%1e6 == 0:
		return strconv.Itoa(n/1e6) + "M"
	case n >= 1e3 && n%1e3 == 0:
		return strconv.Itoa(n/1e3) + "k"
	}
	return strconv.Itoa(n)
}

// walkPhaseName names the phase of a walk.
func (c methodConfig) walkPhaseName(cluster, mode string, perPage int) string {
	return fmt.Sprintf("walk %s %s %d", sizeLabel(c.size(cluster)), mode, perPage)
}

// phaseList is every phase, in order. The credentials and the get-one id
// are filled in by runPhase.
func (c methodConfig) phaseList() []phase {
	list := clusterPath("small") + "/backupCheckpoints?itemsPerPage=100"
	getOne := requests{path: clusterPath("small") + "/backupCheckpoints/{id}"}
	ceil := func(r requests) side { return side{label: "ceiling", ceiling: true, req: r} }
	api := func(r requests) side { return side{label: "checkpointd, bearer", req: r} }
	phases := []phase{
		{name: "get-one", figures: []figure{{"get-one", ceil(getOne), api(getOne)}}},
		{name: "list-100", figures: []figure{{"list-100", ceil(requests{path: list}), api(requests{path: list})}}},
		{name: "digest", figures: []figure{
			{"get-one, digest vs bearer", side{label: "bearer, built-in", req: getOne, builtin: true}, side{label: "digest, built-in", req: getOne, builtin: true}},
			{"list-100, digest vs bearer", side{label: "bearer, built-in", req: requests{path: list}, builtin: true}, side{label: "digest, built-in", req: requests{path: list}, builtin: true}},
		}},
	}
	for _, cluster := range walkSizes {
		n := c.size(cluster)
		if n == 0 {
			continue
		}
		for _, mode := range walkModes {
			for _, per := range walkPerPage {
				pages := (n + per - 1) / per
				ph := phase{name: c.walkPhaseName(cluster, mode, per)}
				for _, count := range []bool{true, false} {
					r := requests{path: fmt.Sprintf("%s/backupCheckpoints?itemsPerPage=%d&includeCount=%t&pageNum=", clusterPath(cluster), per, count)}
					if mode == "cached" {
						r.pageNums = spreadPages(pages, cachedPages)
					} else {
						r.pages = pages
						for _, p := range spreadPages(pages, uncachedSamples) {
							ph.samples = append(ph.samples, r.path+strconv.Itoa(p))
						}
					}
					ph.figures = append(ph.figures, figure{fmt.Sprintf("%d a page, includeCount=%t", per, count), ceil(r), api(r)})
				}
				phases = append(phases, ph)
			}
		}
	}
	return phases
}

// runPhase starts the server, captures the ceiling's responses, resets
// the high-water mark and measures the phase's figures.
func (c methodConfig) runPhase(ctx context.Context, bin, st, database, config string, ph phase, creds credentialSet, out io.Writer) ([]measured, phaseResult, error) {
	pr := phaseResult{store: storeName(st), config: config, phase: ph.name}
	logName := "serve-" + st + "-" + config + "-" + strings.ReplaceAll(ph.name, " ", "-") + ".log"
	srv, err := startServe(ctx, bin, database, filepath.Join(c.dir, logName), c.serveFlags(config))
	if err != nil {
		return nil, pr, err
	}
	defer srv.stop()
	bearer := creds.bearer.at(srv.url)
	digest := creds.digest
	if _, err := bearer.bearer(ctx, 0); err != nil {
		return nil, pr, err
	}
	// The one checkpoint get-one asks for: the first of the small cluster.
	id, err := firstID(ctx, srv.url+clusterPath("small")+"/backupCheckpoints?itemsPerPage=1", bearer)
	if err != nil {
		return nil, pr, err
	}
	// A kept database whose seeding was cut short would walk fewer pages
	// than the report says.
	for _, cluster := range walkSizes {
		if err := checkTotal(ctx, srv.url, cluster, c.size(cluster), bearer); err != nil {
			return nil, pr, fmt.Errorf("%w; drop the database (%s) and run again", err, open.Redact(database))
		}
	}
	var figs []figure
	for _, f := range ph.figures {
		for _, l := range []*side{&f.a, &f.b} {
			l.req.path = strings.Replace(l.req.path, "{id}", id, 1)
			switch {
			case l.ceiling:
				l.creds = noCredentials
			case strings.HasPrefix(l.label, "digest"):
				l.creds = digest
			default:
				l.creds = bearer
			}
		}
		figs = append(figs, f)
	}
	// Capture what the ceiling answers; this warms the server's caches
	// with the cached walks' pages too.
	var resps []captured
	seen := map[string]bool{}
	capture := func(path string) error {
		if seen[path] {
			return nil
		}
		seen[path] = true
		body, hdr, err := fetchRaw(ctx, srv.url+path, bearer)
		if err != nil {
			return err
		}
		resps = append(resps, captured{URI: path, Header: hdr, Body: body})
		return nil
	}
	needCeiling := false
	for _, f := range figs {
		if !f.a.ceiling {
			continue
		}
		needCeiling = true
		switch {
		case len(f.a.req.pageNums) > 0:
			for _, p := range f.a.req.pageNums {
				if err := capture(f.a.req.path + strconv.Itoa(p)); err != nil {
					return nil, pr, err
				}
			}
		case f.a.req.pages == 0:
			if err := capture(f.a.req.path); err != nil {
				return nil, pr, err
			}
		}
	}
	for _, s := range ph.samples {
		if err := capture(s); err != nil {
			return nil, pr, err
		}
	}
	var ceiling *ceilingProc
	if needCeiling {
		if ceiling, err = startCeiling(ctx, filepath.Join(c.dir, "ceiling.json"), resps); err != nil {
			return nil, pr, err
		}
		defer ceiling.stop()
		// The ceiling must answer as checkpointd did, byte for byte.
		for _, r := range resps {
			body, hdr, err := fetchRaw(ctx, ceiling.url+r.URI, noCredentials)
			if err != nil {
				return nil, pr, fmt.Errorf("ceiling: %w", err)
			}
			if string(body) != string(r.Body) || !sameHeader(hdr, r.Header) {
				return nil, pr, fmt.Errorf("ceiling: %s answered otherwise than checkpointd: %v against %v", r.URI, hdr, r.Header)
			}
		}
	}
	if err := resetHWM(srv.pid()); err != nil {
		return nil, pr, err
	}
	if m, err := procStatus(srv.pid(), "VmRSS"); err == nil {
		pr.startRSS = m["VmRSS"]
	}
	fmt.Fprintf(out, "%s, %s, %s: checkpointd pid %d (RSS %s after start and capture; high-water mark reset)\n", storeName(st), config, ph.name, srv.pid(), mib(pr.startRSS))

	var ms []measured
	for _, conns := range c.conns {
		for _, f := range figs {
			m := measured{store: storeName(st), config: config, phase: ph.name, figure: f.name, conns: conns, aLabel: f.a.label, bLabel: f.b.label, loadBefore: loadavg()}
			for range c.reps {
				for _, side := range []struct {
					l    side
					into *[]result
				}{{f.a, &m.a}, {f.b, &m.b}} {
					base := srv.url
					if side.l.ceiling {
						base = ceiling.url
					}
					var r result
					var err error
					cpu0, cpuErr := procCPU(srv.pid())
					if c.useWrk && !side.l.builtin {
						r, err = runWrkRequests(ctx, base, side.l.req, conns, c.duration, side.l.creds, c.dir)
					} else {
						r, err = runBuiltinRequests(ctx, base, side.l.req, conns, c.duration, side.l.creds)
					}
					if err != nil {
						return nil, pr, fmt.Errorf("%s, %s, %d connections: %w", f.name, side.l.label, conns, err)
					}
					r.lat = nil // the medians need no more
					// checkpointd's own CPU a request: the figure a
					// change of its code moves, which the machine's
					// other load disturbs less than requests/s.
					if cpu1, err := procCPU(srv.pid()); !side.l.ceiling && cpuErr == nil && err == nil {
						r.cpu = cpuPerRequest(cpu0, cpu1, r, c.duration)
					}
					*side.into = append(*side.into, r)
				}
			}
			m.loadAfter = loadavg()
			ms = append(ms, m)
			a, b := rpsSpread(m.a), rpsSpread(m.b)
			fmt.Fprintf(out, "  %-32s %2d conns  %-18s %22s req/s  %-18s %22s req/s  ratio %.2f  load %.2f→%.2f%s\n",
				f.name, conns, f.a.label, a.rps(), f.b.label, b.rps(), b.median/a.median, m.loadBefore, m.loadAfter, cpuSpread(m.b))
		}
	}
	if m, err := procStatus(srv.pid(), "VmHWM"); err == nil {
		pr.hwm = m["VmHWM"]
	} else {
		return nil, pr, err
	}
	if err := srv.stop(); err != nil {
		return nil, pr, fmt.Errorf("checkpointd: %w", err)
	}
	pr.logLines, err = countRequestLines(srv.logPath)
	if err != nil {
		return nil, pr, err
	}
	if !c.keepLogs {
		os.Remove(srv.logPath)
	}
	fmt.Fprintf(out, "  RSS high-water mark %s; %d request lines logged\n", mib(pr.hwm), pr.logLines)
	if config == cfgShipped && pr.logLines == 0 {
		return nil, pr, errors.New("the shipped configuration logged no request line")
	}
	if config == cfgStripped && pr.logLines != 0 {
		return nil, pr, fmt.Errorf("the stripped configuration logged %d request lines", pr.logLines)
	}
	return ms, pr, nil
}

// checkTotal checks that cluster holds want checkpoints (none: that it
// does not exist).
func checkTotal(ctx context.Context, api, cluster string, want int, creds *credentials) error {
	body, _, err := fetchRaw(ctx, api+clusterPath(cluster)+"/backupCheckpoints?itemsPerPage=1", creds)
	if err != nil {
		if want == 0 && strings.Contains(err.Error(), ": 404 ") {
			return nil
		}
		return err
	}
	m := totalCount.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("no totalCount in the %s cluster's first page", cluster)
	}
	if got, _ := strconv.Atoi(string(m[1])); got != want {
		return fmt.Errorf("the %s cluster holds %d checkpoints, not %d", cluster, got, want)
	}
	return nil
}

func rpsSpread(rs []result) spread {
	var v []float64
	for _, r := range rs {
		v = append(v, r.rps)
	}
	return spreadOf(v)
}

func p99Spread(rs []result) spread {
	var v []float64
	for _, r := range rs {
		v = append(v, seconds(r.p99))
	}
	return spreadOf(v)
}

// sameHeader reports whether two responses' headers are the same but for
// Date.
func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\n") != strings.Join(b[k], "\n") {
			return false
		}
	}
	return true
}

// fetchRaw GETs url as an Atlas v2 client and returns the body and every
// header but Date (Content-Length included, as sent).
func fetchRaw(ctx context.Context, u string, creds *credentials) ([]byte, http.Header, error) {
	return get(ctx, u, creds, true)
}

// countRequestLines counts the request lines of a serve log.
func countRequestLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "msg=request ") {
			n++
		}
	}
	return n, sc.Err()
}

// serveProc is a `checkpointd serve` under load.
type serveProc struct {
	cmd      *exec.Cmd
	url      string
	logPath  string
	waited   chan error
	stopOnce sync.Once
	stopErr  error
}

func (s *serveProc) pid() int { return s.cmd.Process.Pid }

// startServe starts checkpointd serve over database on 127.0.0.1, its log
// (stderr) to logPath, and waits until it listens.
func startServe(ctx context.Context, bin, database, logPath string, flags []string) (*serveProc, error) {
	s := &serveProc{logPath: logPath, waited: make(chan error, 1)}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	s.cmd = exec.Command(bin, append([]string{"serve", "--database", database, "--addr", "127.0.0.1:0"}, flags...)...)
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
	}()
	go func() { s.waited <- s.cmd.Wait() }()
	timeout := time.After(2 * time.Minute)
	for s.url == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				s.stop()
				b, _ := os.ReadFile(logPath)
				return nil, fmt.Errorf("checkpointd exited before listening: %s", b)
			}
			if m := lineListen.FindStringSubmatch(line); m != nil {
				s.url = m[1]
			}
		case <-timeout:
			s.stop()
			return nil, errors.New("checkpointd did not listen within 2 minutes")
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		}
	}
	go func() {
		for range lines {
		}
	}()
	return s, nil
}

// stop asks the server to stop (SIGINT) and waits for it.
func (s *serveProc) stop() error {
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
