package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/open"
)

// serveConfig is every setting of serve.
type serveConfig struct {
	addr        string
	database    string
	demo        bool
	demoSeed    uint64
	demoSpeed   float64 // hidden, for tests: see demoClockOf
	demoEpoch   int64   // hidden, for tests: see demoClockOf
	externalURL string
	paging      string
	logFormat   string
	logLevel    string
	tlsCert     string
	tlsKey      string

	trustForwardedFor bool
	rateLimit         string
	tokenRateLimit    string
	digestAlgorithms  string
	authRefresh       time.Duration
}

func newServeCmd(e *env) *cobra.Command {
	var c serveConfig
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API",
		Long: `Serve the checkpoints API on --addr over the store in --database.

Every flag can also be set with an environment variable named
CHECKPOINTD_ and the flag's name in upper case with underscores, e.g.
CHECKPOINTD_ADDR=127.0.0.1:9000. A flag on the command line wins over the
environment, which wins over the default.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(e, cmd.Flags()); err != nil {
				return err
			}
			return serve(cmd.Context(), e, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port); port 0 picks a free one")
	f.StringVar(&c.database, "database", "checkpointd.db", "SQLite database file (created if missing), or a postgres:// URL")
	f.BoolVar(&c.demo, "demo", false, "seed a demo organization, project and clusters with a week of checkpoints (once), print URLs to try, and keep the demo clusters (simulated) taking checkpoints while serving")
	f.Uint64Var(&c.demoSeed, "demo-seed", 1, "random seed of the demo history")
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
	f.BoolVar(&c.trustForwardedFor, "trust-forwarded-for", false, "take the client address for API access lists from the last X-Forwarded-For entry (only behind one reverse proxy that sets it)")
	f.StringVar(&c.rateLimit, "rate-limit", "6000/1m", "requests each API key or service account may make, as N/WINDOW (e.g. 100/1m); 0 for no limit")
	f.StringVar(&c.tokenRateLimit, "token-rate-limit", "50/1m", "token and revoke requests per client address and client id, as N/WINDOW; 0 for no limit")
	f.DurationVar(&c.authRefresh, "auth-refresh", auth.DefaultRefresh, "how long credentials are trusted before the store is asked whether any changed: a key deleted or a token revoked elsewhere is refused within this time (a revoke through this server at once); 0 asks on every request")
	f.StringVar(&c.digestAlgorithms, "digest-algorithms", "MD5,SHA-256", "HTTP Digest algorithms offered, in challenge order (MD5 alone is the service's exact challenge)")
	return cmd
}

func serve(ctx context.Context, e *env, c serveConfig) error {
	paging, ok := httpapi.ParsePagingMode(c.paging)
	if !ok {
		return fmt.Errorf("--paging: %q is neither lenient nor strict", c.paging)
	}
	logger, err := newLogger(e, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	if c.externalURL != "" && !strings.HasPrefix(c.externalURL, "http://") && !strings.HasPrefix(c.externalURL, "https://") {
		return fmt.Errorf("--external-url: %q must start with http:// or https://", c.externalURL)
	}

	authCfg, err := c.authConfig(logger)
	if err != nil {
		return err
	}
	tlsCfg, err := c.tlsConfig()
	if err != nil {
		return err
	}
	scheme := "http://"
	if tlsCfg != nil {
		scheme = "https://"
	}

	db, err := open.Open(ctx, c.database)
	if err != nil {
		return err
	}
	defer db.Close()
	authCfg.Store = db
	authn, err := auth.New(ctx, authCfg)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	base := scheme + displayAddr(ln.Addr())
	if c.externalURL != "" {
		base = strings.TrimRight(c.externalURL, "/")
	}

	if c.demo {
		clock := demoClockOf(ctx, c)
		ds, err := demo.Seed(ctx, db, demo.Options{Seed: c.demoSeed, Now: clock.Now()})
		if err != nil {
			ln.Close()
			return err
		}
		key, err := demoKey(ctx, db, ds)
		if err != nil {
			ln.Close()
			return err
		}
		// The demo clusters keep taking checkpoints, from simulations of
		// them, while the server runs. A data set found from an earlier
		// run continues from now: the slots missed in between are not
		// backfilled (see demo.Scheduler).
		// Servers sharing the store take each slot once, through a lease
		// in it.
		claimer := engine.Lease{Store: db, Owner: engine.OwnerID()}
		sched, err := demo.Scheduler(ds, db, demo.RunOptions{Clock: clock, Seed: c.demoSeed, Claimer: claimer, Logger: logger.With("demo", true)})
		if err != nil {
			ln.Close()
			return err
		}
		printDemo(e, base, ds, key)
		schedCtx, stopSched := context.WithCancel(ctx)
		schedDone := make(chan struct{})
		go func() {
			defer close(schedDone)
			_ = sched.Run(schedCtx) // returns nil once every checkpoint under way has finished
		}()
		// Deferred after the store's Close, so run before it: the store
		// closes only once the scheduler has stopped writing to it.
		defer func() {
			stopSched()
			<-schedDone
		}()
	}

	api := httpapi.New(httpapi.Config{
		ExternalURL: c.externalURL,
		Paging:      paging,
		Version:     version(),
		GitHash:     gitHash(),
		Logger:      logger,
		Auth:        authn,
		OAuth:       authn,
	}, db)
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Far above the API's own limits, so that the API answers oversized
		// requests in its error format; beyond this net/http answers alone.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:      tlsCfg,
	}
	fmt.Fprintf(e.stdout, "listening on %s\n", scheme+displayAddr(ln.Addr()))
	logger.Info("serving", "addr", ln.Addr().String(), "tls", tlsCfg != nil, "database", redactDatabase(c.database))

	errc := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificate is in srv.TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Finish in-flight requests, then close the store (deferred).
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
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

func newLogger(e *env, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: %q is neither text nor json", format)
}

// authConfig reads the authentication settings.
func (c serveConfig) authConfig(logger *slog.Logger) (auth.Config, error) {
	if c.authRefresh < 0 {
		return auth.Config{}, fmt.Errorf("--auth-refresh: %v must not be negative", c.authRefresh)
	}
	cfg := auth.Config{TrustForwardedFor: c.trustForwardedFor, Logger: logger, Refresh: c.authRefresh}
	var err error
	if cfg.RateLimit, err = parseLimit(c.rateLimit); err != nil {
		return cfg, fmt.Errorf("--rate-limit: %w", err)
	}
	if cfg.TokenRateLimit, err = parseLimit(c.tokenRateLimit); err != nil {
		return cfg, fmt.Errorf("--token-rate-limit: %w", err)
	}
	for _, name := range strings.Split(c.digestAlgorithms, ",") {
		alg, ok := digest.ParseAlgorithm(strings.TrimSpace(name))
		if !ok || slices.Contains(cfg.Algorithms, alg) {
			return cfg, fmt.Errorf("--digest-algorithms: %q: want MD5 and/or SHA-256, each once", c.digestAlgorithms)
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
		return nil, fmt.Errorf("--tls-cert: %w", err)
	}
	keyPEM, err := os.ReadFile(c.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("--tls-key: %w", err)
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

// clockKey is the context key of demoClock's clock.
type clockKey struct{}

// demoClock returns the clock the demo clusters are scheduled on: the wall
// clock, unless a test put a virtual one (a *sim.Clock) in ctx under
// clockKey to drive the schedule without waiting.
func demoClock(ctx context.Context) engine.Clock {
	if c, ok := ctx.Value(clockKey{}).(engine.Clock); ok {
		return c
	}
	return engine.System
}

// demoKeyDescription marks the keys --demo makes, so that each start
// replaces the previous one rather than piling them up.
const demoKeyDescription = "demo key (checkpointd serve --demo)"

// demoKey creates a Project Read Only key for the demo project and
// returns it as PUBLIC:PRIVATE. The private key is not stored, so every
// start makes a new key and deletes the previous one.
func demoKey(ctx context.Context, db open.Store, ds demo.Dataset) (string, error) {
	keys, err := db.APIKeys(ctx, ds.Project.OrgID)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if k.Description == demoKeyDescription {
			if err := db.DeleteAPIKey(ctx, k.ID); err != nil {
				return "", err
			}
		}
	}
	grants := []backup.Grant{{Role: backup.ProjectReadOnly, ProjectID: ds.Project.ID}}
	k, private, err := admin.CreateAPIKey(ctx, db, ds.Project.OrgID, demoKeyDescription, grants, nil, time.Now())
	if err != nil {
		return "", err
	}
	return k.PublicKey + ":" + private, nil
}

// printDemo tells the user what the demo data set holds and what to try.
func printDemo(e *env, base string, ds demo.Dataset, key string) {
	w := e.stdout
	if ds.Created {
		fmt.Fprintf(w, "demo data set created: project %s (%s)\n", ds.Project.Name, ds.Project.ID)
	} else {
		fmt.Fprintf(w, "demo data set already present: project %s (%s)\n", ds.Project.Name, ds.Project.ID)
	}
	for _, c := range ds.Clusters {
		shape := "replica set"
		if c.Type == backup.Sharded {
			shape = fmt.Sprintf("sharded, %d shards", len(c.Shards))
			if c.Config.Mirrored() {
				shape += ", mirrored config servers"
			}
		}
		fmt.Fprintf(w, "  cluster %s (%s, id %s): %d checkpoints\n", c.Name, shape, c.ID, ds.Checkpoints[c.Name])
	}
	fmt.Fprintf(w, "api key: %s\n", key)
	fmt.Fprintf(w, "  (Project Read Only on %s; a new key on every --demo start; HTTP Digest, as curl --digest)\n", ds.Project.Name)
	fmt.Fprintln(w, "try:")
	const accept = "-H 'Accept: application/vnd.atlas.2023-01-01+json' "
	for _, c := range ds.Clusters {
		id, ok := ds.Sample[c.Name]
		for _, u := range []struct{ label, accept, list string }{
			{"Atlas Administration API v2", accept, fmt.Sprintf("%s/api/atlas/v2/groups/%s/clusters/%s/backupCheckpoints", base, c.GroupID, c.Name)},
			{"Atlas Administration API v1.0", "", fmt.Sprintf("%s/api/atlas/v1.0/groups/%s/clusters/%s/backupCheckpoints", base, c.GroupID, c.Name)},
			{"Cloud Manager public API", "", fmt.Sprintf("%s/api/public/v1.0/groups/%s/clusters/%s/checkpoints", base, c.GroupID, c.ID)},
		} {
			fmt.Fprintf(w, "  # %s, cluster %s\n", u.label, c.Name)
			fmt.Fprintf(w, "  curl --digest -u '%s' %s'%s?pretty=true'\n", key, u.accept, u.list)
			if ok {
				fmt.Fprintf(w, "  curl --digest -u '%s' %s'%s/%s?pretty=true'\n", key, u.accept, u.list, id)
			}
		}
	}
}

// redactDatabase is the --database value fit for a log: a URL's password
// replaced by "xxxxx" (a SQLite path is printed as it is).
func redactDatabase(db string) string {
	if !open.IsPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}
