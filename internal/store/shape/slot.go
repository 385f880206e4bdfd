package shape

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// SlotRow is a slots row as both dialects store it, with the cluster's
// ids and name it is read with (migrations/0013_slots.sql).
type SlotRow struct {
	Slot                            int64
	Outcome, Checkpoint             string
	Reason, Detail, Part            string
	Steps, Source                   string
	Recorded                        int64
	GroupID, ClusterID, ClusterName string
}

// Dest is the scan destinations of SlotCols, in its order.
func (r *SlotRow) Dest() []any {
	return []any{&r.Slot, &r.Outcome, &r.Checkpoint, &r.Reason, &r.Detail, &r.Part, &r.Steps, &r.Source,
		&r.Recorded, &r.GroupID, &r.ClusterID, &r.ClusterName}
}

// SlotCols are the columns Dest scans: the record's (alias s), then its
// cluster's (alias c).
const SlotCols = `s.slot, s.outcome, s.checkpoint_id, s.reason, s.detail, s.part, s.steps, s.source,
  s.recorded, c.group_id, c.id, c.name`

// SlotInsertCols are the columns SlotArgs fills, after cluster.
const SlotInsertCols = `cluster, slot, outcome, checkpoint_id, reason, detail, part, steps, source, recorded`

// step is a step's stored JSON shape, with names of its own so that
// renaming a Go field never changes what stored rows mean.
type step struct {
	Kind string `json:"k"`
	At   int64  `json:"at"`
	Part string `json:"p,omitempty"`
}

// SlotArgs are the values of a new row, in the order of SlotInsertCols,
// after the cluster's pk.
func SlotArgs(s *backup.Slot) ([]any, error) {
	steps := make([]step, len(s.Steps))
	for i, st := range s.Steps {
		steps[i] = step{Kind: string(st.Kind), At: st.At.Unix(), Part: st.Part}
	}
	b, err := json.Marshal(steps)
	if err != nil {
		return nil, err
	}
	var cp string
	if !s.CheckpointID.IsZero() {
		cp = s.CheckpointID.Hex()
	}
	return []any{s.Time.Unix(), string(s.Outcome), cp, string(s.Reason), s.Detail, s.Part, string(b),
		string(s.Source), s.Recorded.Unix()}, nil
}

// Record is the row as a domain value.
func (r *SlotRow) Record() (backup.Slot, error) {
	s := backup.Slot{ClusterName: r.ClusterName, Time: UnixTime(r.Slot), Outcome: backup.SlotOutcome(r.Outcome),
		Reason: backup.SlotReason(r.Reason), Detail: r.Detail, Part: r.Part, Source: backup.SlotSource(r.Source),
		Recorded: UnixTime(r.Recorded)}
	var steps []step
	if err := json.Unmarshal([]byte(r.Steps), &steps); err != nil {
		return s, fmt.Errorf("slot %d: steps: %w", r.Slot, err)
	}
	for _, st := range steps {
		s.Steps = append(s.Steps, backup.SlotStep{Kind: backup.SlotStepKind(st.Kind), At: UnixTime(st.At), Part: st.Part})
	}
	for _, f := range []struct {
		dst      *backup.ObjectID
		s        string
		optional bool
	}{{&s.GroupID, r.GroupID, false}, {&s.ClusterID, r.ClusterID, false}, {&s.CheckpointID, r.Checkpoint, true}} {
		if f.optional && f.s == "" {
			continue
		}
		id, err := ParseIDString(f.s)
		if err != nil {
			return s, fmt.Errorf("slot %d: %w", r.Slot, err)
		}
		*f.dst = id
	}
	return s, nil
}

// SameSlot reports whether two records of one slot say the same, as a
// retried report does: everything but when each was recorded.
func SameSlot(a, b backup.Slot) bool {
	if len(a.Steps) != len(b.Steps) {
		return false
	}
	for i := range a.Steps {
		if a.Steps[i].Kind != b.Steps[i].Kind || !a.Steps[i].At.Equal(b.Steps[i].At) || a.Steps[i].Part != b.Steps[i].Part {
			return false
		}
	}
	return a.ClusterID == b.ClusterID && a.GroupID == b.GroupID && a.Time.Equal(b.Time) && a.Outcome == b.Outcome &&
		a.CheckpointID == b.CheckpointID && a.Reason == b.Reason && a.Detail == b.Detail && a.Part == b.Part && a.Source == b.Source
}

// CheckSlot is what RecordSlot does before any SQL: a record in whole
// seconds, valid.
func CheckSlot(s *backup.Slot) error {
	s.Time = s.Time.UTC()
	s.Recorded = s.Recorded.UTC()
	for i := range s.Steps {
		s.Steps[i].At = s.Steps[i].At.UTC()
	}
	return s.Validate()
}

// SlotBounds are the stored slot times a filter's From and To select:
// lo <= slot < hi. Stored times are whole seconds, so a bound with a
// fraction is rounded up (slot >= from is slot >= ceil(from)).
func SlotBounds(from, to time.Time) (lo, hi int64) {
	ceil := func(t time.Time) int64 {
		s := t.Unix()
		if t.Nanosecond() != 0 {
			s++
		}
		return s
	}
	lo, hi = math.MinInt64, math.MaxInt64
	if !from.IsZero() {
		lo = ceil(from)
	}
	if !to.IsZero() {
		hi = ceil(to)
	}
	return lo, hi
}

// SlotSpan is the smallest and largest of slots, as stored seconds.
func SlotSpan(slots []time.Time) (lo, hi int64) {
	lo, hi = math.MaxInt64, math.MinInt64
	for _, s := range slots {
		lo, hi = min(lo, s.Unix()), max(hi, s.Unix())
	}
	return lo, hi
}
