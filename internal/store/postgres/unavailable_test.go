package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// TestUnavailableClassifies: errors that say the database cannot serve
// for now become the 503 SERVICE_UNAVAILABLE, the cause kept in the chain;
// every other error is left as it is.
func TestUnavailableClassifies(t *testing.T) {
	notFound := backup.ErrGroupNotFound("5e2211c17a3e5a48f5497de3")
	for _, tt := range []struct {
		name   string
		err    error
		detail string // "" when the error must come back as it is
	}{
		{"nil", nil, ""},
		{"an API error", notFound, ""},
		{"a unique violation", &pgconn.PgError{Code: codeUniqueViolation}, ""},
		{"a syntax error", &pgconn.PgError{Code: "42601"}, ""},
		{"the caller's cancellation", fmt.Errorf("postgres: x: %w", context.Canceled), ""},
		{"admin shutdown", fmt.Errorf("postgres: x: %w", &pgconn.PgError{Code: "57P01"}), backup.DetailStoreUnavailable},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, backup.DetailStoreUnavailable},
		{"starting up", &pgconn.PgError{Code: "57P03"}, backup.DetailStoreUnavailable},
		{"too many connections", &pgconn.PgError{Code: "53300"}, backup.DetailStoreUnavailable},
		{"a connection exception", &pgconn.PgError{Code: "08006"}, backup.DetailStoreUnavailable},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, backup.DetailStoreUnavailable},
		{"disk full", &pgconn.PgError{Code: "53100"}, backup.DetailStoreFull},
		{"a damaged page", &pgconn.PgError{Code: "XX001"}, backup.DetailStoreDamaged},
		{"a damaged index", fmt.Errorf("postgres: x: %w", &pgconn.PgError{Code: "XX002"}), backup.DetailStoreDamaged},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, backup.DetailStoreUnavailable},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), backup.DetailStoreUnavailable},
		{"a cut mid-reply", fmt.Errorf("postgres: x: %w", io.ErrUnexpectedEOF), backup.DetailStoreUnavailable},
		{"a closed connection", fmt.Errorf("postgres: x: %w", pgconn.ErrConnClosed), backup.DetailStoreUnavailable},
		{"the call's deadline", fmt.Errorf("postgres: x: %w", context.DeadlineExceeded), backup.DetailStoreUnavailable},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := unavailable(tt.err)
			if tt.detail == "" {
				if got != tt.err {
					t.Errorf("unavailable(%v) = %v, want it unchanged", tt.err, got)
				}
				return
			}
			e := backup.ErrorOf(got)
			if e == nil || e.Kind != backup.Unavailable || e.Code != backup.CodeServiceUnavailable || e.Detail != tt.detail || len(e.Params) != 0 {
				t.Fatalf("unavailable(%v) = %#v", tt.err, got)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("the cause %v is not in the chain of %v", tt.err, got)
			}
		})
	}
}

// TestOutage runs a store through a proxy that plays the database going
// away: while connections are cut and refused, and while they hang, every
// call fails within a bound as SERVICE_UNAVAILABLE (Ready fails too); once
// the proxy forwards again the same store serves again, without being
// reopened, and nothing written before the outage is lost.
// It needs CHECKPOINTD_TEST_POSTGRES (see pgtest).
//
// With the caches on, the cached reads (a checkpoint and a page held in
// the caches, which need a snapshot read and no statement) fail within the
// bound as well: their wait for the snapshot is bounded from when they
// arrived, as the call's timeout is.
func TestOutage(t *testing.T) {
	t.Run("cache=off", func(t *testing.T) { testOutage(t, WithCacheSize(0, 0)) })
	t.Run("cache=on", func(t *testing.T) { testOutage(t) })
}

