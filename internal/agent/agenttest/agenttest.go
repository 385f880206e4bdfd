// Package agenttest runs what a backup agent's tests talk to: a
// checkpointd server (the httpapi pipeline with real authentication over
// a SQLite store in a temporary directory) holding one sharded cluster
// whose checkpoints an agent takes every 15 minutes, with an API key of
// the least role an agent needs, and a simulation of that cluster served
// over the MongoDB wire protocol.
package agenttest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// Server is a checkpointd server on 127.0.0.1 with one agent-driven
// cluster.
type Server struct {
	URL string // base URL, without a trailing slash
	DB  *sqlite.DB
	// Cluster is Shop0: two shards (Shop0-shard-0, -1) and a config
	// server replica set (Shop0-config-0), driver AGENT, every 15
	// minutes, a 48-hour window, as mongowire.Sharded names them.
	Cluster backup.Cluster
	// PublicKey and PrivateKey are an API key with GROUP_BACKUP_MANAGER
	// on the cluster's project.
	PublicKey, PrivateKey string
}

// NewServer starts a Server whose API reads clk (the agent's, when a test
// runs the schedule fast), until the test ends.
func NewServer(t testing.TB, clk clock.Clock) *Server {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org, err := admin.CreateOrganization(ctx, db, "Agents", clk)
	if err != nil {
		t.Fatal(err)
	}
	proj, err := admin.CreateProject(ctx, db, org.ID, "Shop", clk)
	if err != nil {
		t.Fatal(err)
	}
	c := mongowire.Sharded("Shop0", 2)
	c.ID, c.GroupID, c.Created = admin.NewObjectID(clk.Now()), proj.ID, clk.Now().Truncate(time.Second)
	c.Schedule = backup.CheckpointSchedule{Driver: backup.DriverAgent, Interval: 15 * time.Minute, Window: 48 * time.Hour}
	if err := db.CreateCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
	grants := []backup.Grant{{Role: backup.OrgMember}, {Role: backup.ProjectBackupManager, ProjectID: proj.ID}}
	k, private, err := admin.CreateAPIKey(ctx, db, org.ID, "agent", grants, nil, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(ctx, auth.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Auth: a, Admin: db, Clock: clk}, db))
	t.Cleanup(srv.Close)
	return &Server{URL: srv.URL, DB: db, Cluster: c, PublicKey: k.PublicKey, PrivateKey: private}
}

// Project is the cluster's project id.
func (s *Server) Project() string { return s.Cluster.GroupID.Hex() }

// Checkpoints lists the cluster's stored checkpoints, oldest first.
func (s *Server) Checkpoints(t testing.TB) []backup.Checkpoint {
	t.Helper()
	ref := backup.ClusterRef{GroupID: s.Cluster.GroupID, ID: s.Cluster.ID}
	page, err := s.DB.Checkpoints(backup.WithPrincipal(context.Background(), backup.System), ref, backup.PageRequest{Num: 1, Size: 500})
	if err != nil {
		t.Fatal(err)
	}
	return slices.Clone(page.Items) // the store's pages are cached: not to be changed
}

// UpdateCluster changes the cluster as the server's administrator would.
func (s *Server) UpdateCluster(t testing.TB, c backup.Cluster) {
	t.Helper()
	if err := s.DB.UpdateCluster(backup.WithPrincipal(context.Background(), backup.System), c); err != nil {
		t.Fatal(err)
	}
}

// Wire serves a simulation of the cluster on clk over the wire protocol
// on 127.0.0.1, until the test ends.
func (s *Server) Wire(t testing.TB, clk clock.Clock, opt mongowire.Options) *mongowire.Server {
	t.Helper()
	sc, err := sim.New(s.Cluster, clk, 1, sim.Config{})
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

// WaitFor polls cond until it holds, for up to 30 s of wall time.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // the test's elapsed time, on the wall clock
	for !cond() {
		if time.Now().After(deadline) { // elapsed time
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
