package backup

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// MaxObjective bounds a recovery point objective: the longest
// point-in-time window (30 days), beyond which no checkpoint is kept to
// meet it.
const MaxObjective = MaxWindow

// ObjectiveMinutes is n minutes as ClusterChange.Objective; zero (no
// objective) stays zero, and a count no objective has (negative, or more
// minutes than a Duration holds) gives -1, which Apply refuses.
func ObjectiveMinutes(n int) time.Duration {
	if n < 0 || int64(n) > int64(math.MaxInt64/time.Minute) {
		return -1
	}
	return time.Duration(n) * time.Minute
}

// attrObjective is the administration API's name of the objective.
const attrObjective = "recoveryPointObjectiveMin"

// errObjective is the INVALID_ATTRIBUTE error of an objective out of
// bounds.
func errObjective() *Error {
	return ErrInvalidAttribute(attrObjective,
		fmt.Sprintf("a recovery point objective is a whole number of minutes from 1 to %d, or null for none", int(MaxObjective/time.Minute)))
}

// validateObjective checks a schedule's objective: whole minutes within
// MaxObjective.
func (s CheckpointSchedule) validateObjective() error {
	o := s.Objective
	if o != 0 && (o < time.Minute || o > MaxObjective || o%time.Minute != 0) {
		return errObjective()
	}
	return nil
}

// checkObjectiveReachable refuses an objective being set that the
// schedule can never meet: a cluster whose checkpoints come every hour is
// an hour from its last one just before the next, so an objective under
// an hour could never be met. It is checked only where the objective is
// set, not where the interval alone changes: the snapshot schedule of the
// public APIs knows nothing of an objective, and a longer interval set
// there is the operator's choice, which the objective's report then shows
// as missed rather than refuses.
func (s CheckpointSchedule) checkObjectiveReachable() error {
	o := s.Objective
	if o != 0 && s.Interval != 0 && o < s.Interval {
		return ErrInvalidAttribute(attrObjective, fmt.Sprintf(
			"an objective of %d minutes is never met with a checkpoint every %d minutes (clusterCheckpointIntervalMin)",
			int(o/time.Minute), int(s.Interval/time.Minute)))
	}
	return nil
}

// RestorableHistory is what a store reads of a cluster's restorable
// checkpoints for an objective report, in one indexed pass: their
// Timestamps in [From, To], with the newest before From (so that the
// gap across the range's start is whole) and the newest of all (the
// current exposure, when To is in the past).
type RestorableHistory struct {
	From, To time.Time
	// Before is the newest restorable Timestamp before From; zero when
	// there is none (none was taken, or retention pruned it).
	Before time.Time
	// In are the restorable Timestamps in [From, To], oldest first.
	In []time.Time
	// Newest is the newest restorable Timestamp of all; zero when none.
	Newest time.Time
}

// SlotTally counts a range's scheduled slots and those that left a
// restorable checkpoint.
type SlotTally struct {
	Total, Restorable int
	// Recorded says the count is of slot records (Slot), rather than of
	// the interval's grid (GridSlots).
	Recorded bool
}

// TallyOf is the tally of counts, a cluster's slot records by outcome:
// those TAKEN left a restorable checkpoint.
func TallyOf(counts SlotCounts) SlotTally {
	return SlotTally{Total: counts.Total(), Restorable: counts[SlotTaken], Recorded: true}
}

// RangeSlots is the slot tally of c over [from, to]: its slot records'
// (recorded) where it has any in the range, which say what became of
// every slot whatever its schedule was then; otherwise its interval's
// grid (GridSlots), for the ranges before slots were recorded.
func RangeSlots(c *Cluster, h *RestorableHistory, from, to time.Time, recorded SlotTally) SlotTally {
	if recorded.Total > 0 {
		return recorded
	}
	return GridSlots(c, h, from, to)
}

// GridSlots tallies the slots of c's checkpoint interval grid (UTC, as the
// engine and agents take them) in [from, to] since c's creation, each
// restorable when a restorable checkpoint of h has its time: the slots a
// cluster was due, read from its schedule and its checkpoints. A cluster
// without an interval has none. Slot records, where a store keeps them,
// say the same and more (the slots skipped and failed by name), and
// tally the same way.
func GridSlots(c *Cluster, h *RestorableHistory, from, to time.Time) SlotTally {
	var out SlotTally
	step := c.Schedule.Interval
	if step <= 0 {
		return out
	}
	start := from
	if c.Created.After(start) {
		start = c.Created
	}
	s := start.UTC().Truncate(step)
	if s.Before(start) {
		s = s.Add(step)
	}
	i := 0
	for ; !s.After(to); s = s.Add(step) {
		for i < len(h.In) && h.In[i].Before(s) {
			i++
		}
		out.Total++
		if i < len(h.In) && h.In[i].Equal(s) {
			out.Restorable++
		}
	}
	return out
}

