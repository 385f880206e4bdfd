package postgres

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
// load one round trip serves every request that arrived while the lanes
// were busy with earlier ones. A write acknowledged to a client before
// another request arrived is therefore seen by that request, through any
// instance: the coherence the uncached reads have, with no notification
// to wait for and no window. (Why a read must start after the request
// arrived, and not merely end after: a read sent before the request
// arrived may have taken its snapshot before a write that the request's
// client then saw acknowledged and that another instance made; its
// answer would miss that write. TestSnapGate and TestSnapGateLanes pin
// that no caller is given such a read; TestSeenAtOnceUnderLoad and the
// multi-instance tests of cmd/checkpointd, that writes through another
// handle are seen at once under concurrent reads.)
//
// A cached read that finds its answer kept (keptHead) makes no statement
// and sets up no call timeout: it waits only for the snapshot, whose read
// ends by the op timeout counted from when its first caller arrived.
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
	gate  snapGate
	conns snapConns
	read  func(time.Time, int) (string, error) // DB.readSnapshot, made once: a method value per call would be an allocation

	mu   sync.Mutex
	snap string
	m    map[headKey]keptHead

	misses atomic.Int64 // head statements run for want of a kept answer (tests)
}

// current returns the snapshot text, from a statement started after the
// call; ok is false when it could not be read.
func (hs *heads) current(ctx context.Context, db *DB) (string, bool) {
	s, err := hs.gate.read(ctx, hs.read)
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

// readSnapshot runs snapshotQuery on the lane's connection (snapConns),
// or on one of the pool's when it has none; it ends by deadline unless
// that is zero.
func (db *DB) readSnapshot(deadline time.Time, lane int) (string, error) {
	if s, err, ok := db.heads.conns.read(lane, db.connConfig, deadline); ok {
		return s, err
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if !deadline.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, deadline)
	}
	defer cancel()
	var s string
	err := db.pool.QueryRow(ctx, snapshotQuery).Scan(&s)
	return s, err
}

// snapLanes is how many snapshot reads may be on their way at once: with
// more than one, a caller arriving while one is on its way need not wait
// for it to end before its own is sent. Two measured no better for
// get-one and worse for cached pages at 16 connections under wrk (more
// reads for the same requests; BENCHMARKS.md), so one; each lane is a
// connection.
const snapLanes = 1

// snapConns are the snapshot reads' connections, one a lane, outside the
// pool: a read then neither waits for a pooled connection that page
// reads hold nor takes one from them, and always finds the same server
// process, its statement prepared. One that fails is closed and made
// again by the lane's next read; while one cannot be made, the lane
// reads through the pool.
type snapConns struct {
	mu     sync.Mutex
	conns  [snapLanes]*snapConn
	closed bool
}

// snapConn is a lane's connection. A read runs the prepared statement
// through pgx's lower level (pgconn) without a context to watch, bounded
// by a deadline on the connection itself, and keeps the text it read
// last: while no transaction completes, a read answers the same text and
// makes no string of it. Besides the round trip a read then costs the
// client one allocation (pgconn's command tag) and no timer, where pgx's
// QueryRow under a deadline made 17 (BenchmarkSnapshotStatement).
type snapConn struct {
	c    *pgx.Conn
	sd   *pgconn.StatementDescription
	last string
}

// read runs snapshotQuery on the lane's connection, connecting it first
// if need be, and ends by deadline unless that is zero; ok is false when
// there is no connection to run it on.
func (sc *snapConns) read(lane int, cfg *pgx.ConnConfig, deadline time.Time) (snap string, err error, ok bool) {
	sc.mu.Lock()
	c, closed := sc.conns[lane], sc.closed
	sc.mu.Unlock()
	if closed {
		return "", nil, false
	}
	if c == nil {
		if c, err = dialSnapConn(cfg, deadline); err != nil {
			return "", nil, false
		}
		sc.mu.Lock()
		if sc.closed {
			sc.mu.Unlock()
			closeConn(c.c)
			return "", nil, false
		}
		sc.conns[lane] = c
		sc.mu.Unlock()
	}
	if snap, err = c.read(deadline); err != nil {
		sc.drop(lane, c)
	}
	return snap, err, true
}

// dialSnapConn connects a lane and prepares its statement, by deadline.
func dialSnapConn(cfg *pgx.ConnConfig, deadline time.Time) (*snapConn, error) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if !deadline.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, deadline)
	}
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return nil, err
	}
	sd, err := c.Prepare(ctx, "snapshot", snapshotQuery)
	if err == nil && len(sd.Fields) != 1 {
		err = fmt.Errorf("%d columns", len(sd.Fields))
	}
	if err != nil {
		closeConn(c)
		return nil, fmt.Errorf("postgres: prepare the snapshot read: %w", err)
	}
	return &snapConn{c: c, sd: sd}, nil
}

