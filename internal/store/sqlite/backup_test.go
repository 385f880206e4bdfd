package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// reportLoad adds checkpoints to the demo's replica set, one after the
// other, as an agent's reports would, until stop is closed; it returns
// every checkpoint whose AddCheckpoint returned nil (acknowledged), in
// order.
func reportLoad(t *testing.T, db *sqlite.DB, ds demo.Dataset, stop <-chan struct{}, acked chan<- backup.Checkpoint) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	ref := backup.ClusterRef{GroupID: demo.ProjectID, Name: "Cluster1"}
	last, err := db.Checkpoint(ctx, ref, ds.Sample["Cluster1"])
	if err != nil {
		t.Error(err)
		close(acked)
		return
	}
	ids := backup.NewIDSource()
	for i := 1; ; i++ {
		select {
		case <-stop:
			close(acked)
			return
		default:
		}
		cp := last
		d := time.Duration(i) * time.Minute
		cp.Started, cp.Completed, cp.Timestamp = last.Started.Add(d), last.Completed.Add(d), last.Timestamp.Add(d)
		cp.ID = ids.New(cp.Completed)
		cp.Parts = append([]backup.Part(nil), last.Parts...)
		if err := db.AddCheckpoint(ctx, cp); err != nil {
			t.Errorf("AddCheckpoint: %v", err)
			close(acked)
			return
		}
		acked <- cp
	}
}

// TestBackupUnderLoad backs up a database while another connection adds
// checkpoints to it, restores the backup into a new file and over a file
// holding other data: the backup holds every checkpoint acknowledged
// before it began, each as it was written, and the restored files hold
// exactly what the backup holds; a second backup to the same file is
// refused, and so are a restore over a file in use and a damaged backup.
func TestBackupUnderLoad(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	dir := t.TempDir()
	src := filepath.Join(dir, "live.db")
	db, err := sqlite.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	acked := make(chan backup.Checkpoint, 1)
	var wg sync.WaitGroup
	wg.Go(func() { reportLoad(t, db, ds, stop, acked) })
	var before []backup.Checkpoint
	for len(before) < 50 {
		before = append(before, <-acked)
	}
	// Drain the load in the background while the backup runs.
	var during []backup.Checkpoint
	drained := make(chan struct{})
	go func() {
		for cp := range acked {
			during = append(during, cp)
		}
		close(drained)
	}()
	dst := filepath.Join(dir, "backup.db")
	c, err := sqlite.Backup(ctx, src, dst)
	close(stop)
	wg.Wait()
	<-drained
	if err != nil {
		t.Fatalf("Backup() = %v", err)
	}
	t.Logf("backup of %v; %d checkpoints acknowledged before it, %d while it ran and after", c, len(before), len(during))
	if c.Organizations != 1 || c.Projects != 1 || c.Clusters != 3 {
		t.Errorf("backup counts %v, want the demo data set", c)
	}
	if _, err := sqlite.Backup(ctx, src, dst); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second Backup() to %s = %v, want a refusal", dst, err)
	}

	// Restore into a new file and over another data set.
	other := filepath.Join(dir, "other.db")
	odb, err := sqlite.Open(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Seed(ctx, odb, demo.Options{Seed: 2, Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	odb.Close()
	for _, target := range []string{filepath.Join(dir, "restored.db"), other} {
		rc, err := sqlite.Restore(ctx, dst, target)
		if err != nil {
			t.Fatalf("Restore(%s) = %v", filepath.Base(target), err)
		}
		if rc != c {
			t.Errorf("Restore(%s) counts %v, want the backup's %v", filepath.Base(target), rc, c)
		}
		rdb, err := sqlite.Open(ctx, target)
		if err != nil {
			t.Fatal(err)
		}
		ref := backup.ClusterRef{GroupID: demo.ProjectID, Name: "Cluster1"}
		for _, want := range before {
			got, err := rdb.Checkpoint(ctx, ref, want.ID)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: acknowledged checkpoint %s: %+v, %v; want %+v", filepath.Base(target), want.ID, got, err, want)
				break
			}
		}
		p, err := rdb.Checkpoints(ctx, ref, backup.PageRequest{Num: 1, Size: 1, IncludeCount: true})
		if err != nil || int64(p.Total) > int64(ds.Checkpoints["Cluster1"]+len(before)+len(during)) {
			t.Errorf("%s: %d checkpoints of Cluster1 (%v), more than were written", filepath.Base(target), p.Total, err)
		}
		rdb.Close()
	}

	// A file a store has open is refused: its server must be stopped.
	if _, err := sqlite.Restore(ctx, dst, src); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("Restore() over a file in use = %v, want a refusal", err)
	}

	// A damaged backup is refused, and the target left as it was.
	bad := damagedCopy(t, dst, 4096, 4096)
	target := filepath.Join(dir, "restored.db")
	was, _ := os.ReadFile(target)
	if _, err := sqlite.Restore(ctx, bad, target); err == nil {
		t.Error("Restore() of a damaged backup succeeded")
	}
	if now, _ := os.ReadFile(target); !reflect.DeepEqual(was, now) {
		t.Error("a refused Restore() changed its target")
	}
}
