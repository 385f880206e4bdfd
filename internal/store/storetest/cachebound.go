package storetest

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// CacheBound reads many distinct pages of up to 500 checkpoints of a
// three-shard cluster, as a client paging at random does, and each
// checkpoint once, through s, whose caches may hold bound bytes in all
// (pages and single checkpoints): the Go heap s keeps after the reads,
// with the pages returned dropped, stays within bound and a little room
// for what a store holds besides its caches. Bounded in entries (1 024
// pages), the page cache would keep all 56 MB read. Each store package
// runs it with the sizes it opened s with.
func CacheBound(t *testing.T, s interface {
	Store
	BatchAdder
}, bound int64) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	ref, cps := seedSharded(t, ctx, s, 5000)
	heap := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := heap()
	// 250 distinct pages (sizes 451..500, five pages each): 56 MB of
	// decoded checkpoints in all.
	for size := 451; size <= 500; size++ {
		for num := 1; num <= 5; num++ {
			p, err := s.Checkpoints(ctx, ref, backup.PageRequest{Num: num, Size: size})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != size {
				t.Fatalf("page %d of %d: %d items", num, size, len(p.Items))
			}
		}
	}
	for _, cp := range cps {
		if _, err := s.Checkpoint(ctx, ref, cp.ID); err != nil {
			t.Fatal(err)
		}
	}
	const room = 1 << 20
	if grown := heap() - before; grown > bound+room {
		t.Fatalf("the store holds %d bytes more after the reads; its caches may hold %d", grown, bound)
	}
	runtime.KeepAlive(cps)
}

// seedSharded makes a three-shard cluster with n checkpoints, returned.
func seedSharded(t *testing.T, ctx context.Context, s interface {
	Store
	BatchAdder
}, n int) (backup.ClusterRef, []backup.Checkpoint) {
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
	for _, err := range []error{s.CreateOrganization(ctx, org), s.CreateProject(ctx, project), s.CreateCluster(ctx, c)} {
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
	if err := s.AddCheckpoints(ctx, cps); err != nil {
		t.Fatal(err)
	}
	return backup.ClusterRef{GroupID: project.ID, Name: c.Name}, cps
}