func testOutage(t *testing.T, opts ...Option) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	proxy, dsn := pgtest.NewProxy(t, pgtest.DSN(t))
	const bound = 300 * time.Millisecond
	db, err := Open(ctx, dsn, append([]Option{WithOpTimeout(bound)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ids := backup.NewIDSource()
	org := backup.Organization{ID: ids.New(time.Now()), Name: "Outage", Created: time.Now().UTC().Truncate(time.Second)}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	project := backup.Project{ID: ids.New(time.Now()), OrgID: org.ID, Name: "P", Created: org.Created}
	if err := db.CreateProject(ctx, project); err != nil {
		t.Fatal(err)
	}
	cluster := backup.Cluster{ID: ids.New(time.Now()), GroupID: project.ID, Name: "c", Type: backup.ReplicaSet,
		ReplicaSetName: "rs", MongoDBVersion: "4.2.0", Backup: backup.BackupLegacy, Created: org.Created}
	if err := db.CreateCluster(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	ts := org.Created.Add(time.Hour)
	cp := backup.Checkpoint{ID: ids.New(ts), ClusterID: cluster.ID, GroupID: project.ID, Started: ts.Add(-time.Minute),
		Timestamp: ts, Restorable: true, Parts: []backup.Part{{Type: backup.PartReplicaSet, ReplicaSetName: "rs",
			TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 1}}}}
	if err := db.AddCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	ref := backup.ClusterRef{GroupID: project.ID, Name: cluster.Name}
	pageReq := backup.PageRequest{Num: 1, Size: 100, IncludeCount: true}

	// down checks that every kind of call fails as a 503, each within
	// the bound (and the time pgx takes to give up a connection).
	down := func(how string) {
		t.Helper()
		calls := []struct {
			name string
			call func() error
		}{
			{"Project", func() error { _, err := db.Project(ctx, project.ID); return err }},
			{"AuthEpoch", func() error { _, err := db.AuthEpoch(ctx); return err }},
			{"CreateProject", func() error {
				return db.CreateProject(ctx, backup.Project{ID: ids.New(time.Now()), OrgID: org.ID, Name: "Q", Created: org.Created})
			}},
			{"Ready", func() error { return db.Ready(ctx) }},
			{"Checkpoint", func() error { _, err := db.Checkpoint(ctx, ref, cp.ID); return err }},
			{"Checkpoints", func() error { _, err := db.Checkpoints(ctx, ref, pageReq); return err }},
		}
		for _, c := range calls {
			start := time.Now()
			err := c.call()
			took := time.Since(start)
			if took > bound+3*time.Second {
				t.Errorf("%s: %s took %v", how, c.name, took)
			}
			if c.name == "Ready" {
				if err == nil {
					t.Errorf("%s: Ready answered nil", how)
				}
				continue
			}
			e := backup.ErrorOf(err)
			if e == nil || e.Kind != backup.Unavailable || e.Code != backup.CodeServiceUnavailable || e.Detail != backup.DetailStoreUnavailable {
				t.Errorf("%s: %s: %v, want SERVICE_UNAVAILABLE", how, c.name, err)
				continue
			}
			if e.Err == nil || strings.Contains(e.Detail, proxy.Addr()) {
				t.Errorf("%s: %s: no cause, or the detail names the server: %#v", how, c.name, e)
			}
		}
	}
	// up waits for the store to serve again, and checks that it kept
	// what was written.
	up := func(how string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			p, err := db.Project(ctx, project.ID)
			if err == nil {
				if p.Name != project.Name {
					t.Errorf("%s: project %+v", how, p)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the store does not serve 5s after the database came back: %v", how, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := db.Ready(ctx); err != nil {
			t.Errorf("%s: not ready: %v", how, err)
		}
		// Read twice: the second from the caches, if on.
		for range 2 {
			if got, err := db.Checkpoint(ctx, ref, cp.ID); err != nil || got.ID != cp.ID {
				t.Errorf("%s: checkpoint: %v", how, err)
			}
			if p, err := db.Checkpoints(ctx, ref, pageReq); err != nil || len(p.Items) != 1 {
				t.Errorf("%s: page: %d items, %v", how, len(p.Items), err)
			}
		}
	}

	up("before")
	proxy.Cut()
	down("cut")
	proxy.Restore(t)
	up("after the cut")

	proxy.Hang()
	down("hung")
	proxy.Restore(t)
	up("after the hang")
}
