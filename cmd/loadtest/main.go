// Command loadtest measures checkpointd under load on this machine and
// compares it with the ceiling: a bare net/http server serving the very
// same bytes. Everything listens on 127.0.0.1; every run is bounded by
// -duration and -reps.
//
// By default it runs the method of BENCHMARKS.md (method.go):
// `checkpointd serve` as a process of its own, restarted for each phase,
// on SQLite and PostgreSQL, in the shipped and a stripped configuration,
// each figure measured by turns with its reference, with medians and
// spread, the load average beside each figure and the server's RSS
// high-water mark per phase; it ends with a Markdown report. -quick is
// its rehearsal.
//
// It uses wrk when it is on PATH (scripts/load.sh installs it) and a
// built-in closed-loop generator otherwise. Results are ratios measured in
// one run; absolute numbers drift between machines and runs.
//
// -inprocess runs the earlier load test instead: the API in this process,
// served as serve serves it, authentication included: by default (-auth
// bearer) every API request carries a service account's access token,
// minted through the real token endpoint, and get-one and list-100 are
// measured once more against the same store without authentication, so
// that its cost is a ratio of the same run; and get-one with the bearer
// token and with an API key over HTTP Digest (nonce reuse), both through
// the built-in generator (wrk cannot answer a digest challenge), taking
// turns. -auth digest uses the API key for every target instead
// (built-in generator only); -auth none measures everything without
// authentication.
//
// -soak DURATION runs the soak instead (soak.go).
//
//	go run ./cmd/loadtest               # the method, about an hour
//	go run ./cmd/loadtest -quick        # its rehearsal
//	go run ./cmd/loadtest -inprocess -duration 10s -big 1000000
//	go run ./cmd/loadtest -soak 5m
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

func main() {
	if file := os.Getenv(ceilingEnv); file != "" {
		if err := serveCeiling(file, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: ceiling:", err)
			os.Exit(1)
		}
		return
	}
	// An interrupt ends the run as a failure would: its servers stopped,
	// its temporary directory removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type result struct {
	name    string
	rps     float64
	p99     time.Duration
	ceiling string // name of the result this one is compared with

	// Built-in generator only (wrk refuses runs with non-2xx answers):
	// requests answered, by status.
	requests int
	statuses map[int]int
	lat      []time.Duration // sorted

	// checkpointd's CPU time a request over the run (user and system,
	// /proc/PID/stat), when the method measured it; 0 otherwise.
	cpu time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	_, err := load(ctx, args, out)
	return err
}

