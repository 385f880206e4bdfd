package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
)

// TestOplog: a member's oplog holds its notes with the other writes of
// their second before them, in timestamp order; a note the agent does
// not see yet hides what follows it, a lost one hides nothing, and the
// oplog keeps only its newest entries.
func TestOplog(t *testing.T) {
	c := cluster(1)
	clock := clock.NewVirtual(t0.Add(500 * time.Millisecond))
	s, err := sim.New(c, clock, 1, sim.Config{WriteRate: 8, Discovery: sim.Range{Min: 10 * time.Second, Max: 10 * time.Second}, OplogSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	shard := engine.Members(c)[0].Name()
	ts, err := s.AppendNote(ctx, shard, []byte{5, 0, 0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	all, covered := s.ReadOplog(shard, backup.BSONTimestamp{}, 0)
	if !covered || len(all) != int(ts.Increment)-1 {
		t.Fatalf("before the note is seen: %d entries (covered %v), want the %d other writes before it", len(all), covered, ts.Increment-1)
	}
	for i, e := range all {
		if e.Op != "i" || e.TS.Increment != uint32(i+1) || !e.TS.Date.Equal(t0) {
			t.Errorf("entry %d = %+v", i, e)
		}
	}
	clock.Advance(10 * time.Second)
	s.Noop(shard, "periodic noop")
	all, _ = s.ReadOplog(shard, backup.BSONTimestamp{}, 0)
	if n := len(all); n <= int(ts.Increment) || all[ts.Increment-1].TS != ts || all[ts.Increment-1].Op != "n" || all[n-1].Op != "n" {
		t.Fatalf("after the note is seen: %+v", all)
	}
	after, _ := s.ReadOplog(shard, ts, 0)
	if len(after) != len(all)-int(ts.Increment) {
		t.Errorf("ReadOplog after the note: %d entries", len(after))
	}

	s.SetFaults(sim.Faults{Lost: []string{shard}})
	lost, _ := s.AppendNote(ctx, shard, []byte{5, 0, 0, 0, 0})
	s.SetFaults(sim.Faults{})
	clock.Advance(10 * time.Second)
	s.Noop(shard, "periodic noop")
	tail, _ := s.ReadOplog(shard, ts, 0)
	for _, e := range tail {
		if e.TS == lost {
			t.Errorf("lost note %v read", lost)
		}
	}
	if tail[len(tail)-1].TS != s.LastTimestamp(shard) {
		t.Error("the lost note hid what follows it")
	}

	for range 100 {
		clock.Advance(time.Second)
		s.Noop(shard, "periodic noop")
	}
	all, _ = s.ReadOplog(shard, backup.BSONTimestamp{}, 0)
	if len(all) > 64 {
		t.Errorf("oplog of size 64 holds %d entries", len(all))
	}
	if _, covered := s.ReadOplog(shard, ts, 0); covered {
		t.Error("a position that rolled off the oplog reads as covered")
	}
}

// TestStepDownFault: a stepped-down member refuses tokens; elected again
// it writes in a new term.
func TestStepDownFault(t *testing.T) {
	c := cluster(1)
	clock := clock.NewAuto(t0)
	s, _ := sim.New(c, clock, 1, sim.Config{})
	ctx := context.Background()
	m := engine.Members(c)[0]
	s.SetFaults(sim.Faults{SteppedDown: []string{m.Name()}})
	if err := s.WriteToken(ctx, m, engine.Token{}); !errors.Is(err, sim.ErrNotPrimary) {
		t.Errorf("WriteToken on a stepped-down member: %v", err)
	}
	s.SetFaults(sim.Faults{})
	tok := engine.Token{Checkpoint: backup.NewIDSource().New(t0)}
	if err := s.WriteToken(ctx, m, tok); err != nil {
		t.Fatal(err)
	}
	all, _ := s.ReadOplog(m.Name(), backup.BSONTimestamp{}, 0)
	if e := all[len(all)-1]; e.Term != 2 || s.Term(m.Name()) != 2 {
		t.Errorf("token after re-election in term %d", e.Term)
	}
	if _, err := s.DiscoverToken(ctx, m, tok, time.Second); err != nil {
		t.Errorf("DiscoverToken: %v", err)
	}
}
