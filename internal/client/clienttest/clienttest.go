// Package clienttest runs the real API for tests of its clients: the
// httpapi pipeline with real authentication over a SQLite store in a
// temporary directory, seeded with the demo data set, on 127.0.0.1.
package clienttest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// Server is the API over the demo data set, with an API key and a
// service account that may read the demo project.
type Server struct {
	URL     string // base URL, without a trailing slash
	Dataset demo.Dataset
	// PublicKey and PrivateKey are an API key with Project Read Only on
	// the demo project.
	PublicKey, PrivateKey string
	// ClientID and ClientSecret are a service account with Project Read
	// Only on the demo project.
	ClientID, ClientSecret string

	db *sqlite.DB
}

// NewKey creates another API key of the demo organization with grants,
// and returns its public and private key.
func (s *Server) NewKey(t testing.TB, grants ...backup.Grant) (string, string) {
	t.Helper()
	k, private, err := admin.CreateAPIKey(backup.WithPrincipal(context.Background(), backup.System), s.db, s.Dataset.Project.OrgID, "client tests", grants, nil, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey, private
}

// Project is the demo project's id.
func (s *Server) Project() string { return s.Dataset.Project.ID.Hex() }

// Cluster returns the demo cluster named name.
func (s *Server) Cluster(t testing.TB, name string) backup.Cluster {
	t.Helper()
	for _, c := range s.Dataset.Clusters {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no demo cluster %s", name)
	return backup.Cluster{}
}

// Checkpoints is how many checkpoints the demo cluster named name holds.
func (s *Server) Checkpoints(name string) int { return s.Dataset.Checkpoints[name] }

// NewServer starts a Server until the test ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "client.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := clock.System.Now().Truncate(time.Second)
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	grants := []backup.Grant{{Role: backup.ProjectReadOnly, ProjectID: ds.Project.ID}}
	key, private, err := admin.CreateAPIKey(ctx, db, ds.Project.OrgID, "client tests", grants, nil, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	sa, secret, err := admin.CreateServiceAccount(ctx, db, ds.Project.OrgID, "client-tests", "", grants, nil, admin.MinSecretTTL, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(ctx, auth.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	// The administration API too: the restore plan is served there.
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Auth: authn, OAuth: authn, Admin: db, ClusterAdmin: admin.Clusters{Store: db}}, db))
	t.Cleanup(srv.Close)
	return &Server{
		URL: srv.URL, Dataset: ds,
		PublicKey: key.PublicKey, PrivateKey: private,
		ClientID: sa.ClientID, ClientSecret: secret,
		db: db,
	}
}
