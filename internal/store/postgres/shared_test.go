package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// The tests here share one database between several *DB handles, as
// several server processes do.

// shared is a schema with one project and two legacy clusters, a cached
// handle on it (the store under test), a second cached handle (another
// server), an uncached one (the oracle: what the database says now), and
// a plain connection for SQL by hand.
type shared struct {
	t                 *testing.T
	ctx               context.Context
	dsn               string
	db, other, oracle *postgres.DB
	raw               *pgx.Conn
	ids               *backup.IDSource
	org               backup.Organization
	a, b              backup.Cluster
	t0, next          time.Time
	known             []backup.ObjectID // checkpoints that were ever stored
}

func newShared(t *testing.T) *shared {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	dsn := pgtest.DSN(t)
	s := &shared{t: t, ctx: ctx, dsn: dsn,
		db: openDSN(t, dsn), other: openDSN(t, dsn), oracle: openDSN(t, dsn, postgres.WithCacheSize(0, 0)),
		ids: backup.NewIDSourceFrom([5]byte{0x5a, 0x4e, 0xd0, 0, 1}, 0)}
	raw, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close(context.Background()) })
	s.raw = raw
	s.t0 = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	s.next = s.t0.Add(24 * time.Hour)
	s.org = backup.Organization{ID: s.ids.New(s.t0), Name: "o", Created: s.t0}
	project := backup.Project{ID: s.ids.New(s.t0), OrgID: s.org.ID, Name: "p", Created: s.t0}
	s.must(s.db.CreateOrganization(ctx, s.org))
	s.must(s.db.CreateProject(ctx, project))
	for i, c := range []*backup.Cluster{&s.a, &s.b} {
		*c = backup.Cluster{ID: s.ids.New(s.t0), GroupID: project.ID, Name: fmt.Sprint("c", i), Type: backup.Sharded,
			MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy, Created: s.t0,
			Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "s0"}, {Name: "s1", ReplicaSetName: "s1"}},
			Config: backup.ConfigServer{ReplicaSetName: "cfg"}}
		s.must(s.db.CreateCluster(ctx, *c))
	}
	return s
}

func (s *shared) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *shared) checkpoint(c backup.Cluster, ts time.Time) backup.Checkpoint {
	cp := backup.Checkpoint{ID: s.ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID,
		Started: ts.Add(-time.Minute), Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: true}
	for _, sh := range c.Shards {
		cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: sh.Name, ReplicaSetName: sh.ReplicaSetName,
			TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 1}})
	}
	s.known = append(s.known, cp.ID)
	return cp
}

func (s *shared) add(via *postgres.DB, c backup.Cluster, ts time.Time) backup.Checkpoint {
	s.t.Helper()
	cp := s.checkpoint(c, ts)
	s.must(via.AddCheckpoint(s.ctx, cp))
	return cp
}

func (s *shared) appendN(via *postgres.DB, c backup.Cluster, n int) []backup.Checkpoint {
	s.t.Helper()
	var cps []backup.Checkpoint
	for range n {
		cps = append(cps, s.add(via, c, s.next))
		s.next = s.next.Add(time.Hour)
	}
	return cps
}

func refsOf(c backup.Cluster) []backup.ClusterRef {
	return []backup.ClusterRef{{GroupID: c.GroupID, Name: c.Name}, {GroupID: c.GroupID, ID: c.ID}}
}

func (s *shared) page(db *postgres.DB, ref backup.ClusterRef, num, size int) backup.Page[backup.Checkpoint] {
	s.t.Helper()
	p, err := db.Checkpoints(s.ctx, ref, backup.PageRequest{Num: num, Size: size, IncludeCount: true})
	s.must(err)
	return p
}