// read runs the prepared statement once. A deadline set on the
// connection fails a read that outlasts it as a timeout, which the lane
// answers by closing the connection (drop).
func (c *snapConn) read(deadline time.Time) (string, error) {
	pc := c.c.PgConn()
	if !deadline.IsZero() {
		if err := pc.Conn().SetDeadline(deadline); err != nil {
			return "", err
		}
		defer pc.Conn().SetDeadline(time.Time{})
	}
	rr := pc.ExecStatement(context.Background(), c.sd, nil, nil, nil)
	rows := 0
	for rr.NextRow() {
		if v := rr.Values(); len(v) == 1 && string(v[0]) != c.last {
			c.last = string(v[0])
		}
		rows++
	}
	if _, err := rr.Close(); err != nil {
		return "", err
	}
	if rows != 1 {
		return "", fmt.Errorf("postgres: snapshot read: %d rows", rows)
	}
	return c.last, nil
}

// closeConn closes a connection, waiting a second at most.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Close(ctx)
}

// drop closes the lane's connection c, and forgets it if it is still the
// lane's.
func (sc *snapConns) drop(lane int, c *snapConn) {
	sc.mu.Lock()
	if sc.conns[lane] == c {
		sc.conns[lane] = nil
	}
	sc.mu.Unlock()
	closeConn(c.c)
}

// close closes the connections; later reads go through the pool (which
// is closed too).
func (sc *snapConns) close() {
	sc.mu.Lock()
	conns := sc.conns
	sc.conns, sc.closed = [snapLanes]*snapConn{}, true
	sc.mu.Unlock()
	for _, c := range conns {
		if c != nil {
			closeConn(c.c)
		}
	}
}

// snapGate shares snapshot reads among concurrent callers. A caller may
// use a read only if it started after the caller arrived: one already on
// its way when a caller arrives might have read its snapshot before a
// write the caller's client saw acknowledged. So callers join the read
// that has not been sent yet (next), which a lane takes (under mu) before
// it sends it: everyone who joined it arrived before it started. It is
// sent as soon as one of the lanes is free, after the lane has
// yielded once to the goroutines ready to run, so that requests already
// read off their connections join it rather than the one after: under
// load, one read serves the requests that arrived while the lanes were
// busy.
type snapGate struct {
	timeout time.Duration // of one read, from its first caller's arrival; 0: none
	lanes   int           // reads on their way at once, at most (≤ snapLanes); 0: 1

	reads atomic.Int64 // made (benchmarks)

	mu   sync.Mutex
	busy uint8     // lanes taken, a bit each
	next *snapCall // the read not sent yet; nil: none asked for
}

type snapCall struct {
	created   time.Time // when its first caller arrived; its read ends by created + timeout
	done      chan struct{}
	callers   int  // under snapGate.mu
	scheduled bool // a lane will send it; under snapGate.mu
	snap      string
	err       error
}

// read returns a snapshot text read by a statement that started after
// the call; it waits at most the gate's timeout from when the call
// arrived, or until ctx ends.
func (g *snapGate) read(ctx context.Context, read func(time.Time, int) (string, error)) (string, error) {
	g.mu.Lock()
	c := g.next
	if c == nil {
		c = &snapCall{done: make(chan struct{}), created: time.Now()} // elapsed time: the read's deadline runs from here
		g.next = c
	}
	c.callers++
	lane := -1
	if !c.scheduled {
		for i := range max(1, g.lanes) {
			if g.busy&(1<<i) == 0 {
				c.scheduled, lane = true, i
				g.busy |= 1 << i
				break
			}
		}
	}
	g.mu.Unlock()
	if lane >= 0 {
		go g.run(lane, read)
	}
	select {
	case <-c.done:
		return c.snap, c.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// run sends the next read on a lane, then the ones asked for meanwhile,
// until none is waiting. The reads are not any caller's: a caller that
// gives up does not cut the others' read short.
func (g *snapGate) run(lane int, read func(time.Time, int) (string, error)) {
	for {
		runtime.Gosched() // let the requests ready to run join this read
		g.mu.Lock()
		c := g.next // scheduled for this lane: no other takes it
		g.next = nil
		g.mu.Unlock()
		var deadline time.Time
		if g.timeout > 0 {
			deadline = c.created.Add(g.timeout)
		}
		c.snap, c.err = read(deadline, lane)
		g.reads.Add(1)
		close(c.done)
		g.mu.Lock()
		if c := g.next; c != nil && !c.scheduled {
			c.scheduled = true
			g.mu.Unlock()
			continue
		}
		g.busy &^= 1 << lane
		g.mu.Unlock()
		return
	}
}
