package agent_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/agent"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/mongodb"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// speed runs a 15-minute schedule with a slot about every second.
const speed = 900

// env is a checkpointd server over a SQLite store holding one sharded
// cluster whose checkpoints an agent takes every 15 minutes, and an API
// key with GROUP_BACKUP_MANAGER on its project, all on a clock speed
// times faster than the wall clock.
type env struct {
	db      *sqlite.DB
	srv     *httptest.Server
	clock   clock.Clock
	cluster backup.Cluster
	key     client.Credentials
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The clock starts a little after a slot, so that the first slot
	// comes within a second of wall time.
	epoch := time.Now()
	start := time.Now().UTC().Truncate(15 * time.Minute).Add(5 * time.Minute)
	clk := shifted{clock.Accelerated(clock.System, epoch, speed), start.Sub(epoch)}
	now := clk.Now()
	org, err := admin.CreateOrganization(ctx, db, "Agents", clk)
	if err != nil {
		t.Fatal(err)
	}
	proj, err := admin.CreateProject(ctx, db, org.ID, "Shop", clk)
	if err != nil {
		t.Fatal(err)
	}
	c := mongowire.Sharded("Shop0", 2)
	c.ID, c.GroupID, c.Created = admin.NewObjectID(now), proj.ID, now.Truncate(time.Second)
	c.Schedule = backup.CheckpointSchedule{Driver: backup.DriverAgent, Interval: 15 * time.Minute, Window: 48 * time.Hour}
	if err := db.CreateCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
	k, priv, err := admin.CreateAPIKey(ctx, db, org.ID, "agent", []backup.Grant{{Role: backup.OrgMember}, {Role: backup.ProjectBackupManager, ProjectID: proj.ID}}, nil, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(ctx, auth.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Auth: a, Admin: db, Clock: clk}, db))
	t.Cleanup(srv.Close)
	return &env{db: db, srv: srv, clock: clk, cluster: c, key: client.Credentials{PublicKey: k.PublicKey, PrivateKey: priv}}
}

// wire serves a simulation of the env's cluster, on the env's clock,
// over the wire protocol on 127.0.0.1.
func (e *env) wire(t *testing.T, opt mongowire.Options) *mongowire.Server {
	t.Helper()
	sc, err := sim.New(e.cluster, e.clock, 1, sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mongowire.Start(sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
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
	return agent.HTTPServer{Client: cl, Project: e.cluster.GroupID.Hex(), Name: e.cluster.Name}
}

// config is an agent's configuration for the env with drv and state dir.
func (e *env) config(t *testing.T, drv agent.Driver, dir string, log *slog.Logger) agent.Config {
	return agent.Config{
		Driver: drv, Server: e.server(t, e.srv.URL), Project: e.cluster.GroupID.Hex(), Cluster: e.cluster.Name,
		StateDir: dir, Clock: e.clock, Refresh: 200 * time.Millisecond, Retry: 200 * time.Millisecond,
		Timeouts: engine.Timeouts{Stop: time.Minute, Discovery: time.Minute, Restart: 5 * time.Second},
		Logger:   log,
	}
}

// checkpoints lists the cluster's stored checkpoints, oldest first.
func (e *env) checkpoints(t *testing.T) []backup.Checkpoint {
	t.Helper()
	page, err := e.db.Checkpoints(context.Background(), backup.ClusterRef{GroupID: e.cluster.GroupID, ID: e.cluster.ID}, backup.PageRequest{Num: 1, Size: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := page.Items
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// waitFor polls cond for up to 30 s of wall time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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
