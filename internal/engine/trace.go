package engine

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// Trace is what one run of the checkpoint procedure did: its steps with
// their times and, for anything but a restorable checkpoint with the
// balancer restarted, why: the first fault's reason code and part, and
// every fault's sentence.
type Trace struct {
	Steps  []backup.SlotStep
	Reason backup.SlotReason
	Part   string
	faults []string
}

// Detail is the trace's faults in one sentence each, joined.
func (t *Trace) Detail() string {
	d := strings.Join(t.faults, "; ")
	if len(d) > backup.MaxSlotDetailLen {
		d = d[:backup.MaxSlotDetailLen-3] + "..."
	}
	return d
}

func (t *Trace) step(clk clock.Clock, k backup.SlotStepKind, part string) {
	if len(t.Steps) < backup.MaxSlotSteps {
		t.Steps = append(t.Steps, backup.SlotStep{Kind: k, At: second(clk.Now()), Part: part})
	}
}

// fail records a fault; the first one names the reason and part.
func (t *Trace) fail(r backup.SlotReason, part, sentence string) {
	if t.Reason == "" {
		t.Reason, t.Part = r, part
	}
	t.faults = append(t.faults, oneLine(sentence))
}

// abandon records that the procedure was cut short, which outranks
// whatever went wrong before.
func (t *Trace) abandon() {
	t.Reason, t.Part = backup.ReasonAbandoned, ""
	t.faults = append([]string{"checkpoint abandoned: the process was stopping"}, t.faults...)
}

// oneLine keeps a driver's error text to one line without control
// characters, as a record's detail must be.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// seconds prints a duration as slot details do: "30s", "2m0s".
func seconds(d time.Duration) string { return d.Round(time.Second).String() }

// partNoun is what a detail calls a member: shard, config server or
// replica set.
func partNoun(m Member) string {
	switch {
	case m.ShardName != "":
		return "shard"
	case m.Type == backup.PartReplicaSet:
		return "replica set"
	}
	return "config server"
}

// SlotRecord makes the record of the slot at slot of c from what the
// procedure returned (cp, tr and err, as TakeTraced returns them) and
// whether and how cp was stored (storeErr; stored false when it was not
// tried), recorded at now by source. A nil error and a zero checkpoint is
// a slot the procedure left without one for a reason in tr.
func SlotRecord(c backup.Cluster, slot time.Time, cp backup.Checkpoint, tr Trace, err, storeErr error, source backup.SlotSource, now time.Time) backup.Slot {
	s := backup.Slot{ClusterID: c.ID, GroupID: c.GroupID, Time: second(slot), Steps: tr.Steps, Source: source,
		Reason: tr.Reason, Part: tr.Part, Detail: tr.Detail(), Recorded: second(now)}
	switch {
	case cp.ID.IsZero():
		s.Outcome = backup.SlotFailed
		if tr.Reason == backup.ReasonBalancerNotStopped {
			s.Outcome = backup.SlotSkipped
		}
		if s.Reason == "" && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			s.Reason, s.Detail = backup.ReasonAbandoned, "checkpoint abandoned: the process was stopping"
		}
		if s.Reason == "" {
			s.Reason = backup.ReasonStepFailed
			s.Detail = "no checkpoint taken"
			if err != nil {
				s.Detail = oneLine(err.Error())
			}
		}
	case storeErr != nil:
		s.Outcome, s.Reason, s.Part = backup.SlotFailed, backup.ReasonNotStored, ""
		s.Detail = limit("checkpoint taken but not stored: " + oneLine(storeErr.Error()))
	default:
		s.CheckpointID = cp.ID
		s.Outcome = backup.SlotTaken
		if !cp.Restorable {
			s.Outcome = backup.SlotNotRestorable
			if s.Reason == "" || s.Reason == backup.ReasonBalancerNotRestarted {
				// A part without its token and no fault seen: say which.
				r, d, p := backup.NotRestorableReason(&cp)
				s.Reason, s.Part = r, p
				s.Detail = limit(strings.TrimPrefix(d+"; "+s.Detail, "; "))
			}
		}
		s.Steps = append(s.Steps, backup.SlotStep{Kind: backup.StepReported, At: second(now)})
	}
	if s.Outcome == backup.SlotTaken && s.Reason == "" {
		s.Detail, s.Part = "", ""
	}
	if len(s.Steps) > backup.MaxSlotSteps {
		s.Steps = s.Steps[:backup.MaxSlotSteps]
	}
	return s
}

func limit(s string) string {
	if len(s) > backup.MaxSlotDetailLen {
		return s[:backup.MaxSlotDetailLen-3] + "..."
	}
	return strings.TrimSuffix(s, "; ")
}