// check reads every page of several sizes, and every checkpoint ever
// stored, of both clusters by both kinds of reference, through the cached
// handle and the oracle, and fails on any difference: a stale cache.
func (s *shared) check(what string) {
	s.t.Helper()
	for _, c := range []backup.Cluster{s.a, s.b} {
		for _, ref := range refsOf(c) {
			for _, size := range []int{1, 3, 100} {
				for num := 1; ; num++ {
					want := s.page(s.oracle, ref, num, size)
					got := s.page(s.db, ref, num, size)
					if got.Total != want.Total || !reflect.DeepEqual(got.Items, want.Items) {
						s.t.Fatalf("%s: %s page %d of %d: got %v (Total %d), want %v (Total %d)",
							what, ref.Label(), num, size, idsOf(got.Items), got.Total, idsOf(want.Items), want.Total)
					}
					if len(want.Items) < size {
						break
					}
				}
			}
			for _, id := range s.known {
				want, wantErr := s.oracle.Checkpoint(s.ctx, ref, id)
				got, gotErr := s.db.Checkpoint(s.ctx, ref, id)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
					s.t.Fatalf("%s: checkpoint %s of %s: got %s, %v; want %s, %v", what, id.Hex(), ref.Label(), got.ID.Hex(), gotErr, want.ID.Hex(), wantErr)
				}
			}
		}
	}
}

func idsOf(cps []backup.Checkpoint) []string {
	out := make([]string, len(cps))
	for i, cp := range cps {
		out[i] = cp.ID.Hex()[18:]
	}
	return out
}

// TestOtherHandleWrites fills the cached handle's caches, then writes
// through another handle and by hand, and checks after each write that
// the cached handle answers what the database holds.
func TestOtherHandleWrites(t *testing.T) {
	s := newShared(t)
	cps := s.appendN(s.other, s.a, 7)
	s.appendN(s.other, s.b, 3)
	s.check("start")
	ref := refsOf(s.a)[0]

	cps = append(cps, s.appendN(s.other, s.a, 1)...)
	s.check("after an append elsewhere")
	if p := s.page(s.db, ref, 3, 3); p.Total != 8 || len(p.Items) != 2 {
		t.Fatalf("last page after an append elsewhere: %v, Total %d", idsOf(p.Items), p.Total)
	}

	_, err := s.other.PruneCheckpoints(s.ctx, s.a.ID, cps[1].Timestamp)
	s.must(err)
	s.check("after a prune elsewhere")

	s.add(s.other, s.a, cps[2].Timestamp.Add(time.Minute)) // near the start
	s.add(s.other, s.a, cps[6].Timestamp.Add(time.Minute)) // near the end
	s.add(s.other, s.a, s.t0)                              // before the first
	s.check("after out-of-order inserts elsewhere")

	// Writes by hand, through SQL, by neither store: the triggers keep
	// the epoch.
	if _, err := s.raw.Exec(s.ctx, `UPDATE checkpoints SET restorable = false WHERE id = $1`, cps[3].ID.Hex()); err != nil {
		t.Fatal(err)
	}
	got, err := s.db.Checkpoint(s.ctx, ref, cps[3].ID)
	s.must(err)
	if got.Restorable {
		t.Fatal("an UPDATE by hand was not seen by the cached checkpoint")
	}
	s.check("after an UPDATE by hand")
	if _, err := s.raw.Exec(s.ctx, `DELETE FROM checkpoints WHERE id = $1`, cps[5].ID.Hex()); err != nil {
		t.Fatal(err)
	}
	// The hole this leaves is served, uncached, as it is.
	s.check("after a DELETE by hand")

	// The cluster deleted and created again elsewhere, with other
	// checkpoints under the same name and id.
	s.must(s.other.DeleteCluster(s.ctx, refsOf(s.a)[1]))
	for _, ref := range refsOf(s.a) {
		if _, err := s.db.Checkpoints(s.ctx, ref, backup.PageRequest{Num: 1, Size: 3}); !backup.IsCode(err, backup.CodeClusterNotFound) {
			t.Fatalf("a cluster deleted elsewhere: %v", err)
		}
	}
	s.must(s.other.CreateCluster(s.ctx, s.a))
	s.check("after the cluster was created again elsewhere")
	s.appendN(s.other, s.a, 8)
	s.check("after a new history elsewhere")
}

