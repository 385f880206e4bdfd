package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestLockedByAnotherProcess: while another process holds the file's
// write lock past the busy timeout (an admin command or a backup tool in
// a long transaction), a write is refused as the store unavailable (503,
// worth retrying) rather than an internal error, having waited the busy
// timeout and written nothing; reads go on meanwhile (WAL), and the same
// write succeeds once the lock is let go.
func TestLockedByAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the busy timeout")
	}
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "locked.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC().Truncate(time.Second)
	ids := backup.NewIDSource()
	org := backup.Organization{ID: ids.New(now), Name: "Locked", Created: now}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}

	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	second := backup.Organization{ID: ids.New(now), Name: "Second", Created: now}
	start := time.Now()
	err = db.CreateOrganization(ctx, second)
	took := time.Since(start)
	if e := backup.ErrorOf(err); e == nil || e.Kind != backup.Unavailable || e.Detail != backup.DetailStoreUnavailable {
		t.Fatalf("a write while another process holds the lock: %v, want the store unavailable", err)
	}
	if took < busyTimeoutMS*time.Millisecond*9/10 {
		t.Errorf("refused after %v, before the busy timeout (%d ms)", took, busyTimeoutMS)
	}
	if err := db.Ready(ctx); err != nil {
		t.Errorf("a read while the lock is held: %v", err)
	}

	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateOrganization(ctx, second); err != nil {
		t.Fatalf("the same write once the lock is let go: %v", err)
	}
	var n int
	var integrity string
	if err := other.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity_check: %q, %v", integrity, err)
	}
	if err := other.QueryRowContext(ctx, "SELECT count(*) FROM organizations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d organizations stored, want 2 (the refused write stored nothing, its retry once)", n)
	}
}
