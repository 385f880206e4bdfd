package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestHeadsKept: a cached read keeps its head statement's answer and the
// next one at the same snapshot serves it without the statement; any
// transaction completed since (SQL by hand on a table the read does not
// touch, a checkpoint deleted by hand) makes the next read run it again,
// and the answer is then the database's.
func TestHeadsKept(t *testing.T) {
	f := newFixture(t)
	ref := backup.ClusterRef{GroupID: f.a.GroupID, Name: f.a.Name}
	var cps []backup.Checkpoint
	for i := range 3 {
		cp := f.checkpoint(f.a, f.t0.Add(time.Duration(i)*time.Hour))
		f.must(f.db.AddCheckpoint(f.ctx, cp))
		cps = append(cps, cp)
	}
	misses := func() int64 { return f.db.heads.misses.Load() }
	get := func(id backup.ObjectID) error {
		_, err := f.db.Checkpoint(f.ctx, ref, id)
		return err
	}
	f.must(get(cps[0].ID)) // read, cached
	m0 := misses()
	for range 3 {
		f.must(get(cps[0].ID))
		if _, err := f.db.Checkpoints(f.ctx, ref, backup.PageRequest{Num: 1, Size: 2, IncludeCount: true}); err != nil {
			t.Fatal(err)
		}
	}
	if got := misses() - m0; got != 2 { // each kind of head (with the seq bounds, without) once
		t.Errorf("6 cached reads at one snapshot ran %d head statements, want 2", got)
	}

	// A transaction elsewhere, on a table no read here touches.
	if _, err := f.raw.Exec(f.ctx, `UPDATE organizations SET name = name || 'x'`); err != nil {
		t.Fatal(err)
	}
	m1 := misses()
	f.must(get(cps[0].ID))
	if misses() == m1 {
		t.Error("a read after a transaction completed elsewhere served a kept answer")
	}

	// A checkpoint deleted by hand, with its cluster's epoch moved as the
	// store's writes move it: the cached checkpoint is not served.
	if _, err := f.raw.Exec(f.ctx, `DELETE FROM checkpoints WHERE id = $1`, cps[1].ID.Hex()); err != nil {
		t.Fatal(err)
	}
	if err := get(cps[1].ID); !backup.IsCode(err, backup.CodeCheckpointNotFound) {
		t.Errorf("a checkpoint deleted by hand: %v, want CHECKPOINT_NOT_FOUND", err)
	}
}

// TestHeadsOff: with both caches off nothing is kept.
func TestHeadsOff(t *testing.T) {
	f := newFixture(t, WithCacheSize(0, 0))
	if f.db.heads != nil {
		t.Error("heads kept with the caches off")
	}
}

// TestSnapGate: a caller never gets a snapshot read that was on its way
// when it arrived, callers arriving during one read share the next, and
// a failed read fails its callers alone.
func TestSnapGate(t *testing.T) {
	var g snapGate
	type step struct {
		started chan struct{}
		finish  chan error
	}
	var (
		mu    sync.Mutex
		reads []step
		n     int
	)
	read := func(time.Time, int) (string, error) {
		mu.Lock()
		s := step{started: make(chan struct{}), finish: make(chan error)}
		reads = append(reads, s)
		n++
		i := n
		mu.Unlock()
		close(s.started)
		if err := <-s.finish; err != nil {
			return "", err
		}
		return string(rune('0' + i)), nil
	}
	stepOf := func(i int) step {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			mu.Lock()
			if len(reads) > i {
				s := reads[i]
				mu.Unlock()
				<-s.started
				return s
			}
			mu.Unlock()
		}
		t.Fatalf("read %d never started", i+1)
		return step{}
	}
	type answer struct {
		snap string
		err  error
	}
	call := func() chan answer {
		c := make(chan answer, 1)
		go func() {
			s, err := g.read(context.Background(), read)
			c <- answer{s, err}
		}()
		return c
	}

	first := call()
	r1 := stepOf(0)
	// Three callers arrive while read 1 runs: they wait for read 2.
	later := []chan answer{call(), call(), call()}
	waitWaiting(t, &g, 3)
	r1.finish <- nil
	if a := <-first; a.snap != "1" || a.err != nil {
		t.Errorf("first caller: %+v, want read 1", a)
	}
	r2 := stepOf(1)
	last := call() // arrives during read 2: waits for read 3
	waitWaiting(t, &g, 1)
	r2.finish <- nil
	for i, c := range later {
		if a := <-c; a.snap != "2" || a.err != nil {
			t.Errorf("caller %d arriving during read 1: %+v, want read 2", i, a)
		}
	}
	r3 := stepOf(2)
	r3.finish <- errors.New("down")
	if a := <-last; a.err == nil {
		t.Errorf("caller of a failed read: %+v, want its error", a)
	}
	// Nothing waits: the next caller starts a read of its own.
	next := call()
	stepOf(3).finish <- nil
	if a := <-next; a.snap != "4" || a.err != nil {
		t.Errorf("caller after the gate emptied: %+v, want read 4", a)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reads) != 4 {
		t.Errorf("%d reads for 6 callers, want 4", len(reads))
	}
}

// waitWaiting waits until n callers wait for the read after the running
// one.
func waitWaiting(t *testing.T, g *snapGate, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		g.mu.Lock()
		got := 0
		if g.next != nil {
			got = g.next.callers
		}
		g.mu.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("%d callers do not wait for the next read", n)
}

// TestSnapGateLanes: with two lanes, a caller arriving while one read is
// on its way has its own sent at once on the other lane; callers arriving
// while both are on their way share the next, sent when either ends; and
// no caller gets a read sent before it arrived.
func TestSnapGateLanes(t *testing.T) {
	g := snapGate{lanes: 2}
	var (
		mu    sync.Mutex
		reads []chan error // one per read sent, in order
		lanes []int
	)
	read := func(_ time.Time, lane int) (string, error) {
		mu.Lock()
		finish := make(chan error)
		reads = append(reads, finish)
		lanes = append(lanes, lane)
		i := len(reads)
		mu.Unlock()
		if err := <-finish; err != nil {
			return "", err
		}
		return string(rune('0' + i)), nil
	}
	sent := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			mu.Lock()
			got := len(reads)
			mu.Unlock()
			if got == n {
				return
			}
		}
		t.Fatalf("%d reads never sent", n)
	}
	finish := func(i int) {
		mu.Lock()
		c := reads[i]
		mu.Unlock()
		c <- nil
	}
	call := func() chan string {
		c := make(chan string, 1)
		go func() {
			s, err := g.read(context.Background(), read)
			if err != nil {
				s = "error"
			}
			c <- s
		}()
		return c
	}

	a := call()
	sent(1)
	b := call() // read 1 on its way: read 2 goes at once, on the other lane
	sent(2)
	later := []chan string{call(), call()} // both lanes busy: they wait for read 3
	waitWaiting(t, &g, 2)
	finish(1) // read 2 ends first
	if s := <-b; s != "2" {
		t.Errorf("second caller got read %s, want 2", s)
	}
	sent(3) // read 3 takes the freed lane while read 1 is still on its way
	finish(0)
	if s := <-a; s != "1" {
		t.Errorf("first caller got read %s, want 1", s)
	}
	finish(2)
	for i, c := range later {
		if s := <-c; s != "3" {
			t.Errorf("caller %d arriving while both lanes were busy got read %s, want 3", i, s)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reads) != 3 || lanes[0] == lanes[1] || lanes[2] != lanes[1] {
		t.Errorf("%d reads on lanes %v, want 3, the first two on different lanes and the third on the second's", len(reads), lanes)
	}
}
