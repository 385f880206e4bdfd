package sqlite_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// TestCacheBytesBound reads many distinct pages of up to 500 checkpoints
// of a three-shard cluster, as a client paging at random does, through a
// store whose caches may hold 2 MiB: the Go heap the store keeps after
// the reads (with the pages returned dropped) stays within that bound,
// with a little room for what the store holds besides its caches. With
// the caches bounded in entries, as they were, it held some 70 MiB.
func TestCacheBytesBound(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	const pages, checkpoints = 2 << 20, 512 << 10
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bound.db"), sqlite.WithCacheSize(pages, checkpoints))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ref, cps := seedSharded(t, ctx, db, 5000)

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	// 250 distinct pages (sizes 451..500, five pages each), 56 MB of
	// decoded checkpoints in all; and every checkpoint once.
	for size := 451; size <= 500; size++ {
		for num := 1; num <= 5; num++ {
			p, err := db.Checkpoints(ctx, ref, backup.PageRequest{Num: num, Size: size})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != size {
				t.Fatalf("page %d of %d: %d items", num, size, len(p.Items))
			}
		}
	}
	for _, cp := range cps {
		if _, err := db.Checkpoint(ctx, ref, cp.ID); err != nil {
			t.Fatal(err)
		}
	}
	const room = 1 << 20
	if after := heap(); after > before+pages+checkpoints+room {
		t.Fatalf("the store holds %d bytes more after the reads; its caches may hold %d", after-before, pages+checkpoints)
	}
	runtime.KeepAlive(cps)
}

// seedSharded makes a three-shard cluster with n checkpoints, returned.
func seedSharded(t *testing.T, ctx context.Context, db *sqlite.DB, n int) (backup.ClusterRef, []backup.Checkpoint) {
	t.Helper()
	ids := backup.NewIDSourceFrom([5]byte{0xb0, 0x0d, 0, 0, 1}, 0)
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	org := backup.Organization{ID: ids.New(t0), Name: "bound", Created: t0}
	project := backup.Project{ID: ids.New(t0), OrgID: org.ID, Name: "bound", Created: t0}
	c := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: "Cluster0", Type: backup.Sharded,
		MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy, Created: t0,
		Shards: []backup.Shard{{Name: "Cluster0-shard-0", ReplicaSetName: "Cluster0-shard-0"},
			{Name: "Cluster0-shard-1", ReplicaSetName: "Cluster0-shard-1"},
			{Name: "Cluster0-shard-2", ReplicaSetName: "Cluster0-shard-2"}},
		Config: backup.ConfigServer{ReplicaSetName: "Cluster0-config-0"},
	}
	for _, err := range []error{db.CreateOrganization(ctx, org), db.CreateProject(ctx, project), db.CreateCluster(ctx, c)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	cps := make([]backup.Checkpoint, n)
	for i := range cps {
		ts := t0.Add(time.Duration(i) * 15 * time.Minute)
		tok := backup.BSONTimestamp{Date: ts, Increment: 1}
		cp := backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: project.ID,
			Started: ts.Add(-2 * time.Minute), Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: true}
		for _, sh := range c.Shards {
			cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: sh.Name,
				ReplicaSetName: sh.ReplicaSetName, TokenDiscovered: true, TokenTimestamp: tok})
		}
		cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartConfigReplicaSet,
			ReplicaSetName: c.Config.ReplicaSetName, TokenDiscovered: true, TokenTimestamp: tok})
		cps[i] = cp
	}
	if err := db.AddCheckpoints(ctx, cps); err != nil {
		t.Fatal(err)
	}
	return backup.ClusterRef{GroupID: project.ID, Name: c.Name}, cps
}