// load runs every target, writes the report to out and returns the
// results.
func load(ctx context.Context, args []string, out io.Writer) ([]result, error) {
	// Seeding writes the data set directly, as the server itself.
	ctx = backup.WithPrincipal(ctx, backup.System)
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	duration := fs.Duration("duration", 0, "how long each target is loaded (-inprocess; default 10s), or one repetition of one side of a figure (default 3s; -quick 1s; wrk runs whole seconds)")
	connList := fs.String("connections", "", "concurrent connections: a comma-separated list (default 16,64; -inprocess and -soak take the first, default 32)")
	small := fs.Int("small", 1000, "checkpoints in the small cluster")
	big := fs.Int("big", 1000000, "checkpoints in the big cluster (0: no big cluster, no walks over it; -quick: 20000)")
	dir := fs.String("dir", "", "directory for the database (kept and reused if it already holds one; default: a temporary one)")
	gen := fs.String("generator", "auto", "load generator: wrk, builtin or auto")
	reps := fs.Int("reps", 3, "repetitions of each figure, its two sides taking turns (the method publishes 3 or more)")
	quick := fs.Bool("quick", false, "a rehearsal: -duration 1s and -big 20000 unless given")
	stores := fs.String("stores", "sqlite,postgres", "stores measured, comma-separated: sqlite, postgres")
	configs := fs.String("configs", cfgShipped+","+cfgStripped, "server configurations measured, comma-separated: shipped (serve's defaults, request log to a file, rate limiter on with a limit never reached), stripped (limiter off, request log discarded)")
	phases := fs.String("phases", "", "measure only the phases whose name matches this regular expression: get-one, list-100, digest, and walk SIZE MODE N with SIZE as -small and -big say (1k, 1M; 20k with -quick), MODE cached or uncached, N 100 or 500 items a page (default: all)")
	pgURL := fs.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server on which a scratch database is created (checkpointd_load_SMALL_BIG, kept for the next run); none answering skips PostgreSQL")
	keepLogs := fs.Bool("keep-logs", false, "keep each phase's server log (serve-STORE-CONFIGURATION-PHASE.log) in -dir; give -dir too, since a temporary one is removed at the end")
	inprocess := fs.Bool("inprocess", false, "instead of the method, the in-process targets: the API and its store cache off in this process, with and without authentication, under -run, -auth, -cpuprofile and -memprofile")
	authKind := fs.String("auth", authBearer, "-inprocess: credentials of the API requests: bearer (a service account's token), digest (an API key; built-in generator only) or none")
	only := fs.String("run", "", "-inprocess: load only the targets whose name matches this regular expression (default: all)")
	cpuProfile := fs.String("cpuprofile", "", "-inprocess: write a CPU profile of this process (the servers, and the built-in generator if used) over the loaded targets to `FILE`")
	memProfile := fs.String("memprofile", "", "-inprocess: write an allocation profile of this process over the whole run to `FILE`")
	soakFor := fs.Duration("soak", 0, "instead of the method, soak `checkpointd serve --demo` (run as a process of its own, the engine writing) for this long with mixed traffic, sampling its memory")
	soakSpeed := fs.Float64("soak-speed", 1700, "the soak's engine schedule runs this many times faster than the wall clock (--demo-speed)")
	soakSample := fs.Duration("soak-sample", 5*time.Second, "how often the soak samples the server")
	binary := fs.String("checkpointd", "", "the checkpointd binary the method and the soak run (default: go build ./cmd/checkpointd)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	connsList, err := parseInts(*connList)
	if err != nil {
		return nil, fmt.Errorf("-connections: %w", err)
	}
	conns := new(int)
	*conns = 32
	if len(connsList) > 0 {
		*conns = connsList[0]
	}
	if len(connsList) == 0 {
		connsList = []int{16, 64}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !*inprocess && *soakFor == 0 {
		for _, f := range []string{"auth", "run", "cpuprofile", "memprofile"} {
			if set[f] {
				return nil, fmt.Errorf("-%s applies to -inprocess only", f)
			}
		}
		if *reps < 1 {
			return nil, errors.New("-reps: at least 1 (3 or more for figures to publish)")
		}
		cfg := methodConfig{duration: 3 * time.Second, reps: *reps, conns: connsList, small: *small, big: *big, dir: *dir,
			postgresURL: *pgURL, binary: *binary, keepLogs: *keepLogs, args: args}
		if *quick {
			cfg.duration = time.Second
			if !set["big"] {
				cfg.big = 20000
			}
		}
		if set["duration"] {
			cfg.duration = *duration
		}
		if cfg.duration <= 0 || cfg.small <= 0 || cfg.big < 0 {
			return nil, errors.New("-duration and -small must be positive, -big 0 or more")
		}
		var err error
		if cfg.stores, err = parseChoice(*stores, "sqlite", "postgres"); err != nil {
			return nil, fmt.Errorf("-stores: %w", err)
		}
		if cfg.configs, err = parseChoice(*configs, cfgShipped, cfgStripped); err != nil {
			return nil, fmt.Errorf("-configs: %w", err)
		}
		if *phases != "" {
			if cfg.phases, err = regexp.Compile(*phases); err != nil {
				return nil, fmt.Errorf("-phases: %w", err)
			}
		}
		switch *gen {
		case "wrk":
			cfg.useWrk = true
		case "auto":
			cfg.useWrk = haveWrk()
		case "builtin":
		default:
			return nil, fmt.Errorf("-generator: %q is none of wrk, builtin or auto", *gen)
		}
		return nil, method(ctx, cfg, out)
	}
	if *duration == 0 {
		*duration = 10 * time.Second
	}
	if *soakFor > 0 {
		if *soakSpeed <= 0 || *soakSample <= 0 {
			return nil, errors.New("-soak-speed and -soak-sample must be positive")
		}
		// The gets ask for the newest checkpoints at the start; the
		// demo keeps a week of them.
		if time.Duration(float64(*soakFor)**soakSpeed) > 6*24*time.Hour {
			return nil, fmt.Errorf("-soak %s at -soak-speed %g is more than 6 days of schedule: the checkpoints asked for would be pruned; lower -soak-speed", *soakFor, *soakSpeed)
		}
		if *dir == "" {
			d, err := os.MkdirTemp("", "checkpointd-soak")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(d)
			*dir = d
		}
		return nil, soak(ctx, soakConfig{duration: *soakFor, sample: *soakSample, speed: *soakSpeed, conns: *conns, binary: *binary, dir: *dir}, out)
	}
	var onlyRE *regexp.Regexp
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			return nil, fmt.Errorf("-run: %w", err)
		}
		onlyRE = re
	}
	if *memProfile != "" {
		// Every allocation, not one in 512 KiB: the run is short and the
		// profile is read for counts per request.
		prev := runtime.MemProfileRate
		runtime.MemProfileRate = 1
		defer func() { runtime.MemProfileRate = prev }()
		defer func() {
			if err := writeHeapProfile(*memProfile); err != nil {
				fmt.Fprintln(out, "memprofile:", err)
			}
		}()
	}
	switch *authKind {
	case authBearer, authDigest, authNone:
	default:
		return nil, fmt.Errorf("-auth: %q is none of bearer, digest or none", *authKind)
	}
	useWrk := *gen == "wrk" || *gen == "auto" && haveWrk() && *authKind != authDigest
	if useWrk && *authKind == authDigest {
		return nil, errors.New("-auth digest needs the built-in generator: wrk cannot answer a digest challenge")
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "checkpointd-load")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	fmt.Fprintf(out, "generator: %s, %d connections, %s per target\n", map[bool]string{true: "wrk", false: "builtin"}[useWrk], *conns, *duration)

	db, err := sqlite.Open(ctx, filepath.Join(*dir, "load.db"))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := seed(ctx, db, *small, *big, out); err != nil {
		return nil, err
	}

	// The servers log every request as serve does; formatting is measured,
	// the write to a terminal is not.
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// newAPI is the API over st as serve wires it, with an authenticator
	// over the same store unless -auth none. Rate limiting is off
	// (auth.Limit{} is no limit): serve's default of 6000 requests a
	// minute per caller would refuse nearly all of the load, and the
	// limiter's cost is not what is measured here. Credentials are
	// re-checked against the store as serve does by default
	// (auth.DefaultRefresh).
	newAPI := func(st *sqlite.DB, authenticate bool) (net.Listener, error) {
		cfg := httpapi.Config{Logger: logger}
		if authenticate {
			a, err := auth.New(ctx, auth.Config{Store: st, RateLimit: auth.Limit{}, TokenRateLimit: auth.Limit{}, Refresh: auth.DefaultRefresh, Logger: logger})
			if err != nil {
				return nil, err
			}
			cfg.Auth, cfg.OAuth = a, a
		}
		return listen(httpapi.New(cfg, st))
	}
	authed := *authKind != authNone
	api, err := newAPI(db, authed)
	if err != nil {
		return nil, err
	}
	defer api.Close()
	apiURL := "http://" + api.Addr().String()

	// The same store without authentication, for the cost of it.
	var openURL string
	if authed {
		open, err := newAPI(db, false)
		if err != nil {
			return nil, err
		}
		defer open.Close()
		openURL = "http://" + open.Addr().String()
	}

	// A second handle on the same file with the store's cache off shows
	// what the cache buys and that the range read itself is flat.
	rawDB, err := sqlite.Open(ctx, filepath.Join(*dir, "load.db"), sqlite.WithCacheSize(0, 0))
	if err != nil {
		return nil, err
	}
	defer rawDB.Close()
	raw, err := newAPI(rawDB, authed)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	rawURL := "http://" + raw.Addr().String()

	creds, err := newCredentials(ctx, *authKind, db, apiURL)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "auth: %s\n", creds.describe())
	// With bearer, get-one is also measured with an API key over Digest,
	// both through the built-in generator (wrk cannot answer a digest
	// challenge), so that the two kinds of credentials are compared in
	// one run with one generator.
	var digestCreds *credentials
	if *authKind == authBearer {
		if digestCreds, err = newCredentials(ctx, authDigest, db, apiURL); err != nil {
			return nil, err
		}
		fmt.Fprintf(out, "auth: and %s (the built-in generator's rows)\n", digestCreds.describe())
	}

	smallList := apiURL + clusterPath("small") + "/backupCheckpoints?itemsPerPage=100"
	getOne, err := firstID(ctx, smallList, creds)
	if err != nil {
		return nil, err
	}
	getURL := apiURL + clusterPath("small") + "/backupCheckpoints/" + getOne
	if authed {
		// The servers measured with credentials do refuse requests without.
		for _, u := range []string{getURL, strings.Replace(getURL, apiURL, rawURL, 1)} {
			if _, _, err := fetch(ctx, u, noCredentials); err == nil || !strings.Contains(err.Error(), ": 401 ") {
				return nil, fmt.Errorf("a request without credentials was not refused with 401: %v", err)
			}
		}
	}

	// The ceiling serves the bytes the API just served, with its headers.
	// It is sent no credentials.
	getBody, getHdr, err := fetch(ctx, getURL, creds)
	if err != nil {
		return nil, err
	}
	listBody, listHdr, err := fetch(ctx, smallList, creds)
	if err != nil {
		return nil, err
	}
	ceil, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, hdr := getBody, getHdr
		if strings.HasSuffix(r.URL.Path, "/list") {
			body, hdr = listBody, listHdr
		}
		for k, v := range hdr {
			w.Header()[k] = v
		}
		_, _ = w.Write(body)
	}))
	if err != nil {
		return nil, err
	}
	defer ceil.Close()
	ceilURL := "http://" + ceil.Addr().String()

	// Every API target is sent creds, but for the "no auth" ones, which
	// go to the same store without authentication.
	type target struct {
		name, url, ceiling string
		creds              *credentials
		builtin            bool // always the built-in generator
	}
	targets := []target{
		{"ceiling get-one", ceilURL + "/get", "", noCredentials, false},
		{"get-one", getURL, "ceiling get-one", creds, false},
	}
	if authed {
		targets = append(targets, target{"get-one, no auth", strings.Replace(getURL, apiURL, openURL, 1), "ceiling get-one", noCredentials, false})
	}
	targets = append(targets,
		target{"ceiling list-100", ceilURL + "/list", "", noCredentials, false},
		target{"list-100", smallList, "ceiling list-100", creds, false})
	if authed {
		targets = append(targets, target{"list-100, no auth", strings.Replace(smallList, apiURL, openURL, 1), "ceiling list-100", noCredentials, false})
	}
	if digestCreds != nil {
		targets = append(targets,
			target{getBearerBuiltin, getURL, "", creds, true},
			target{getDigestBuiltin, getURL, getBearerBuiltin, digestCreds, true})
	}
	targets = append(targets,
		target{"get-one, store cache off", strings.Replace(getURL, apiURL, rawURL, 1), "ceiling get-one", creds, false},
		target{"list-100, store cache off", strings.Replace(smallList, apiURL, rawURL, 1), "ceiling list-100", creds, false})
	// List latency by store size and page depth, with the cache on and off.
	for _, srv := range []struct{ label, url string }{{"", apiURL}, {", store cache off", rawURL}} {
		name := func(n int, page string) string {
			return fmt.Sprintf("list-100, %d in store, %s page%s", n, page, srv.label)
		}
		list := func(cluster string) string {
			return srv.url + clusterPath(cluster) + "/backupCheckpoints?itemsPerPage=100"
		}
		targets = append(targets,
			target{name(*small, "first"), list("small") + "&pageNum=1", "", creds, false},
			target{name(*small, "last"), list("small") + "&pageNum=" + strconv.Itoa((*small+99)/100), name(*small, "first"), creds, false})
		if *big > 0 {
			targets = append(targets,
				target{name(*big, "first"), list("big") + "&pageNum=1", name(*small, "first"), creds, false},
				target{name(*big, "last"), list("big") + "&pageNum=" + strconv.Itoa((*big+99)/100), name(*big, "first"), creds, false})
		}
	}

	if onlyRE != nil {
		targets = slices.DeleteFunc(targets, func(t target) bool {
			// A ratio needs its reference: keep the targets compared with.
			return !onlyRE.MatchString(t.name) && !slices.ContainsFunc(targets, func(o target) bool {
				return onlyRE.MatchString(o.name) && o.ceiling == t.name
			})
		})
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	var results []result
	report := func(t target, r result) {
		r.name, r.ceiling = t.name, t.ceiling
		results = append(results, r)
		fmt.Fprintf(out, "  %-62s %9.0f req/s  p99 %8s\n", t.name, r.rps, r.p99.Round(10*time.Microsecond))
	}
	for i := 0; i < len(targets); i++ {
		t := targets[i]
		if t.name == getBearerBuiltin && i+1 < len(targets) && targets[i+1].name == getDigestBuiltin {
			// Bearer and digest take turns, in slices of the duration,
			// so that the machine's drift during the run (other work,
			// frequency) falls on both alike.
			d := targets[i+1]
			rb, rd, err := alternate(ctx, *duration, 4, func(slice time.Duration) (result, result, error) {
				b, err := runBuiltin(ctx, t.url, *conns, slice, t.creds)
				if err != nil {
					return b, result{}, fmt.Errorf("%s: %w", t.name, err)
				}
				r, err := runBuiltin(ctx, d.url, *conns, slice, d.creds)
				if err != nil {
					return b, r, fmt.Errorf("%s: %w", d.name, err)
				}
				return b, r, nil
			})
			if err != nil {
				return nil, err
			}
			report(t, rb)
			report(d, rd)
			i++
			continue
		}
		var r result
		var err error
		if useWrk && !t.builtin {
			r, err = runWrk(ctx, t.url, *conns, *duration, t.creds)
		} else {
			r, err = runBuiltin(ctx, t.url, *conns, *duration, t.creds)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		report(t, r)
	}
	fmt.Fprintf(out, "\n| target | requests/s | p99 | compared with | ratio (req/s) | ratio (p99) |\n|---|---|---|---|---|---|\n")
	byName := map[string]result{}
	for _, r := range results {
		byName[r.name] = r
	}
	for _, r := range results {
		cmp, ratio, pratio := "", "", ""
		if c, ok := byName[r.ceiling]; ok {
			cmp = c.name
			ratio = fmt.Sprintf("%.2f", r.rps/c.rps)
			pratio = fmt.Sprintf("%.2f", float64(r.p99)/float64(c.p99))
		}
		fmt.Fprintf(out, "| %s | %.0f | %s | %s | %s | %s |\n", r.name, r.rps, r.p99.Round(10*time.Microsecond), cmp, ratio, pratio)
	}
	if authed {
		fmt.Fprintf(out, "\nwith %s vs no auth:", *authKind)
		for i, n := range []string{"get-one", "list-100"} {
			a, o := byName[n], byName[n+", no auth"]
			fmt.Fprintf(out, "%s %s requests/s %.2f, p99 %.2f", map[bool]string{true: ";", false: ""}[i > 0], n, a.rps/o.rps, float64(a.p99)/float64(o.p99))
		}
		fmt.Fprintln(out)
	}
	if digestCreds != nil {
		d, b := byName[getDigestBuiltin], byName[getBearerBuiltin]
		fmt.Fprintf(out, "digest (nonce reuse) vs bearer, built-in generator: get-one requests/s %.2f, p99 %.2f\n", d.rps/b.rps, float64(d.p99)/float64(b.p99))
	}
	fmt.Fprintf(out, "\nresponse sizes: get-one %d bytes, list-100 %d bytes\n", len(getBody), len(listBody))
	return results, nil
}

// parseInts reads a comma-separated list of positive numbers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseChoice reads a comma-separated list of some of choices, in the
// order of choices.
func parseChoice(s string, choices ...string) ([]string, error) {
	var got []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(choices, f) {
			return nil, fmt.Errorf("%q is none of %s", f, strings.Join(choices, ", "))
		}
		got = append(got, f)
	}
	var out []string
	for _, c := range choices {
		if slices.Contains(got, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// writeHeapProfile writes the allocation profile (every allocation since
// the profile rate was set) to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile reports up to the last GC
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// The rows comparing the two kinds of credentials.
const (
	getBearerBuiltin = "get-one, bearer, built-in generator"
	getDigestBuiltin = "get-one, digest, built-in generator"
)

var (
	orgID     = backup.MustParseObjectID("5f0000000000000000000000")
	projectID = backup.MustParseObjectID("5f0000000000000000000001")
)

func clusterPath(name string) string {
	return "/api/atlas/v2/groups/" + projectID.Hex() + "/clusters/" + name
}

// seed makes a project with a 3-shard cluster "small" and, when big > 0,
// one named "big", unless the database already has them.
func seed(ctx context.Context, db open.Store, small, big int, out io.Writer) error {
	if _, err := db.Project(ctx, projectID); err == nil {
		fmt.Fprintln(out, "reusing the existing load database")
		return nil
	}
	org := backup.Organization{ID: orgID, Name: "load", Created: time.Unix(1e9, 0)}
	if err := db.CreateOrganization(ctx, org); err != nil {
		return err
	}
	if err := db.CreateProject(ctx, backup.Project{ID: projectID, OrgID: org.ID, Name: "load", Created: org.Created}); err != nil {
		return err
	}
	ids := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, n := range []int{small, big} {
		if n == 0 {
			continue
		}
		name := []string{"small", "big"}[i]
		c := backup.Cluster{
			ID: ids.New(org.Created), GroupID: projectID, Name: name, Type: backup.Sharded,
			MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy, Created: org.Created,
			Shards: []backup.Shard{{Name: name + "-shard-0", ReplicaSetName: name + "-shard-0"},
				{Name: name + "-shard-1", ReplicaSetName: name + "-shard-1"},
				{Name: name + "-shard-2", ReplicaSetName: name + "-shard-2"}},
			Config: backup.ConfigServer{ReplicaSetName: name + "-config-0"},
		}
		if err := db.CreateCluster(ctx, c); err != nil {
			return err
		}
		start := time.Now()
		// Insert in batches of a year of 15-minute slots at most.
		const batch = 35040
		slotStart := end.Add(-time.Duration(n) * 15 * time.Minute)
		for done := 0; done < n; done += batch {
			k := min(batch, n-done)
			from := slotStart.Add(time.Duration(done) * 15 * time.Minute)
			cps := history(rng, ids, c, from.Add(-15*time.Minute), from.Add(time.Duration(k-1)*15*time.Minute+2*time.Minute), 15*time.Minute)
			if len(cps) > k {
				cps = cps[:k]
			}
			if err := db.AddCheckpoints(ctx, cps); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "seeded %q with %d checkpoints in %s\n", name, n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func listen(h http.Handler) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln, nil
}

const accept = "application/vnd.atlas.2023-01-01+json"

// fetch GETs url as an Atlas v2 client, signed with creds, and returns the
// body and the headers but Date and Content-Length.
func fetch(ctx context.Context, url string, creds *credentials) ([]byte, http.Header, error) {
	return fetchAs(ctx, url, creds, true)
}

// fetchAs is fetch with (v2) or without the v2 Accept header, and
// without the Content-Length header.
func fetchAs(ctx context.Context, url string, creds *credentials, v2 bool) ([]byte, http.Header, error) {
	b, h, err := get(ctx, url, creds, v2)
	if err == nil {
		h.Del("Content-Length")
	}
	return b, h, err
}

// get GETs url signed with creds, with (v2) or without the v2 Accept
// header, and returns the body of a 200 and every header but Date.
func get(ctx context.Context, url string, creds *credentials, v2 bool) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	if v2 {
		req.Header.Set("Accept", accept)
	}
	sign, err := creds.conn(ctx, http.DefaultClient, url, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := sign(req); err != nil {
		return nil, nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != 200 {
		return nil, nil, fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b)
	}
	h := res.Header.Clone()
	h.Del("Date")
	return b, h, nil
}

var idPattern = regexp.MustCompile(`"id":"([0-9a-f]{24})"`)

func firstID(ctx context.Context, listURL string, creds *credentials) (string, error) {
	b, _, err := fetch(ctx, listURL, creds)
	if err != nil {
		return "", err
	}
	m := idPattern.FindSubmatch(b)
	if m == nil {
		return "", errors.New("no checkpoint in " + listURL)
	}
	return string(m[1]), nil
}

func haveWrk() bool {
	_, err := exec.LookPath("wrk")
	return err == nil
}

var (
	wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99 = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
	wrkErr = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: .*`)
)

// runWrk loads url with wrk and parses requests/s and the 99th percentile.
// wrk sends one set of headers with every request, so creds can be none
// or bearer.
func runWrk(ctx context.Context, url string, conns int, d time.Duration, creds *credentials) (result, error) {
	return runWrkArgs(ctx, url, conns, d, creds)
}

// parseWrk reads requests/s and the 99th percentile from wrk --latency
// output, refusing runs in which wrk saw errors.
func parseWrk(s string) (result, error) {
	if m := wrkErr.FindString(s); m != "" {
		return result{}, fmt.Errorf("wrk reported errors: %s", m)
	}
	m := wrkRPS.FindStringSubmatch(s)
	p := wrkP99.FindStringSubmatch(s)
	if m == nil || p == nil {
		return result{}, fmt.Errorf("cannot parse wrk output: %s", s)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	v, _ := strconv.ParseFloat(p[1], 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[2]]
	return result{rps: rps, p99: time.Duration(v * float64(unit))}, nil
}

// alternate runs two targets by turns in rounds slices of d and merges
// each one's slices.
func alternate(ctx context.Context, d time.Duration, rounds int, run func(slice time.Duration) (result, result, error)) (result, result, error) {
	var as, bs []result
	for range rounds {
		a, b, err := run(d / time.Duration(rounds))
		if err != nil {
			return result{}, result{}, err
		}
		as, bs = append(as, a), append(bs, b)
	}
	return merge(as, d), merge(bs, d), nil
}

// merge adds up results of the built-in generator that took d in all.
func merge(rs []result, d time.Duration) result {
	m := result{statuses: map[int]int{}}
	for _, r := range rs {
		m.lat = append(m.lat, r.lat...)
		m.requests += r.requests
		for s, n := range r.statuses {
			m.statuses[s] += n
		}
	}
	slices.Sort(m.lat)
	m.rps = float64(len(m.lat)) / d.Seconds()
	if len(m.lat) > 0 {
		m.p99 = m.lat[len(m.lat)*99/100]
	}
	return m
}

// runBuiltin is a closed-loop generator: conns goroutines, each sending
// the next request when the last one is answered, for d. Each goroutine
// is one client with creds (a digest client keeps its own nonce, and has
// the responses of its next requests computed before the run starts, as
// wrk has its one bearer header, so that the generator's hashing does not
// take the server's CPU). It counts answers by status and fails if any was
// not 200.
func runBuiltin(ctx context.Context, url string, conns int, d time.Duration, creds *credentials) (result, error) {
	return runBuiltinRequests(ctx, url, requests{}, conns, d, creds)
}

// runBuiltinRequests is runBuiltin sending base+r's requests (a digest
// client of a walk signs each request as it sends it).
func runBuiltinRequests(ctx context.Context, base string, r requests, conns int, d time.Duration, creds *credentials) (result, error) {
	url := base + r.path
	if r.walk() {
		url += "1"
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	signers := make([]signer, conns)
	for i := range signers {
		var err error
		// Up to 40 000 requests a second in all: more than this
		// generator reaches here; past them a client signs as it goes.
		if signers[i], err = creds.presigned(ctx, client, url, d, int(40000*d.Seconds())/conns+100); err != nil {
			return result{}, err
		}
	}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var lat []time.Duration
	statuses := map[int]int{}
	var firstErr error
	var wg sync.WaitGroup
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sign := signers[i]
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			var mine []time.Duration
			byStatus := map[int]int{}
			for time.Now().Before(deadline) && ctx.Err() == nil {
				u := url
				if r.walk() {
					u = base + r.next(rng)
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
				req.Header.Set("Accept", accept)
				if err := sign(req); err != nil {
					fail(err)
					break
				}
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if err != nil {
					fail(err)
					break
				}
				byStatus[res.StatusCode]++
				if res.StatusCode != 200 {
					fail(fmt.Errorf("status %d", res.StatusCode))
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			for s, n := range byStatus {
				statuses[s] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range statuses {
		n += c
	}
	if firstErr != nil {
		return result{}, fmt.Errorf("%w (answers by status: %v)", firstErr, statuses)
	}
	if len(lat) == 0 {
		return result{}, errors.New("no request completed")
	}
	slices.Sort(lat)
	return result{rps: float64(len(lat)) / d.Seconds(), p99: lat[len(lat)*99/100], requests: n, statuses: statuses, lat: lat}, nil
}
