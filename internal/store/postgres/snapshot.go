package postgres

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Cached reads without a statement of their own.
//
// A cached read used to run its head statement (cache.go) on every call:
// one round trip to the server, most of a cached request's cost on
// PostgreSQL. The SQLite store avoids its equivalent by reading the
// WAL-index header, which every commit rewrites; PostgreSQL's nearest
// equivalent is the set of transactions a snapshot sees, and two
// snapshots with the same xmax and the same in-progress list
// (txid_current_snapshot(): xmin:xmax:xip) see exactly the same
// transactions as committed, since transactions only ever complete. So:
//
//   - A head statement's answer is kept under the snapshot text read by a
//     statement that started after the request arrived and before the head
//     statement ran (its own snapshot is the same or later).
//   - A later read first learns the current snapshot text, from a
//     statement that starts after that read arrived. If it is the one an
//     answer was kept under, no transaction has completed in between, from
//     any process (another instance, an admin command, SQL by hand), and
//     the head statement would answer the same: the kept answer is served.
//     Otherwise the head statement runs, as before.
//
// The snapshot statement is the round trip still made, but it is shared:
// concurrent reads wait for one snapshot read (snapGate), which any
// number of them may use provided it started after they arrived; under
// load one round trip serves every request that arrived while the
// previous one was on its way. A write acknowledged to a client before
// another request arrived is therefore seen by that request, through any
// instance: the coherence the uncached reads have, with no notification
// to wait for and no window.
//
// Any transaction that takes a transaction id completes in this sense
// (the instance registry's heartbeats every two seconds, a Digest nonce
// spent by several instances, a write rolled back) and so drops the kept
// answers, which are then read again once: more head statements, never a
// stale answer. If the snapshot cannot be read, the head statement runs.

// snapshotQuery reads the current snapshot. txid_current_snapshot (rather
// than pg_current_snapshot, 13 and later) for PostgreSQL 12.
const snapshotQuery = `SELECT txid_current_snapshot()::text`

// maxHeads bounds the kept head answers: references that name nothing
// (404s) are kept too, and a client may make up any number of them. On
// overflow the map starts again.
const maxHeads = 4096

// headKey is a head statement's input.
type headKey struct {
	group  backup.ObjectID
	name   string
	id     backup.ObjectID
	bounds bool
}

// keptHead is one head statement's answer, before the caller's access is
// checked (store.Resolve, on every read).
type keptHead struct {
	org pgtype.Text
	h   head
}

// heads are the kept answers, under the snapshot text they were read at.
type heads struct {
	gate snapGate

	mu   sync.Mutex
	snap string
	m    map[headKey]keptHead

	misses atomic.Int64 // head statements run for want of a kept answer (tests)
}

// current returns the snapshot text, from a statement started after the
// call; ok is false when it could not be read.
func (hs *heads) current(ctx context.Context, db *DB) (string, bool) {
	s, err := hs.gate.read(ctx, db.readSnapshot)
	return s, err == nil
}

// get returns the answer kept for k at snapshot snap.
func (hs *heads) get(snap string, k headKey) (keptHead, bool) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.snap != snap {
		return keptHead{}, false
	}
	kh, ok := hs.m[k]
	return kh, ok
}

// put keeps an answer read after snapshot snap was current. An answer
// under an older snapshot than the kept ones' cannot be told from a newer
// one: the text says nothing of order. Either way the map then holds only
// answers of one snapshot, which later reads compare with theirs.
func (hs *heads) put(snap string, k headKey, kh keptHead) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	hs.misses.Add(1)
	if hs.snap != snap || len(hs.m) >= maxHeads {
		hs.snap, hs.m = snap, make(map[headKey]keptHead, len(hs.m))
	}
	hs.m[k] = kh
}

// readSnapshot runs snapshotQuery.
func (db *DB) readSnapshot(ctx context.Context) (string, error) {
	var s string
	err := db.pool.QueryRow(ctx, snapshotQuery).Scan(&s)
	return s, err
}

// snapGate shares snapshot reads among concurrent callers. A caller may
// use a read only if it started after the caller arrived: one already on
// its way when a caller arrives might have read its snapshot before a
// write the caller's client saw acknowledged. So a caller arriving while
// a read runs waits for the next one, which starts when the running one
// ends and serves everyone who arrived in between.
type snapGate struct {
	timeout time.Duration // of one read; 0: none

	mu      sync.Mutex
	running bool
	next    *snapCall // the read that starts when the running one ends; nil: none asked for yet
}

type snapCall struct {
	done    chan struct{}
	callers int // under snapGate.mu
	snap    string
	err     error
}

// read returns a snapshot text read by a statement that started after
// the call.
func (g *snapGate) read(ctx context.Context, read func(context.Context) (string, error)) (string, error) {
	g.mu.Lock()
	c := g.next
	if c == nil {
		c = &snapCall{done: make(chan struct{})}
		g.next = c
	}
	c.callers++
	if !g.running {
		g.running, g.next = true, nil
		go g.run(c, read)
	}
	g.mu.Unlock()
	select {
	case <-c.done:
		return c.snap, c.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// run reads for c, then for the callers that arrived meanwhile, until
// none is waiting. The reads are not any caller's: a caller that gives up
// does not cut the others' read short.
func (g *snapGate) run(c *snapCall, read func(context.Context) (string, error)) {
	for c != nil {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if g.timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, g.timeout)
		}
		c.snap, c.err = read(ctx)
		cancel()
		close(c.done)
		g.mu.Lock()
		c, g.next = g.next, nil
		g.running = c != nil
		g.mu.Unlock()
	}
}
