package agent_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/checkpointd/checkpointd/internal/agent"
	"github.com/checkpointd/checkpointd/internal/agent/agenttest"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/mongodb"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
)

// speed runs a 15-minute schedule with a slot about every second.
const speed = 900

// env is a checkpointd server holding one sharded cluster whose
// checkpoints an agent takes every 15 minutes (agenttest.Server), on a
// clock speed times faster than the wall clock.
type env struct {
	*agenttest.Server
	clock clock.Clock
	key   client.Credentials
}

func newEnv(t *testing.T) *env {
	t.Helper()
	// The clock starts a little after a slot, so that the first slot
	// comes within a second of wall time.
	epoch := time.Now()
	start := epoch.UTC().Truncate(15 * time.Minute).Add(5 * time.Minute)
	clk := shifted{clock.Accelerated(clock.System, epoch, speed), start.Sub(epoch)}
	s := agenttest.NewServer(t, clk)
	return &env{Server: s, clock: clk, key: client.Credentials{PublicKey: s.PublicKey, PrivateKey: s.PrivateKey}}
}

// wire serves a simulation of the env's cluster, on the env's clock,
// over the wire protocol on 127.0.0.1.
func (e *env) wire(t *testing.T, opt mongowire.Options) *mongowire.Server {
	return e.Wire(t, e.clock, opt)
}

// driver connects to srv's mongos with the official driver, as the
// agent command does.
func (e *env) driver(t *testing.T, srv *mongowire.Server) *mongodb.Cluster {
	t.Helper()
	opts := options.Client().ApplyURI(srv.URI()).SetServerSelectionTimeout(2 * time.Second)
	drv, err := mongodb.Open(context.Background(), mongodb.Config{Client: opts, OpTimeout: 2 * time.Second, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close(context.Background()) })
	return drv
}

// shifted is a clock moved by off: the accelerated clock reads the wall
// clock at its epoch, and the tests want to start just after a slot.
type shifted struct {
	clock.Clock
	off time.Duration
}

func (s shifted) Now() time.Time { return s.Clock.Now().Add(s.off) }

// server is the agent's view of the env's server at url (the env's own
// unless a test interposes something).
func (e *env) server(t *testing.T, url string) agent.HTTPServer {
	t.Helper()
	cl, err := client.New(client.Config{BaseURL: url, Credentials: e.key, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return agent.HTTPServer{Client: cl, Project: e.Project(), Name: e.Cluster.Name}
}

// config is an agent's configuration for the env with drv and state dir.
func (e *env) config(t *testing.T, drv agent.Driver, dir string, log *slog.Logger) agent.Config {
	return agent.Config{
		Driver: drv, Server: e.server(t, e.URL), Project: e.Project(), Cluster: e.Cluster.Name,
		StateDir: dir, Clock: e.clock, Refresh: 200 * time.Millisecond, Retry: 200 * time.Millisecond,
		// The env's clock runs 900 times faster than the wall clock, so
		// these bound wall-clock waits of 67 ms (a stop, a restart) and
		// 667 ms (discovery): long enough for the driver's round trips on
		// a loaded machine, within the 15-minute slot.
		Timeouts: engine.Timeouts{Stop: time.Minute, Discovery: 10 * time.Minute, Restart: time.Minute},
		Logger:   log,
	}
}

// checkpoints lists the cluster's stored checkpoints, oldest first.
func (e *env) checkpoints(t *testing.T) []backup.Checkpoint { return e.Checkpoints(t) }

var waitFor = agenttest.WaitFor

// logBuffer collects an agent's log lines, safely for its goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// runAgent runs an agent until the returned stop is called, which waits
// for it to return and fails the test on an error.
func runAgent(t *testing.T, cfg agent.Config) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx, cfg) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}
