package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	instances "github.com/checkpointd/checkpointd/internal/instance"
	"github.com/checkpointd/checkpointd/internal/metrics"
	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/web"
)

// serveConfig is every setting of serve.
type serveConfig struct {
	config        string
	addr          string
	database      string
	dbTimeout     time.Duration
	checkWithin   time.Duration // --integrity-check-timeout
	demo          bool
	engine        bool
	engineRefresh time.Duration
	demoSeed      uint64
	demoSpeed     float64 // hidden, for tests: see demoClock
	demoEpoch     int64   // hidden, for tests: see demoClock
	externalURL   string
	paging        string
	logFormat     string
	logLevel      string
	tlsCert       string
	tlsKey        string
	metricsAddr   string
	pprof         bool

	trustForwardedFor bool
	rateLimit         string
	tokenRateLimit    string
	digestAlgorithms  string
	authRefresh       time.Duration
	cacheSize         string
	pagesInFlight     int
	timeouts          serveTimeouts
}

// defaultCacheSize is --cache-size's default: with the Go runtime and
// the requests under way, the server then stays within some 64 MiB
// whatever the clients ask for.
const defaultCacheSize = "16MiB"

// cacheBudget is --cache-size shared among the server's caches: half for
// the store's pages of checkpoints and an eighth for its single
// checkpoints (open.Options.CacheSize takes the two together, split four
// to one), a quarter for the API's encoded bodies (three quarters of it
// pages, one single checkpoints: httpapi.Config.PageBodyCacheSize takes
// both), and the rest, an eighth, for credentials. A size of 0 turns every
// cache off.
type cacheBudget struct {
	store, bodies, credentials int64
}

func splitCache(total int64) cacheBudget {
	if total == 0 {
		return cacheBudget{store: -1, bodies: -1, credentials: -1}
	}
	b := cacheBudget{store: total / 8 * 5, bodies: total / 4}
	b.credentials = total - b.store - b.bodies
	return b
}

// memoryHeadroom is what the Go runtime's soft memory limit allows
// beyond --cache-size when serve sets it (setMemoryLimit): the requests
// under way (a page of 500 checkpoints is some 800 KB decoded and
// encoded, and --pages-in-flight bounds how many are: 4 on 2 CPUs) and
// what the server holds besides its caches. Without that bound 64
// clients of such pages held 50 MB, and a heap kept under this limit was
// collected almost without pause.
const memoryHeadroom = 16 << 20

// setMemoryLimit sets the Go runtime's soft memory limit to the caches'
// bound plus memoryHeadroom, unless a limit is set already (GOMEMLIMIT
// in the environment), so that the collector runs before garbage from
// large pages doubles the heap the caches keep live. It returns what
// puts the previous limit back.
func setMemoryLimit(caches int64) (restore func()) {
	prev := debug.SetMemoryLimit(-1)
	if prev != math.MaxInt64 {
		return func() {}
	}
	debug.SetMemoryLimit(caches + memoryHeadroom)
	return func() { debug.SetMemoryLimit(prev) }
}

// parseSize reads a size in bytes: a whole number, alone or followed by
// KiB, MiB or GiB (powers of 1024).
func parseSize(s string) (int64, error) {
	num, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		n      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			num, unit = rest, u.n
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/unit {
		return 0, fmt.Errorf("%q: want a size such as 16MiB, 512KiB or 1048576 (bytes), or 0", s)
	}
	return n * unit, nil
}

// serveTimeouts bound how long a connection may take over each part of a
// request, so that slow or stalled clients cannot hold connections and
// goroutines forever, and how long shutdown waits for requests under way.
type serveTimeouts struct {
	readHeader, read, write, idle, shutdown time.Duration
}

// check refuses timeouts that are not positive: zero would mean none.
func (t serveTimeouts) check() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"read-header-timeout", t.readHeader}, {"read-timeout", t.read}, {"write-timeout", t.write}, {"idle-timeout", t.idle}, {"shutdown-timeout", t.shutdown}} {
		if f.d <= 0 {
			return flagErrorf(f.name, "%v must be positive", f.d)
		}
	}
	return nil
}

