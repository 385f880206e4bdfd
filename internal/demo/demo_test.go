package demo_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
)

// TestHistoryInvariants checks, over many seeds and every cluster shape,
// what every stored checkpoint must satisfy.
func TestHistoryInvariants(t *testing.T) {
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	start := end.AddDate(0, 0, -3)
	shapes := []backup.Cluster{
		{ID: backup.MustParseObjectID("6b8cd61180eef547110159d9"), GroupID: demo.ProjectID, Name: "S", Type: backup.Sharded,
			Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "rs0"}, {Name: "s1", ReplicaSetName: "rs1"}, {Name: "s2", ReplicaSetName: "rs2"}},
			Config: backup.ConfigServer{ReplicaSetName: "cfg"}},
		{ID: backup.MustParseObjectID("6b8cd61180eef547110159da"), GroupID: demo.ProjectID, Name: "R", Type: backup.ReplicaSet, ReplicaSetName: "rs"},
		{ID: backup.MustParseObjectID("6b8cd61180eef547110159db"), GroupID: demo.ProjectID, Name: "M", Type: backup.Sharded,
			Shards: []backup.Shard{{Name: "shard_0", ReplicaSetName: "a"}},
			Config: backup.ConfigServer{HostIDs: []string{"h1", "h2", "h3"}}},
	}
	unrestorable := 0
	for seed := uint64(0); seed < 20; seed++ {
		for _, c := range shapes {
			rng := rand.New(rand.NewPCG(seed, 1))
			cps := demo.History(rng, backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 0), c, start, end, 15*time.Minute)
			if want := 3*24*4 - 1; len(cps) < want {
				t.Fatalf("seed %d %s: %d checkpoints, want at least %d", seed, c.Name, len(cps), want)
			}
			wantParts := 1
			if c.Type == backup.Sharded {
				wantParts = len(c.Shards) + 1
			}
			ids := map[backup.ObjectID]bool{}
			for i, cp := range cps {
				if ids[cp.ID] {
					t.Fatalf("duplicate id %s", cp.ID)
				}
				ids[cp.ID] = true
				if len(cp.Parts) != wantParts {
					t.Fatalf("%s #%d: %d parts, want %d", c.Name, i, len(cp.Parts), wantParts)
				}
				if !cp.ID.Time().Equal(cp.Started) {
					t.Errorf("%s #%d: id time %v != started %v", c.Name, i, cp.ID.Time(), cp.Started)
				}
				if cp.Timestamp.After(cp.Started) || cp.Started.After(cp.Completed) || cp.Completed.Sub(cp.Timestamp) > 80*time.Second {
					t.Errorf("%s #%d: timestamp %v, started %v, completed %v out of order", c.Name, i, cp.Timestamp, cp.Started, cp.Completed)
				}
				if i > 0 && !cp.Timestamp.After(cps[i-1].Timestamp) {
					t.Errorf("%s #%d: not after its predecessor", c.Name, i)
				}
				allFound := true
				for _, p := range cp.Parts {
					if !p.TokenDiscovered {
						allFound = false
						continue
					}
					d := p.TokenTimestamp.Date
					if p.TokenTimestamp.Increment < 1 || d.Before(cp.Started) || d.After(cp.Completed) {
						t.Errorf("%s #%d: part %+v outside [started, completed] or increment < 1", c.Name, i, p)
					}
				}
				if !allFound && cp.Restorable {
					t.Errorf("%s #%d: restorable with an undiscovered token", c.Name, i)
				}
				if !cp.Restorable {
					unrestorable++
				}
				last := cp.Parts[len(cp.Parts)-1]
				switch {
				case c.Type == backup.ReplicaSet && last.Type != backup.PartReplicaSet,
					c.Type == backup.Sharded && c.Config.Mirrored() && (last.Type != backup.PartConfigServer || last.HostID == "" || last.ReplicaSetName != ""),
					c.Type == backup.Sharded && !c.Config.Mirrored() && last.Type != backup.PartConfigReplicaSet:
					t.Errorf("%s #%d: last part %+v", c.Name, i, last)
				}
			}
		}
	}
	if unrestorable == 0 {
		t.Error("no seed produced a non-restorable checkpoint; the history shows only the happy path")
	}
}

func TestHistoryDeterministic(t *testing.T) {
	end := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := backup.Cluster{ID: demo.ProjectID, GroupID: demo.ProjectID, Name: "R", Type: backup.ReplicaSet, ReplicaSetName: "rs"}
	gen := func() []backup.Checkpoint {
		return demo.History(rand.New(rand.NewPCG(7, 7)), backup.NewIDSourceFrom([5]byte{9}, 3), c, end.Add(-24*time.Hour), end, time.Hour)
	}
	a, b := gen(), gen()
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("lengths %d and %d", len(a), len(b))
	}
	for i := range a {
		if a[i].ID != b[i].ID || !a[i].Started.Equal(b[i].Started) || a[i].Parts[0] != b[i].Parts[0] {
			t.Fatalf("#%d differs: %+v vs %+v", i, a[i], b[i])
		}
	}
}
