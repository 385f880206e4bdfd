package backup_test

import (
	"slices"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// objectiveCluster is a sharded cluster created at created, with a
// checkpoint every 15 minutes and an objective of objective.
func objectiveCluster(created time.Time, objective time.Duration) *backup.Cluster {
	return &backup.Cluster{
		ID: backup.MustParseObjectID("5a7cdb3980eef53de5bffdcf"), Name: "c", Type: backup.Sharded,
		Backup: backup.BackupLegacy, Created: created,
		Schedule: backup.CheckpointSchedule{Interval: 15 * time.Minute, Objective: objective},
	}
}

func TestMeasure(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	span := func(a, b time.Time) backup.Span { return backup.Span{Start: a, End: b} }
	long := day.Add(-30 * 24 * time.Hour)
	for _, tt := range []struct {
		name      string
		created   time.Time
		objective time.Duration
		h         backup.RestorableHistory
		now       time.Time
		exposure  time.Duration // -1: no restore point
		met       bool
		worst     backup.Span
		missed    []backup.Span
	}{{
		// Nothing was ever restorable: the gap runs from the range's
		// start, and the objective is missed from one objective after it.
		name: "empty cluster", created: long, objective: time.Hour,
		h:   backup.RestorableHistory{From: at(0, 0), To: at(6, 0)},
		now: at(6, 0), exposure: -1, worst: span(at(0, 0), at(6, 0)),
		missed: []backup.Span{span(at(1, 0), at(6, 0))},
	}, {
		// A cluster created within the range is measured from its
		// creation.
		name: "created in the range", created: at(2, 0), objective: time.Hour,
		h:   backup.RestorableHistory{From: at(0, 0), To: at(6, 0)},
		now: at(6, 0), exposure: -1, worst: span(at(2, 0), at(6, 0)),
		missed: []backup.Span{span(at(3, 0), at(6, 0))},
	}, {
		// None restorable in the range, one long before it: the gap is
		// whole, from that one, and the whole range misses.
		name: "none restorable in the range", created: long, objective: time.Hour,
		h:   backup.RestorableHistory{From: at(0, 0), To: at(6, 0), Before: at(-3, 0), Newest: at(-3, 0)},
		now: at(6, 0), exposure: 9 * time.Hour, worst: span(at(-3, 0), at(6, 0)),
		missed: []backup.Span{span(at(0, 0), at(6, 0))},
	}, {
		// Gaps across both edges: 23:30 → 01:00 across the start (90m),
		// 04:00 → now 06:30 across the end (2h30m), the worst.
		name: "gaps across the edges", created: long, objective: time.Hour,
		h: backup.RestorableHistory{From: at(0, 0), To: at(12, 0), Before: at(0, -30),
			In: []time.Time{at(1, 0), at(1, 15), at(2, 0), at(4, 0)}, Newest: at(4, 0)},
		now: at(6, 30), exposure: 150 * time.Minute, worst: span(at(4, 0), at(6, 30)),
		missed: []backup.Span{span(at(0, 30), at(1, 0)), span(at(3, 0), at(4, 0)), span(at(5, 0), at(6, 30))},
	}, {
		// Met throughout: every gap within the objective.
		name: "met", created: long, objective: 30 * time.Minute,
		h: backup.RestorableHistory{From: at(0, 0), To: at(1, 0), Before: at(0, -15),
			In: []time.Time{at(0, 0), at(0, 15), at(0, 30), at(0, 45), at(1, 0)}, Newest: at(1, 0)},
		now: at(1, 10), exposure: 10 * time.Minute, met: true, worst: span(at(0, -15), at(0, 0)),
	}, {
		// A range in the past: exposure is still now's, from the newest
		// of all, and the range ends at To.
		name: "past range", created: long, objective: time.Hour,
		h: backup.RestorableHistory{From: at(0, 0), To: at(2, 0), Before: at(0, -10),
			In: []time.Time{at(1, 30)}, Newest: at(9, 0)},
		now: at(9, 20), exposure: 20 * time.Minute, met: true, worst: span(at(0, -10), at(1, 30)),
		missed: []backup.Span{span(at(0, 50), at(1, 30))},
	}, {
		// No objective: figures without misses.
		name: "no objective", created: long,
		h:   backup.RestorableHistory{From: at(0, 0), To: at(6, 0), Before: at(-1, 0), Newest: at(-1, 0)},
		now: at(6, 0), exposure: 7 * time.Hour, worst: span(at(-1, 0), at(6, 0)),
	}} {
		t.Run(tt.name, func(t *testing.T) {
			c := objectiveCluster(tt.created, tt.objective)
			r := backup.Measure(c, &tt.h, backup.SlotTally{}, tt.now)
			if tt.exposure < 0 {
				if !r.Newest.IsZero() {
					t.Errorf("Newest = %v, want none", r.Newest)
				}
			} else if r.Exposure != tt.exposure {
				t.Errorf("Exposure = %v, want %v", r.Exposure, tt.exposure)
			}
			if r.Met() != tt.met {
				t.Errorf("Met() = %v, want %v", r.Met(), tt.met)
			}
			if r.WorstGap != tt.worst {
				t.Errorf("WorstGap = %v, want %v", r.WorstGap, tt.worst)
			}
			if !slices.Equal(r.Missed, tt.missed) {
				t.Errorf("Missed = %v, want %v", r.Missed, tt.missed)
			}
		})
	}
}

func TestGridSlots(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	c := objectiveCluster(day.Add(-time.Hour), time.Hour)
	h := &backup.RestorableHistory{From: day.Add(-5 * time.Minute), To: day.Add(time.Hour),
		In: []time.Time{day, day.Add(20 * time.Minute), day.Add(30 * time.Minute)}}
	// 00:00, 00:15, 00:30, 00:45, 01:00 (23:55 is before the grid's
	// first, 00:20 no slot's): restorable at 00:00 and 00:30.
	slots := backup.GridSlots(c, h, h.From, h.To)
	if slots != (backup.SlotTally{Total: 5, Restorable: 2}) {
		t.Fatalf("GridSlots = %+v, want 2 of 5", slots)
	}
	r := backup.Measure(c, h, slots, day.Add(time.Hour))
	if ratio, ok := r.SlotRatio(); !ok || ratio != 0.4 {
		t.Errorf("ratio %v %v, want 0.4", ratio, ok)
	}
	// Not before the cluster's creation.
	c.Created = day.Add(10 * time.Minute)
	if s := backup.GridSlots(c, h, h.From, h.To); s != (backup.SlotTally{Total: 4, Restorable: 1}) {
		t.Errorf("GridSlots since 00:10 = %+v, want 1 of 4", s)
	}
	// Without an interval, no slots are due, and no ratio is.
	c.Schedule.Interval = 0
	if s := backup.GridSlots(c, h, h.From, h.To); s.Total != 0 {
		t.Errorf("GridSlots without an interval = %v", s)
	}
	if _, ok := backup.Measure(c, h, backup.SlotTally{}, h.To).SlotRatio(); ok {
		t.Error("SlotRatio of no slots is ok")
	}
}

func TestObjectiveValidation(t *testing.T) {
	c := *objectiveCluster(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 0)
	c.ReplicaSetName = ""
	c.Shards = []backup.Shard{{Name: "s0", ReplicaSetName: "s0"}}
	c.Config = backup.ConfigServer{ReplicaSetName: "cfg"}
	c.MongoDBVersion = backup.DefaultMongoDBVersion
	for _, tt := range []struct {
		objective time.Duration
		ok        bool
	}{
		{0, true}, {15 * time.Minute, true}, {backup.MaxObjective, true},
		{backup.ObjectiveMinutes(-3), false}, {10 * time.Minute, false}, // under the 15 minute interval
		{backup.MaxObjective + time.Minute, false}, {90 * time.Second, false},
	} {
		_, err := c.Apply(backup.ClusterChange{Objective: &tt.objective})
		if (err == nil) != tt.ok {
			t.Errorf("objective %v: err %v, want ok %v", tt.objective, err, tt.ok)
			continue
		}
		if err != nil {
			if e := backup.ErrorOf(err); e == nil || e.Attr != "recoveryPointObjectiveMin" || e.Code != backup.CodeInvalidAttribute {
				t.Errorf("objective %v: %#v, want INVALID_ATTRIBUTE about recoveryPointObjectiveMin", tt.objective, err)
			}
		}
	}
}

// An interval changed alone past the objective (as the public APIs'
// snapshot schedule does, knowing nothing of objectives) is the
// operator's choice, accepted and then reported as missed; an objective
// set, or set again with the interval, must be reachable.
func TestObjectiveAndInterval(t *testing.T) {
	c := *objectiveCluster(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 0)
	c.ReplicaSetName = ""
	c.Shards = []backup.Shard{{Name: "s0", ReplicaSetName: "s0"}}
	c.Config = backup.ConfigServer{ReplicaSetName: "cfg"}
	c.MongoDBVersion = backup.DefaultMongoDBVersion
	objective, hour := 30*time.Minute, time.Hour
	withObjective, err := c.Apply(backup.ClusterChange{Objective: &objective})
	if err != nil {
		t.Fatal(err)
	}
	longer, err := withObjective.Apply(backup.ClusterChange{Interval: &hour})
	if err != nil || longer.Schedule.Interval != hour || longer.Schedule.Objective != objective {
		t.Errorf("interval alone past the objective: %+v, %v; want accepted, objective kept", longer.Schedule, err)
	}
	if _, err := withObjective.Apply(backup.ClusterChange{Interval: &hour, Objective: &objective}); err == nil {
		t.Error("an objective set under the interval set with it was accepted")
	} else if e := backup.ErrorOf(err); e == nil || e.Attr != "recoveryPointObjectiveMin" {
		t.Errorf("objective under the interval: %v, want an error about recoveryPointObjectiveMin", err)
	}
	if _, err := longer.Apply(backup.ClusterChange{Objective: &objective}); err == nil {
		t.Error("an objective set under the cluster's interval was accepted")
	}
}