func newServeCmd(e *env) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API",
		Long: `Serve the checkpoints API on --addr over the store in --database: the
three API generations, the administration API (/api/checkpointd/v1:
clusters, their schedules, backup agents' checkpoint reports), the web view
(/ui/), the OpenAPI document (/api/checkpointd/v1/openapi.yaml), /healthz
and /readyz; metrics on --metrics-addr. The engine takes the checkpoints of
the clusters scheduled for the SIMULATED driver (--engine).

Every flag can also be set with an environment variable named
CHECKPOINTD_ and the flag's name in upper case with underscores, e.g.
CHECKPOINTD_ADDR=127.0.0.1:9000, or in a TOML configuration file
(--config FILE or CHECKPOINTD_CONFIG=FILE) whose keys are the flags'
names:

  addr = "127.0.0.1:9000"
  database = "/var/lib/checkpointd/checkpointd.db"
  rate-limit = "100/1m"
  trust-forwarded-for = true

A key that is not a flag is an error. A flag on the command line wins over
the environment, which wins over the configuration file, which wins over
the default.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(e, cmd.Flags()); err != nil {
				return err
			}
			file, err := bindConfig(cmd.Flags(), c.config, "config")
			if err != nil {
				return err
			}
			err = file.blame(serve(cmd.Context(), e, c))
			if err != nil && cmd.Context().Err() != nil {
				// A signal stopped it (Ctrl-C while starting): say so
				// rather than leave a bare "context canceled".
				err = fmt.Errorf("interrupted: %w", err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.config, "config", "", "TOML configuration `FILE` whose keys are these flags' names (flags and CHECKPOINTD_* variables win over it)")
	_ = cmd.MarkFlagFilename("config", "toml")
	f.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port); port 0 picks a free one. The default serves this machine alone; an address other machines reach (e.g. 0.0.0.0:8443) should have TLS: --tls-cert and --tls-key, or a TLS-terminating proxy in front (then --external-url https://…)")
	f.StringVar(&c.database, "database", "checkpointd.db", "SQLite database file (created if missing), or a postgres:// URL")
	f.BoolVar(&c.demo, "demo", false, "seed a demo organization, project and clusters with a week of checkpoints (once) and print URLs to try; the engine keeps its simulated clusters taking checkpoints")
	f.DurationVar(&c.dbTimeout, "database-timeout", open.DefaultOptions.CallTimeout, "PostgreSQL: the longest one store call (a read, or a write transaction with its retries) may take; a database that hangs rather than refuses then costs a request a 503 after this long. 0: no bound but the request's own")
	f.DurationVar(&c.checkWithin, "integrity-check-timeout", open.DefaultIntegrityCheck, "SQLite: at start, check the database file (PRAGMA quick_check) for at most this long and refuse to serve a damaged one; a larger file is served unchecked after this long. 0: no check")
	f.Uint64Var(&c.demoSeed, "demo-seed", 1, "random seed of the demo history and of the simulated clusters")
	f.BoolVar(&c.engine, "engine", true, "take the checkpoints of the clusters scheduled for the SIMULATED driver (false: serve only; agents' checkpoints are accepted either way)")
	f.DurationVar(&c.engineRefresh, "engine-refresh", engine.DefaultRefresh, "how often the engine reads the clusters' schedules (positive): a cluster created, changed or deleted through any server is taken into account within this time")
	f.Float64Var(&c.demoSpeed, "demo-speed", 0, "run the demo schedule this many times faster than the wall clock (tests only)")
	f.Int64Var(&c.demoEpoch, "demo-epoch", 0, "Unix milliseconds at which the --demo-speed clock reads the wall clock (tests only)")
	_ = f.MarkHidden("demo-speed")
	_ = f.MarkHidden("demo-epoch")
	f.StringVar(&c.externalURL, "external-url", "", "base URL for absolute links in responses (default: the request's scheme and Host)")
	f.StringVar(&c.paging, "paging", "lenient", "out-of-range pageNum/itemsPerPage: lenient (clamp, as MongoDB's API guidelines say) or strict (400)")
	f.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&c.tlsCert, "tls-cert", "", "serve HTTPS (TLS 1.2 or later) with the PEM certificate, followed by any intermediates, in `FILE`; needs --tls-key")
	f.StringVar(&c.tlsKey, "tls-key", "", "PEM private key of --tls-cert in `FILE`")
	f.StringVar(&c.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at GET /metrics on a listener of their own at this address (host:port, e.g. 127.0.0.1:9464), plain HTTP and without credentials, never on --addr; empty: no metrics")
	f.BoolVar(&c.pprof, "pprof", false, "also serve Go's profiler (net/http/pprof) at /debug/pprof/ on the --metrics-addr listener (needs --metrics-addr; never on --addr): CPU, heap, goroutine and other profiles on demand, e.g. go tool pprof http://127.0.0.1:9464/debug/pprof/profile?seconds=20")
	f.BoolVar(&c.trustForwardedFor, "trust-forwarded-for", false, "take the client address for API access lists from the last X-Forwarded-For entry (only behind one reverse proxy that sets it)")
	f.StringVar(&c.rateLimit, "rate-limit", "6000/1m", "requests each API key or service account may make, as N/WINDOW (e.g. 100/1m); 0 for no limit")
	f.StringVar(&c.tokenRateLimit, "token-rate-limit", "50/1m", "token and revoke requests per client address and client id, as N/WINDOW; 0 for no limit")
	f.StringVar(&c.cacheSize, "cache-size", defaultCacheSize, "memory the server's caches may hold in all, as bytes or with KiB, MiB or GiB: half for pages of checkpoints, an eighth for single checkpoints, a quarter for the encoded bodies of pages and checkpoints, an eighth for credentials; 0 turns every cache off. Unless GOMEMLIMIT is set, the Go runtime's soft memory limit is this plus 16MiB")
	f.IntVar(&c.pagesInFlight, "pages-in-flight", 0, fmt.Sprintf("pages of checkpoints read, encoded and written at once, counted in pages of 500 (a page of 100 is a fifth of one): a list request beyond them waits for its turn (until its client goes away), so that many clients asking for large pages at once cost memory for this many pages, not one each; 0: %d per CPU (GOMAXPROCS), at most %d; -1: no bound", httpapi.DefaultPagesInFlight, httpapi.MaxDefaultPagesInFlight))
	f.DurationVar(&c.authRefresh, "auth-refresh", auth.DefaultRefresh, "how long credentials are trusted before the store is asked whether any changed: a key deleted or a token revoked elsewhere is refused within this time (a revoke through this server at once); 0 asks on every request")
	f.DurationVar(&c.timeouts.readHeader, "read-header-timeout", 10*time.Second, "how long a client may take to send a request's headers")
	f.DurationVar(&c.timeouts.read, "read-timeout", 30*time.Second, "how long a client may take to send a whole request, body included")
	f.DurationVar(&c.timeouts.write, "write-timeout", 60*time.Second, "how long a response may take, from the end of the request's headers")
	f.DurationVar(&c.timeouts.idle, "idle-timeout", 120*time.Second, "how long a kept-alive connection may wait for its next request")
	f.DurationVar(&c.timeouts.shutdown, "shutdown-timeout", 10*time.Second, "on SIGTERM, how long requests under way may take to finish before the server exits")
	f.StringVar(&c.digestAlgorithms, "digest-algorithms", "MD5,SHA-256", "HTTP Digest algorithms offered, in challenge order (MD5 alone is the service's exact challenge)")
	_ = cmd.RegisterFlagCompletionFunc("paging", cobra.FixedCompletions([]string{"lenient", "strict"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("log-level", cobra.FixedCompletions([]string{"debug", "info", "warn", "error"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func serve(ctx context.Context, e *env, c serveConfig) error {
	if err := c.timeouts.check(); err != nil {
		return err
	}
	paging, ok := httpapi.ParsePagingMode(c.paging)
	if !ok {
		return flagErrorf("paging", "%q is neither lenient nor strict", c.paging)
	}
	logger, closeLog, err := newLogger(e, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	defer closeLog()
	if c.externalURL != "" && !strings.HasPrefix(c.externalURL, "http://") && !strings.HasPrefix(c.externalURL, "https://") {
		return flagErrorf("external-url", "%q must start with http:// or https://", c.externalURL)
	}

	cacheTotal, err := parseSize(c.cacheSize)
	if err != nil {
		return &flagError{name: "cache-size", err: err}
	}
	caches := splitCache(cacheTotal)
	defer setMemoryLimit(cacheTotal)()
	authCfg, err := c.authConfig(logger)
	if err != nil {
		return err
	}
	authCfg.CacheSize = caches.credentials
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return err
	}
	scheme := "http://"
	if tlsCfg != nil {
		scheme = "https://"
	}

	if c.dbTimeout < 0 {
		return flagErrorf("database-timeout", "%v must be 0 (no bound) or more", c.dbTimeout)
	}
	if c.checkWithin < 0 {
		return flagErrorf("integrity-check-timeout", "%v must be 0 (no check) or more", c.checkWithin)
	}
	if c.engineRefresh <= 0 {
		return flagErrorf("engine-refresh", "%v must be positive", c.engineRefresh)
	}
	if c.pagesInFlight < -1 {
		return flagErrorf("pages-in-flight", "%d must be -1 (no bound), 0 (the default) or more", c.pagesInFlight)
	}
	if c.pprof && c.metricsAddr == "" {
		return flagErrorf("pprof", "needs --metrics-addr: the profiler is served on the metrics listener only, never on --addr")
	}

	// The listeners are bound before the store is opened, so that a bad
	// or busy address fails without creating a database file.
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return &flagError{name: "addr", err: err}
	}
	defer ln.Close() // closed by Serve too; this covers the failures before it
	var mln net.Listener
	if c.metricsAddr != "" {
		if mln, err = net.Listen("tcp", c.metricsAddr); err != nil {
			return &flagError{name: "metrics-addr", err: err}
		}
		defer mln.Close()
	}

	db, err := open.OpenWith(ctx, c.database, open.Options{CallTimeout: c.dbTimeout, Clock: e.clock, CacheSize: caches.store})
	if err != nil {
		return err
	}
	defer db.Close()
	if checked, err := open.CheckIntegrity(ctx, db, c.checkWithin); err != nil {
		return err
	} else if !checked && c.checkWithin > 0 {
		logger.Warn("integrity check not finished in time: serving the database unchecked", "database", c.database, "within", c.checkWithin)
	}
	authCfg.Store, authCfg.Clock = db, e.clock
	authCfg.Instance = instances.NewID()
	authn, err := auth.New(ctx, authCfg)
	if err != nil {
		return err
	}
	// The instance registry: every instance on the data set counts the
	// live ones, and shares rate limits and Digest replay memory among
	// them (auth.Authenticator.SetInstances). Heartbeats are paced on the
	// wall clock, as the engine's refresh is: how fast instances see each
	// other, not a schedule (the store dates them on its own clock).
	member, err := instances.Join(ctx, instances.Config{Store: db, ID: authCfg.Instance, Clock: clock.System,
		OnChange: authn.SetInstances, Logger: logger.With("component", "instance")})
	if err != nil {
		return err
	}
	// A server joining others waits until they all count it before it
	// serves (a heartbeat interval), so that none still acts alone.
	if err := member.Settle(ctx); err != nil {
		return err
	}
	memberCtx, stopMember := context.WithCancel(ctx)
	memberDone := make(chan struct{})
	go func() {
		defer close(memberDone)
		member.Run(memberCtx) // leaves the registry when stopped
	}()
	// Deferred after the store's Close, so run before it.
	defer func() {
		stopMember()
		<-memberDone
	}()
	// The metrics read the restore points from the store at each scrape,
	// so that every instance on a data set reports every checkpoint.
	var mets *metrics.Metrics
	if c.metricsAddr != "" {
		mets = metrics.New(metrics.Options{Store: db, Clock: e.clock, Logger: logger})
	}

	base := scheme + displayAddr(ln.Addr())
	if c.externalURL != "" {
		base = strings.TrimRight(c.externalURL, "/")
	}

	// The engine and the demo data set run on the demo clock; the store,
	// authentication and the API on e.clock, which it is derived from.
	demoClock := e.demoClock(c)
	if c.demo {
		// The demo data set and its key are the server's own doing.
		sys := backup.WithPrincipal(ctx, backup.System)
		ds, err := demo.Seed(sys, db, demo.Options{Seed: c.demoSeed, Now: demoClock.Now()})
		if err != nil {
			return err
		}
		key, err := demo.Key(sys, db, ds, e.clock)
		if err != nil {
			return err
		}
		demo.Print(e.stdout, base, ds, key)
	}
	restoresWake := make(chan struct{}, 1)
	if c.engine {
		// The engine takes the checkpoints of every cluster scheduled
		// for the SIMULATED driver (the demo's included), reading the
		// schedules from the store every --engine-refresh. A data set
		// found from an earlier run continues from now: the slots missed
		// in between are not backfilled. Servers sharing the store take
		// each slot once, through a lease in it.
		supCfg := engine.SupervisorConfig{
			Config: engine.Config{
				Clock:   demoClock,
				IDs:     backup.NewIDSource(),
				Sink:    db,
				Pruner:  db,
				Claimer: engine.Lease{Store: db, Owner: engine.OwnerID()},
				Slots:   db,
				Logger:  logger.With("component", "engine"),
			},
			Source:  db,
			Drivers: sim.Drivers(demoClock, c.demoSeed, sim.DefaultConfig()),
			Refresh: c.engineRefresh,
		}
		if mets != nil {
			supCfg.Observer = mets // only when set, as for the API below
		}
		sup, err := engine.NewSupervisor(supCfg)
		if err != nil {
			return err
		}
		engCtx, stopEngine := context.WithCancel(ctx)
		engDone := make(chan struct{})
		restoresDone := make(chan struct{})
		go func() {
			defer close(engDone)
			_ = sup.Run(engCtx) // returns nil once every checkpoint under way has finished
			<-restoresDone
		}()
		// Slots that passed with no record (no instance, no agent ran
		// them) are recorded as missed, by every server running the
		// engine; the store records each slot once.
		sweepDone := make(chan struct{})
		go func() {
			defer close(sweepDone)
			sw := &engine.Sweep{Store: db, Clock: demoClock, Logger: logger.With("component", "sweep")}
			_ = sw.Run(engCtx)
		}()
		// The simulated clusters' restore jobs finish on the API's clock,
		// which dated them; the API wakes the loop when it creates some.
		go func() {
			defer close(restoresDone)
			_ = engine.Restores(engCtx, db, e.clock, restoresWake, logger.With("component", "restores"))
		}()
		// Deferred after the store's Close, so run before it: the store
		// closes only once the engine has stopped writing to it.
		defer func() {
			stopEngine()
			<-engDone
			<-sweepDone
		}()
	}

	apiCfg := httpapi.Config{
		ExternalURL:       c.externalURL,
		Paging:            paging,
		Version:           version(),
		GitHash:           gitHash(),
		Logger:            logger,
		Auth:              authn,
		OAuth:             authn,
		UI:                web.Handler(),
		Admin:             db,
		Clock:             e.clock,
		ClusterAdmin:      admin.Clusters{Store: db, Clock: e.clock},
		PageBodyCacheSize: caches.bodies,
		PagesInFlight:     c.pagesInFlight,
		RestoreJobsCreated: func() {
			select {
			case restoresWake <- struct{}{}:
			default: // a wake is pending already
			}
		},
	}
	if mets != nil {
		apiCfg.Metrics = mets // only when set: a nil *Metrics in the interface would not be nil
	}
	api := httpapi.New(apiCfg, db)
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: c.timeouts.readHeader,
		ReadTimeout:       c.timeouts.read,
		WriteTimeout:      c.timeouts.write,
		IdleTimeout:       c.timeouts.idle,
		// Far above the API's own limits, so that the API answers oversized
		// requests in its error format; beyond this net/http answers alone.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:      tlsCfg,
	}
	// The metrics listen on their own address, so that they are never
	// exposed where the API is and need no API credentials.
	var msrv *http.Server
	merrc := make(chan error, 1)
	if mets != nil {
		msrv = metricsServer(mets, c.pprof, logger, c.timeouts)
		fmt.Fprintf(e.stdout, "metrics on http://%s/metrics\n", displayAddr(mln.Addr()))
		if c.pprof {
			fmt.Fprintf(e.stdout, "profiles on http://%s/debug/pprof/\n", displayAddr(mln.Addr()))
		}
		logger.Info("serving metrics", "addr", mln.Addr().String())
		go func() { merrc <- msrv.Serve(mln) }()
	}
	fmt.Fprintf(e.stdout, "listening on %s\n", scheme+displayAddr(ln.Addr()))
	logger.Info("serving", "addr", ln.Addr().String(), "tls", tlsCfg != nil, "database", open.Redact(c.database))
	warnPlainHTTP(logger, ln.Addr(), tlsCfg != nil, c.externalURL)

	errc := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			// The certificate is in srv.TLSConfig. Plain HTTP sent to
			// the port is answered in the API's error format.
			errc <- srv.ServeTLS(httpapi.RefusePlainHTTP(ln), "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		if msrv != nil {
			msrv.Close()
		}
		return err
	case err := <-merrc:
		srv.Close()
		return fmt.Errorf("metrics: %w", err)
	case <-ctx.Done():
	}
	// Finish in-flight requests, then close the store (deferred). The
	// metrics listener stops with the API.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), c.timeouts.shutdown)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if msrv != nil {
		if err := msrv.Shutdown(shutdownCtx); err != nil {
			return err
		}
		if err := <-merrc; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	logger.Info("stopped")
	return nil
}

// metricsServer serves GET /metrics and, with --pprof, Go's profiler
// under /debug/pprof/, and nothing else. A scrape reads the store once, so
// the timeouts are those of the API, but for a profile: it runs for the
// seconds it is asked for (default 30), so its write timeout is the longer
// of the two.
//
// The profiler's handlers are registered here, on this listener's own mux,
// and nowhere else: importing net/http/pprof also registers them on
// http.DefaultServeMux, which no server of checkpointd serves, and the
// API's mux (internal/httpapi) never has them.
func metricsServer(m *metrics.Metrics, withPprof bool, logger *slog.Logger, t serveTimeouts) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	write := t.write
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index) // the named profiles: heap, goroutine, allocs, block, mutex, …
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		write = max(write, maxProfileSeconds*time.Second+t.write)
	}
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: t.readHeader,
		ReadTimeout:       t.read,
		WriteTimeout:      write,
		IdleTimeout:       t.idle,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// maxProfileSeconds is the longest CPU profile or trace the metrics
// listener's write timeout leaves time for (?seconds=N); pprof itself
// refuses a profile longer than the server's write timeout.
const maxProfileSeconds = 120

// warnPlainHTTP logs a warning when the API listens without TLS on an
// address other machines may reach: there the service accounts' client
// secrets (HTTP Basic on the token endpoint) and bearer tokens cross the
// network in clear. An https:// --external-url says that a proxy in
// front terminates TLS, so it silences the warning.
func warnPlainHTTP(logger *slog.Logger, addr net.Addr, tls bool, externalURL string) {
	if tls || strings.HasPrefix(externalURL, "https://") || isLoopback(addr) {
		return
	}
	logger.Warn("serving plain HTTP on an address other machines may reach: client secrets and bearer tokens cross the network unencrypted; "+
		"give --tls-cert and --tls-key, or serve through a TLS-terminating proxy and set --external-url https://…", "addr", addr.String())
}

// isLoopback reports whether a listener's address is reachable from this
// machine alone.
func isLoopback(a net.Addr) bool {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// displayAddr turns a listener address into one a client on this machine
// can use: an unspecified host becomes 127.0.0.1.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// newLogger returns serve's logger, writing to stderr through a
// logBuffer (see logbuffer.go), and the function that writes what is
// left in it and stops it.
func newLogger(e *env, format, level string) (*slog.Logger, func() error, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, &flagError{name: "log-level", err: err}
	}
	opts := &slog.HandlerOptions{Level: lv}
	if format != "text" && format != "json" {
		return nil, nil, flagErrorf("log-format", "%q is neither text nor json", format)
	}
	buf := newLogBuffer(e.stderr)
	if format == "json" {
		return slog.New(flushingHandler{slog.NewJSONHandler(buf, opts), buf}), buf.Close, nil
	}
	// The request lines are written by requestLineHandler (requestlog.go).
	return slog.New(requestLineHandler{flushingHandler{slog.NewTextHandler(buf, opts), buf}, buf}), buf.Close, nil
}

// authConfig reads the authentication settings.
func (c serveConfig) authConfig(logger *slog.Logger) (auth.Config, error) {
	if c.authRefresh < 0 {
		return auth.Config{}, flagErrorf("auth-refresh", "%v must not be negative", c.authRefresh)
	}
	cfg := auth.Config{TrustForwardedFor: c.trustForwardedFor, Logger: logger, Refresh: c.authRefresh}
	var err error
	if cfg.RateLimit, err = parseLimit(c.rateLimit); err != nil {
		return cfg, &flagError{name: "rate-limit", err: err}
	}
	if cfg.TokenRateLimit, err = parseLimit(c.tokenRateLimit); err != nil {
		return cfg, &flagError{name: "token-rate-limit", err: err}
	}
	for _, name := range strings.Split(c.digestAlgorithms, ",") {
		alg, ok := digest.ParseAlgorithm(strings.TrimSpace(name))
		if !ok || slices.Contains(cfg.Algorithms, alg) {
			return cfg, flagErrorf("digest-algorithms", "%q: want MD5 and/or SHA-256, each once", c.digestAlgorithms)
		}
		cfg.Algorithms = append(cfg.Algorithms, alg)
	}
	return cfg, nil
}

// tlsConfig reads --tls-cert and --tls-key: nil without them (plain
// HTTP), else a server configuration accepting TLS 1.3 and TLS 1.2, the
// latter with ECDHE and AEAD cipher suites only (Mozilla's "intermediate"
// profile). The files are read once, at start: a renewed certificate
// takes a restart.
func (c serveConfig) tlsConfig() (*tls.Config, error) {
	switch {
	case c.tlsCert == "" && c.tlsKey == "":
		return nil, nil
	case c.tlsKey == "":
		return nil, errors.New("--tls-cert needs --tls-key (the certificate's private key) as well")
	case c.tlsCert == "":
		return nil, errors.New("--tls-key needs --tls-cert (the certificate) as well")
	}
	certPEM, err := os.ReadFile(c.tlsCert)
	if err != nil {
		return nil, &flagError{name: "tls-cert", err: err}
	}
	keyPEM, err := os.ReadFile(c.tlsKey)
	if err != nil {
		return nil, &flagError{name: "tls-key", err: err}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", c.tlsCert, c.tlsKey, err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		CipherSuites: []uint16{ // TLS 1.2 only: TLS 1.3's suites are not configurable
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}, nil
}

// parseLimit reads N/WINDOW, e.g. 100/1m; "0" is no limit.
func parseLimit(s string) (auth.Limit, error) {
	if s == "0" {
		return auth.Limit{}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	req, err := strconv.Atoi(n)
	if !ok || err != nil || req <= 0 {
		return auth.Limit{}, fmt.Errorf("%q: want N/WINDOW with N > 0, e.g. 100/1m, or 0", s)
	}
	window, err := time.ParseDuration(w)
	if err != nil || window < time.Second {
		return auth.Limit{}, fmt.Errorf("%q: the window must be a duration of at least 1s, e.g. 1m", s)
	}
	return auth.Limit{Requests: req, Window: window}, nil
}
