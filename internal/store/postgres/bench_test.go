package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// The benchmark stores live in one schema for the run of the test binary,
// so that the 1M-checkpoint history is built once and shared by every
// benchmark that needs it. The schema is made on first use (a plain `go
// test` never makes it) and dropped by TestMain.
var (
	benchMu     sync.Mutex
	benchBase   string // the server's DSN, once a benchmark has asked
	benchSchema string
	benchDBs    = map[int]*benchStore{}
)

type benchStore struct {
	db     *postgres.DB // with the cache off: every read goes to the database
	cached *postgres.DB // a second handle with the default cache
	ref    backup.ClusterRef
	org    backup.ObjectID // the cluster's project's organization
	mid    backup.ObjectID // a checkpoint in the middle of the history
	n      int
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range benchDBs {
		s.db.Close()
		s.cached.Close()
	}
	if benchSchema != "" {
		ctx := backup.WithPrincipal(context.Background(), backup.System)
		if conn, err := pgx.Connect(ctx, benchBase); err == nil {
			conn.Exec(ctx, `DROP SCHEMA `+benchSchema+` CASCADE`)
			conn.Close(ctx)
		}
	}
	os.Exit(code)
}

// benchStoreOf returns a store whose one cluster (in a project of its
// own) has n checkpoints, building it the first time.
func benchStoreOf(b *testing.B, n int) *benchStore {
	b.Helper()
	base := pgtest.BaseDSN(b)
	benchMu.Lock()
	defer benchMu.Unlock()
	if s := benchDBs[n]; s != nil {
		return s
	}
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	if benchSchema == "" {
		var r [8]byte
		rand.Read(r[:])
		schema := pgtest.SchemaPrefix + "bench_" + hex.EncodeToString(r[:])
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			b.Fatal(err)
		}
		_, err = conn.Exec(ctx, `CREATE SCHEMA `+schema)
		conn.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
		benchBase, benchSchema = base, schema
	}
	dsn := pgtest.WithSearchPath(base, benchSchema)
	start := time.Now()
	db, err := postgres.Open(ctx, dsn, postgres.WithCacheSize(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	ids := backup.NewIDSourceFrom([5]byte{0xbe, 0x4c, 0x00, 0x00, byte(len(benchDBs))}, 0)
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	org := backup.Organization{ID: ids.New(t0), Name: "bench", Created: t0}
	project := backup.Project{ID: ids.New(t0), OrgID: org.ID, Name: "bench", Created: t0}
	c := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: "Cluster0", Type: backup.Sharded,
		MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy, Created: t0,
		Shards: []backup.Shard{{Name: "Cluster0-shard-0", ReplicaSetName: "Cluster0-shard-0"},
			{Name: "Cluster0-shard-1", ReplicaSetName: "Cluster0-shard-1"},
			{Name: "Cluster0-shard-2", ReplicaSetName: "Cluster0-shard-2"}},
		Config: backup.ConfigServer{ReplicaSetName: "Cluster0-config-0"},
	}
	for _, err := range []error{db.CreateOrganization(ctx, org), db.CreateProject(ctx, project), db.CreateCluster(ctx, c)} {
		if err != nil {
			b.Fatal(err)
		}
	}
	s := &benchStore{db: db, ref: backup.ClusterRef{GroupID: project.ID, Name: c.Name}, org: org.ID, n: n}
	// Oldest first, as the engine appends, in transactions of up to 50k
	// rows: bulk speed without holding the whole history in memory.
	const chunk = 50_000
	batch := make([]backup.Checkpoint, 0, min(n, chunk))
	for i := range n {
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
		if i == n/2 {
			s.mid = cp.ID
		}
		batch = append(batch, cp)
		if len(batch) == cap(batch) || i == n-1 {
			if err := db.AddCheckpoints(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Fresh statistics and a visibility map, as autovacuum would leave
	// them on a server that has been running.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	_, err = conn.Exec(ctx, `VACUUM ANALYZE checkpoints, checkpoint_blocks`)
	conn.Close(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built a store of %d checkpoints in %s", n, time.Since(start).Round(time.Millisecond))
	if s.cached, err = postgres.Open(ctx, dsn); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	benchDBs[n] = s
	return s
}

var benchSizes = []struct {
	name string
	n    int
}{{"1k", 1_000}, {"1M", 1_000_000}}

// BenchmarkCheckpoints lists a page of 100 at both ends of a small and a
// large history, with the cache off: one statement, the range read
// itself. The contract: last/first and 1M/1k stay near 1.
func BenchmarkCheckpoints(b *testing.B) {
	benchCheckpoints(b, func(s *benchStore) *postgres.DB { return s.db })
}

// BenchmarkCheckpointsCached is BenchmarkCheckpoints with the cache on, as
// the server runs: one statement for the reference, the epoch and the seq
// bounds, then the cached page.
func BenchmarkCheckpointsCached(b *testing.B) {
	benchCheckpoints(b, func(s *benchStore) *postgres.DB { return s.cached })
}

func benchCheckpoints(b *testing.B, pick func(*benchStore) *postgres.DB) {
	const size = 100
	for _, sz := range benchSizes {
		b.Run("store="+sz.name, func(b *testing.B) {
			if testing.Short() && sz.n > 1000 {
				b.Skip("-short")
			}
			s := benchStoreOf(b, sz.n)
			db := pick(s)
			for _, pg := range []struct {
				name string
				num  int
			}{{"first", 1}, {"last", (s.n + size - 1) / size}} {
				b.Run("page="+pg.name, func(b *testing.B) {
					ctx := backup.WithPrincipal(context.Background(), backup.System)
					req := backup.PageRequest{Num: pg.num, Size: size, IncludeCount: true}
					b.ReportAllocs()
					for b.Loop() {
						p, err := db.Checkpoints(ctx, s.ref, req)
						if err != nil {
							b.Fatal(err)
						}
						if len(p.Items) != size || p.Total != s.n {
							b.Fatalf("%d items, total %d", len(p.Items), p.Total)
						}
					}
				})
			}
		})
	}
}

// BenchmarkCheckpointsRandom reads pages of 100 and of 500 at random
// depths, with the cache off, as a client paging a cluster at random
// does: every read a miss, of a part of the table not read just before.
// The contract: 1M/1k stays near 1 for each size.
func BenchmarkCheckpointsRandom(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run("store="+sz.name, func(b *testing.B) {
			if testing.Short() && sz.n > 1000 {
				b.Skip("-short")
			}
			s := benchStoreOf(b, sz.n)
			for _, size := range []int{100, 500} {
				b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
					ctx := backup.WithPrincipal(context.Background(), backup.System)
					pages := s.n / size
					rng := mrand.New(mrand.NewPCG(1, uint64(size)))
					b.ReportAllocs()
					for b.Loop() {
						req := backup.PageRequest{Num: 1 + rng.IntN(pages), Size: size}
						p, err := s.db.Checkpoints(ctx, s.ref, req)
						if err != nil {
							b.Fatal(err)
						}
						if len(p.Items) != size {
							b.Fatalf("page %d: %d items", req.Num, len(p.Items))
						}
					}
				})
			}
		})
	}
}

// BenchmarkCheckpoint gets one checkpoint by id, with the cache off.
func BenchmarkCheckpoint(b *testing.B) {
	benchCheckpoint(b, func(s *benchStore) *postgres.DB { return s.db }, false)
}

// BenchmarkCheckpointCached gets one checkpoint by id with the cache on:
// one statement for the reference and the epoch, then the cached
// checkpoint.
func BenchmarkCheckpointCached(b *testing.B) {
	benchCheckpoint(b, func(s *benchStore) *postgres.DB { return s.cached }, false)
}

// BenchmarkCheckpointCachedCaller is BenchmarkCheckpointCached asked by an
// API key of the project's organization, as the server's requests are.
func BenchmarkCheckpointCachedCaller(b *testing.B) {
	benchCheckpoint(b, func(s *benchStore) *postgres.DB { return s.cached }, true)
}

func benchCheckpoint(b *testing.B, pick func(*benchStore) *postgres.DB, asCaller bool) {
	for _, sz := range benchSizes {
		b.Run("store="+sz.name, func(b *testing.B) {
			if testing.Short() && sz.n > 1000 {
				b.Skip("-short")
			}
			s := benchStoreOf(b, sz.n)
			db := pick(s)
			ctx := backup.WithPrincipal(context.Background(), backup.System)
			ref := s.ref
			if asCaller {
				ctx = backup.WithPrincipal(ctx, &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "benchkey", OrgID: s.org,
					Grants: []backup.Grant{{Role: backup.OrgReadOnly}}})
			}
			b.ReportAllocs()
			for b.Loop() {
				cp, err := db.Checkpoint(ctx, ref, s.mid)
				if err != nil {
					b.Fatal(err)
				}
				if cp.ID != s.mid {
					b.Fatal("wrong checkpoint")
				}
			}
		})
	}
}

// BenchmarkCheckpointCachedConcurrent is BenchmarkCheckpointCachedCaller
// from 16 and 64 goroutines at once, as a server's connections ask: each
// request waits for a snapshot read that started after it arrived
// (snapshot.go), which concurrent requests share. reads/op is how many
// snapshot reads a request cost.
func BenchmarkCheckpointCachedConcurrent(b *testing.B) {
	s := benchStoreOf(b, 1_000)
	ctx := backup.WithPrincipal(context.Background(), &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "benchkey", OrgID: s.org,
		Grants: []backup.Grant{{Role: backup.OrgReadOnly}}})
	for _, n := range []int{16, 64} {
		b.Run(fmt.Sprintf("goroutines=%d", n), func(b *testing.B) {
			b.SetParallelism(max(1, n/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			r0 := postgres.SnapshotReads(s.cached)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					cp, err := s.cached.Checkpoint(ctx, s.ref, s.mid)
					if err != nil {
						b.Error(err)
						return
					}
					if cp.ID != s.mid {
						b.Error("wrong checkpoint")
						return
					}
				}
			})
			b.ReportMetric(float64(postgres.SnapshotReads(s.cached)-r0)/float64(b.N), "reads/op")
		})
	}
}
