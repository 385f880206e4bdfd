package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/checkpointd/checkpointd/internal/agent"
	"github.com/checkpointd/checkpointd/internal/client"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/mongodb"
)

// agentConfig holds the agent command's flags.
type agentConfig struct {
	mongodbURI     string
	mongodbURIFile string
	baseURL        string
	publicKey      string
	privateKey     string
	clientID       string
	clientSecret   string
	project        string
	cluster        string
	stateDir       string
	metricsAddr    string
	logFormat      string
	logLevel       string
	refresh        time.Duration
	stopTimeout    time.Duration
	discoveryWait  time.Duration
	opTimeout      time.Duration
	clockSpeed     float64 // hidden, for tests: as serve's --demo-speed
	clockEpoch     int64   // hidden, for tests
}

func newAgentCmd(e *env) *cobra.Command {
	var c agentConfig
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Take a sharded cluster's checkpoints and report them to a checkpointd server",
		Long: `Take the checkpoints of one sharded MongoDB cluster on the schedule a
checkpointd server holds for it (the cluster's backup.driver AGENT and
clusterCheckpointIntervalMin), and report each one to that server.

The agent connects to the cluster through a mongos (--mongodb-uri, or
--mongodb-uri-file: a connection string with the driver's authentication
and TLS options, e.g. tls=true&tlsCAFile=...), discovers the shards and the
config server replica set, and at each slot claims the slot on the server
(so that of two agents of one cluster one takes it), stops the balancer,
writes a token with appendOplogNote on every shard's and the config
server's primary, restarts the balancer and finds each token in its oplog.
The checkpoint is kept on disk in --state-dir until the server has
acknowledged it.

The agent never leaves the balancer stopped: it restarts it on every path,
on SIGTERM too, records in --state-dir that it stopped it before it does,
and when it starts it restarts a balancer a killed run left stopped before
anything else. A balancer the operator stopped is left stopped.

Every flag can also be set with an environment variable named CHECKPOINTD_
and the flag's name in upper case with underscores: keep secrets there
(CHECKPOINTD_MONGODB_URI, CHECKPOINTD_PRIVATE_KEY) or in a file, not on
the command line. The API key needs GROUP_BACKUP_MANAGER on the project.`,
		Example: `  export CHECKPOINTD_MONGODB_URI='mongodb://backup:secret@mongos1:27017,mongos2:27017/?authSource=admin&tls=true'
  export CHECKPOINTD_PRIVATE_KEY=6f1c1a2e-8d1b-4c3e-9a57-0e5b2f7d9c41
  checkpointd agent --base-url https://checkpointd.example.net --public-key qhzvmtkr \
    --project 5e2211c17a3e5a48f5497de3 --cluster Cluster0 --state-dir /var/lib/checkpointd-agent`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(e, cmd.Flags()); err != nil {
				return err
			}
			return runAgent(cmd.Context(), e, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.mongodbURI, "mongodb-uri", "", "connection string of the cluster's mongos (better in CHECKPOINTD_MONGODB_URI or --mongodb-uri-file: it may hold a password)")
	f.StringVar(&c.mongodbURIFile, "mongodb-uri-file", "", "read the connection string from `FILE` (its first line)")
	f.StringVar(&c.baseURL, "base-url", "http://127.0.0.1:8080", "the checkpointd server's base URL")
	f.StringVar(&c.publicKey, "public-key", "", "API key: public key (HTTP Digest user name); the key needs GROUP_BACKUP_MANAGER on the project")
	f.StringVar(&c.privateKey, "private-key", "", "API key: private key (better in CHECKPOINTD_PRIVATE_KEY)")
	f.StringVar(&c.clientID, "client-id", "", "service account: client id, instead of an API key")
	f.StringVar(&c.clientSecret, "client-secret", "", "service account: client secret (better in CHECKPOINTD_CLIENT_SECRET)")
	f.StringVar(&c.project, "project", "", "project (group) id of the cluster")
	f.StringVar(&c.cluster, "cluster", "", "the cluster's name on the server")
	f.StringVar(&c.stateDir, "state-dir", "", "`DIR` for the agent's balancer record and its spool of reports not yet delivered (created if missing); one per agent")
	f.StringVar(&c.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at GET /metrics on this address (host:port); empty: no metrics")
	f.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.DurationVar(&c.refresh, "refresh", agent.DefaultRefresh, "how often the cluster's schedule and topology are read")
	f.DurationVar(&c.stopTimeout, "stop-timeout", engine.DefaultStopTimeout, "how long balancerStop waits for a migration under way (its maxTimeMS); a slot whose balancer does not stop in time is skipped")
	f.DurationVar(&c.discoveryWait, "discovery-wait", engine.DefaultDiscoveryWait, "how long to wait for the tokens to show up in the oplogs; a token not found in time makes the checkpoint not restorable")
	f.DurationVar(&c.opTimeout, "op-timeout", mongodb.DefaultOpTimeout, "bound on each command to a shard or the config servers")
	f.Float64Var(&c.clockSpeed, "clock-speed", 0, "run the schedule this many times faster than the wall clock (tests only)")
	f.Int64Var(&c.clockEpoch, "clock-epoch", 0, "Unix milliseconds at which the --clock-speed clock reads the wall clock (tests only)")
	_ = f.MarkHidden("clock-speed")
	_ = f.MarkHidden("clock-epoch")
	_ = cmd.MarkFlagDirname("state-dir")
	return cmd
}

func runAgent(ctx context.Context, e *env, c agentConfig) error {
	uri, err := c.uri()
	if err != nil {
		return err
	}
	switch {
	case c.project == "":
		return errors.New("--project is required")
	case c.cluster == "":
		return errors.New("--cluster is required")
	case c.stateDir == "":
		return errors.New("--state-dir is required: the agent keeps its balancer record and undelivered reports there")
	}
	cl, err := client.New(client.Config{
		BaseURL: c.baseURL,
		Credentials: client.Credentials{
			PublicKey: c.publicKey, PrivateKey: c.privateKey,
			ClientID: c.clientID, ClientSecret: c.clientSecret,
		},
		Timeout:   30 * time.Second,
		UserAgent: "checkpointd-agent/" + version(),
	})
	if err != nil {
		return err
	}
	logger, closeLog, err := newLogger(e, c.logFormat, c.logLevel)
	if err != nil {
		return err
	}
	defer closeLog()
	clk := e.clock
	if c.clockSpeed > 0 {
		clk = clock.Accelerated(e.clock, time.UnixMilli(c.clockEpoch), c.clockSpeed)
	}
	opts := options.Client().ApplyURI(uri).SetAppName("checkpointd-agent")
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("--mongodb-uri: %w", err)
	}
	drv, err := openCluster(ctx, mongodb.Config{Client: opts, OpTimeout: c.opTimeout, Logger: logger}, clk, logger)
	if err != nil {
		return nil // stopped while waiting for the cluster: nothing was started
	}
	defer drv.Close(context.WithoutCancel(ctx))
	t := drv.Topology()
	logger.Info("cluster found", "version", t.Version, "shards", len(t.Shards), "config_servers", t.Config.Name)

	var mets *agent.Metrics
	if c.metricsAddr != "" {
		mets = agent.NewMetrics(logger)
		ln, err := net.Listen("tcp", c.metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", mets.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		fmt.Fprintf(e.stdout, "metrics on http://%s/metrics\n", displayAddr(ln.Addr()))
	}
	return agent.Run(ctx, agent.Config{
		Driver:   drv,
		Server:   agent.HTTPServer{Client: cl, Project: c.project, Name: c.cluster},
		Project:  c.project,
		Cluster:  c.cluster,
		StateDir: c.stateDir,
		Clock:    clk,
		Timeouts: engine.Timeouts{Stop: c.stopTimeout, Discovery: c.discoveryWait},
		Refresh:  c.refresh,
		Metrics:  mets,
		Logger:   logger,
	})
}

// openCluster connects to the cluster, trying again (a second, then
// longer, up to a minute apart) while its mongos cannot be reached or
// cannot describe it, so that an agent started before its cluster, or
// during an outage, waits for it rather than exits.
func openCluster(ctx context.Context, cfg mongodb.Config, clk clock.Clock, logger *slog.Logger) (*mongodb.Cluster, error) {
	pause := time.Second
	for {
		drv, err := mongodb.Open(ctx, cfg)
		if err == nil {
			return drv, nil
		}
		logger.Error("cluster not reached; trying again", "retry_in", pause, "err", err)
		if err := clk.Sleep(ctx, pause); err != nil {
			return nil, err // only ctx ends the wait
		}
		pause = min(2*pause, time.Minute)
	}
}

// uri is the connection string, from the flag (or its variable) or the
// file.
func (c agentConfig) uri() (string, error) {
	switch {
	case c.mongodbURI != "" && c.mongodbURIFile != "":
		return "", errors.New("give --mongodb-uri or --mongodb-uri-file, not both")
	case c.mongodbURIFile != "":
		b, err := os.ReadFile(c.mongodbURIFile)
		if err != nil {
			return "", fmt.Errorf("--mongodb-uri-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimSpace(line); line == "" {
			return "", fmt.Errorf("--mongodb-uri-file %s is empty", c.mongodbURIFile)
		}
		return line, nil
	case c.mongodbURI != "":
		return c.mongodbURI, nil
	}
	return "", errors.New("--mongodb-uri (or CHECKPOINTD_MONGODB_URI, or --mongodb-uri-file) is required: the connection string of the cluster's mongos")
}