// Span is a stretch of time.
type Span struct {
	Start, End time.Time
}

// Length is End - Start.
func (s Span) Length() time.Duration { return s.End.Sub(s.Start) }

// ObjectiveReport is how a cluster's restore points measured up to its
// recovery point objective over a range.
type ObjectiveReport struct {
	// Objective is the cluster's; zero when it declares none (the figures
	// are still measured, and Missed is empty).
	Objective time.Duration
	// From and To are the range measured: To is the one asked for, or
	// Now if that is earlier.
	From, To time.Time
	Now      time.Time
	// Newest is the newest restorable checkpoint's Timestamp, zero when
	// the cluster has none; Exposure is Now - Newest, what a loss now
	// would lose (meaningless when Newest is zero).
	Newest   time.Time
	Exposure time.Duration
	// WorstGap is the longest stretch between consecutive restore points
	// that overlaps the range, whole: from the newest restorable
	// checkpoint before From (or, without one, From or the cluster's
	// creation, whichever is later) to the first in the range, and from
	// the last in the range to To. Zero only for an empty range.
	WorstGap Span
	// Slots counts the range's scheduled slots and those that left a
	// restorable checkpoint (RangeSlots).
	Slots SlotTally
	// Missed are the stretches of the range when the newest restore point
	// was older than the objective, oldest first.
	Missed []Span
}

// Met reports whether the cluster meets its objective now: it has one,
// and a restore point within it.
func (r ObjectiveReport) Met() bool {
	return r.Objective > 0 && !r.Newest.IsZero() && r.Exposure <= r.Objective
}

// SlotRatio is RestorableSlots / Slots; ok is false when the range had no
// slots.
func (r ObjectiveReport) SlotRatio() (ratio float64, ok bool) {
	if r.Slots.Total == 0 {
		return 0, false
	}
	return float64(r.Slots.Restorable) / float64(r.Slots.Total), true
}

// Measure builds c's objective report over h's range at now, from the
// restorable history a store read and the range's slot tally (GridSlots,
// or slot records). Restore points are measured as they are: a range older
// than the point-in-time window has lost its checkpoints to retention,
// and reads as the gap they left.
func Measure(c *Cluster, h *RestorableHistory, slots SlotTally, now time.Time) ObjectiveReport {
	r := ObjectiveReport{Objective: c.Schedule.Objective, From: h.From, To: h.To, Now: now, Newest: h.Newest, Slots: slots}
	if now.Before(r.To) {
		r.To = now
	}
	if !r.Newest.IsZero() {
		r.Exposure = now.Sub(r.Newest)
	}
	// The restore point in force at the range's start: the last before
	// it, or, with none known, the start itself (or the cluster's
	// creation, if later): before it there was nothing to lose.
	start := h.From
	if c.Created.After(start) {
		start = c.Created
	}
	if !start.Before(r.To) {
		return r
	}
	last := h.Before
	if last.IsZero() {
		last = start
	}
	points := append(slices.Clone(h.In), r.To)
	for _, next := range points {
		if next.After(r.To) {
			next = r.To
		}
		if !next.After(last) {
			continue
		}
		if gap := (Span{last, next}); gap.Length() > r.WorstGap.Length() {
			r.WorstGap = gap
		}
		if o := r.Objective; o > 0 {
			missFrom := last.Add(o)
			if missFrom.Before(start) {
				missFrom = start
			}
			if missFrom.Before(next) {
				r.Missed = append(r.Missed, Span{missFrom, next})
			}
		}
		last = next
	}
	return r
}

// ClusterHistory is a cluster with its restorable history since a time,
// as monitoring reads every legacy cluster's (store RestorableSince):
// History.In runs to the present, so History.Newest is the last of In, or
// Before.
type ClusterHistory struct {
	Cluster Cluster
	History RestorableHistory
	// Slots tallies the cluster's slot records from History.From on.
	Slots SlotTally
}