// TestConcurrentAdds adds checkpoints to one cluster from two handles and
// several goroutines each, in order and out of order, with repeats of the
// same checkpoint from both handles, while readers list pages: every
// checkpoint is stored once, the seqs stay dense and ordered, and every
// page read meanwhile is consistent with its own total.
func TestConcurrentAdds(t *testing.T) {
	s := newShared(t)
	const writers, perWriter = 4, 30
	batches := make([][]backup.Checkpoint, writers)
	for w := range batches {
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		for i := range perWriter {
			ts := s.t0.Add(time.Duration(i*writers+w) * time.Minute) // mostly in order...
			if rng.IntN(3) == 0 {
				ts = s.t0.Add(time.Duration(rng.IntN(perWriter*writers)) * time.Minute) // ...some not
			}
			batches[w] = append(batches[w], s.checkpoint(s.a, ts))
		}
	}
	// The same checkpoints, given to both handles at once.
	repeated := []backup.Checkpoint{s.checkpoint(s.a, s.t0.Add(time.Hour+time.Second)), s.checkpoint(s.a, s.t0.Add(500*time.Hour))}

	ctx := s.ctx
	errc := make(chan error, 64)
	done := make(chan struct{})
	var wg, readers sync.WaitGroup
	for w, batch := range batches {
		db := s.db
		if w%2 == 1 {
			db = s.other
		}
		wg.Go(func() {
			for i, cp := range batch {
				if err := db.AddCheckpoint(ctx, cp); err != nil {
					errc <- err
					return
				}
				if i%10 == 5 {
					for _, cp := range repeated {
						if err := db.AddCheckpoint(ctx, cp); err != nil {
							errc <- fmt.Errorf("repeat: %w", err)
							return
						}
					}
				}
			}
		})
	}
	for r := range 2 {
		readers.Go(func() {
			ref := refsOf(s.a)[r]
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				p, err := s.db.Checkpoints(ctx, ref, backup.PageRequest{Num: 1 + n%3, Size: 7, IncludeCount: true})
				if err != nil {
					errc <- err
					return
				}
				if want := min(7, max(0, p.Total-(n%3)*7)); len(p.Items) != want {
					errc <- fmt.Errorf("reader %d: page %d has %d items with Total %d", r, 1+n%3, len(p.Items), p.Total)
					return
				}
				for i := 1; i < len(p.Items); i++ {
					if p.Items[i].Timestamp.Before(p.Items[i-1].Timestamp) {
						errc <- fmt.Errorf("reader %d: page out of order", r)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	want := writers*perWriter + len(repeated)
	var n, first, last int64
	var ordered bool
	if err := s.raw.QueryRow(ctx, `SELECT count(*), min(seq), max(seq),
  bool_and(prev IS NULL OR (prev_ts, prev_id) < (ts, id))
FROM (SELECT seq, ts, id, lag(seq) OVER w AS prev, lag(ts) OVER w AS prev_ts, lag(id) OVER w AS prev_id
  FROM checkpoints WHERE cluster = (SELECT pk FROM clusters WHERE id = $1) WINDOW w AS (ORDER BY seq)) AS k`,
		s.a.ID.Hex()).Scan(&n, &first, &last, &ordered); err != nil {
		t.Fatal(err)
	}
	if n != int64(want) || last-first+1 != n || !ordered {
		t.Fatalf("%d rows (want %d), seqs %d..%d, ordered %v", n, want, first, last, ordered)
	}
	s.check("after concurrent adds")
}

// TestSharedSecretHandles asks for one secret from two handles and many
// goroutines at once: every caller gets the same bytes.
func TestSharedSecretHandles(t *testing.T) {
	s := newShared(t)
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		db := s.db
		if i%2 == 1 {
			db = s.other
		}
		wg.Go(func() {
			b, err := db.SharedSecret(s.ctx, "race", func() ([]byte, error) { return []byte(fmt.Sprint("value ", i)), nil })
			if err != nil {
				t.Error(err)
			}
			got[i] = string(b)
		})
	}
	wg.Wait()
	for i := range got {
		if got[i] != got[0] || got[i] == "" {
			t.Fatalf("callers got %q", got)
		}
	}
}

// TestAuthEpochOtherHandle checks that credential writes through one
// handle change the auth epoch another handle reads.
func TestAuthEpochOtherHandle(t *testing.T) {
	s := newShared(t)
	last, err := s.other.AuthEpoch(s.ctx)
	s.must(err)
	step := func(what string, write func() error) {
		t.Helper()
		s.must(write())
		now, err := s.other.AuthEpoch(s.ctx)
		s.must(err)
		if now == last {
			t.Errorf("%s: the other handle's auth epoch stayed %d", what, now)
		}
		last = now
	}
	key := backup.APIKey{ID: s.ids.New(s.t0), OrgID: s.org.ID, PublicKey: "abcdefgh", Grants: []backup.Grant{{Role: backup.OrgOwner}}, Created: s.t0}
	step("creating an API key", func() error {
		return s.db.CreateAPIKey(s.ctx, key, backup.DigestHA1{MD5: strings.Repeat("0", 32)})
	})
	step("revoking a token", func() error { return s.db.RevokeToken(s.ctx, "jti", time.Now().Add(time.Hour)) })
	step("updating a key by hand", func() error {
		_, err := s.raw.Exec(s.ctx, `UPDATE api_keys SET description = 'changed'`)
		return err
	})
	step("deleting the key", func() error { return s.db.DeleteAPIKey(s.ctx, key.ID) })
	// A repeated revoke writes nothing.
	s.must(s.db.RevokeToken(s.ctx, "jti", time.Now().Add(time.Minute)))
	if now, err := s.other.AuthEpoch(s.ctx); err != nil || now != last {
		t.Errorf("a repeated revoke moved the auth epoch from %d to %d (%v)", last, now, err)
	}
}

// TestRevocationsExpire checks that a revocation is forgotten once its
// token has expired: IsRevoked says so at once, and the next revoke
// deletes the row.
func TestRevocationsExpire(t *testing.T) {
	s := newShared(t)
	s.must(s.db.RevokeToken(s.ctx, "old", time.Now().Add(-time.Minute)))
	if r, err := s.other.IsRevoked(s.ctx, "old"); err != nil || r {
		t.Fatalf("an expired revocation: %v, %v", r, err)
	}
	s.must(s.db.RevokeToken(s.ctx, "new", time.Now().Add(time.Hour)))
	var n int
	s.must(s.raw.QueryRow(s.ctx, `SELECT count(*) FROM revoked_tokens`).Scan(&n))
	if n != 1 {
		t.Fatalf("%d revocations stored, want only the live one", n)
	}
	if r, err := s.other.IsRevoked(s.ctx, "new"); err != nil || !r {
		t.Fatalf("a live revocation seen from another handle: %v, %v", r, err)
	}
}

// TestOpenErrors checks that Open refuses what it cannot use, without
// telling a password in its errors.
func TestOpenErrors(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	for _, dsn := range []string{
		"postgres://user:sekrit-pw@127.0.0.1:1/none?sslmode=disable&connect_timeout=2",
		"postgres://user:sekrit-pw@[::1/none",
		"postgres://user:sekrit-pw@127.0.0.1:5432/none?sslmode=bogus",
		"host=127.0.0.1 user=user password=sekrit-pw sslmode=bogus",
	} {
		db, err := postgres.Open(ctx, dsn)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "sekrit-pw") {
			t.Errorf("Open's error tells the password: %v", err)
		}
	}
	// A search_path naming no schema that exists.
	dsn := pgtest.WithSearchPath(pgtest.BaseDSN(t), "checkpointd_no_such_schema")
	if db, err := postgres.Open(ctx, dsn); err == nil {
		db.Close()
		t.Error("Open on a missing schema succeeded")
	}
}

// TestDeadlockRetried makes a batch deadlock with a transaction by hand
// that locks the batch's clusters in the other order: whichever of the two
// PostgreSQL aborts, the batch is stored (run again when it was the
// victim).
func TestDeadlockRetried(t *testing.T) {
	s := newShared(t)
	tx, err := s.raw.Begin(s.ctx)
	s.must(err)
	defer tx.Rollback(s.ctx)
	if _, err := tx.Exec(s.ctx, `SELECT 1 FROM clusters WHERE id = $1 FOR UPDATE`, s.b.ID.Hex()); err != nil {
		t.Fatal(err)
	}
	batch := []backup.Checkpoint{s.checkpoint(s.a, s.t0), s.checkpoint(s.b, s.t0)}
	done := make(chan error, 1)
	go func() { done <- s.db.AddCheckpoints(s.ctx, batch) }()
	// Let the batch lock a and wait for b, then wait for a.
	time.Sleep(200 * time.Millisecond)
	_, err = tx.Exec(s.ctx, `SELECT 1 FROM clusters WHERE id = $1 FOR UPDATE`, s.a.ID.Hex())
	if err != nil {
		t.Logf("the transaction by hand was the victim: %v", err)
	} else {
		t.Log("the batch was the victim")
	}
	tx.Rollback(s.ctx)
	select {
	case err := <-done:
		s.must(err)
	case <-time.After(20 * time.Second):
		t.Fatal("the batch did not finish")
	}
	for _, c := range []backup.Cluster{s.a, s.b} {
		if p := s.page(s.oracle, refsOf(c)[0], 1, 10); p.Total != 1 {
			t.Fatalf("cluster %s has %d checkpoints, want 1", c.Name, p.Total)
		}
	}
}

// TestCacheHits makes sure that the tests of stale caches above test a
// cache: a page read twice is served from it (the same backing array),
// until a write elsewhere changes the cluster's epoch.
func TestCacheHits(t *testing.T) {
	s := newShared(t)
	cps := s.appendN(s.other, s.a, 5)
	ref := refsOf(s.a)[1]
	p1, p2 := s.page(s.db, ref, 1, 3), s.page(s.db, ref, 1, 3)
	if len(p1.Items) != 3 || &p1.Items[0] != &p2.Items[0] {
		t.Fatal("a page read twice was read twice")
	}
	if u1, u2 := s.page(s.oracle, ref, 1, 3), s.page(s.oracle, ref, 1, 3); &u1.Items[0] == &u2.Items[0] {
		t.Fatal("the uncached handle cached a page")
	}
	// An append leaves full pages cached; a prune elsewhere voids them.
	s.appendN(s.other, s.a, 1)
	if p3 := s.page(s.db, ref, 1, 3); &p3.Items[0] != &p1.Items[0] {
		t.Fatal("an append voided a full page")
	}
	_, err := s.other.PruneCheckpoints(s.ctx, s.a.ID, cps[1].Timestamp)
	s.must(err)
	p4 := s.page(s.db, ref, 1, 3)
	if &p4.Items[0] == &p1.Items[0] || p4.Items[0].ID != cps[1].ID {
		t.Fatalf("after a prune elsewhere: %v", idsOf(p4.Items))
	}
}

// TestSeenAtOnceUnderLoad: while other goroutines read the cached
// handle's kept answers as fast as they can (sharing its snapshot
// reads), each checkpoint appended through the other handle is found by
// the cached handle's very next read, by id and on the page's last
// position, and the page's total counts it.
func TestSeenAtOnceUnderLoad(t *testing.T) {
	s := newShared(t)
	s.appendN(s.other, s.a, 3)
	ref := refsOf(s.a)[0]
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.db.Checkpoints(s.ctx, ref, backup.PageRequest{Num: 1, Size: 100, IncludeCount: true}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for i := range 30 {
		cp := s.add(s.other, s.a, s.next)
		s.next = s.next.Add(time.Hour)
		if _, err := s.db.Checkpoint(s.ctx, ref, cp.ID); err != nil {
			t.Fatalf("append %d: the next read by id: %v", i, err)
		}
		p := s.page(s.db, ref, 1, 100)
		if p.Total != 4+i || len(p.Items) == 0 || p.Items[len(p.Items)-1].ID != cp.ID {
			t.Fatalf("append %d: the next page read: total %d, last %v; want %d, %s", i, p.Total, idsOf(p.Items), 4+i, cp.ID.Hex())
		}
	}
}
