package admin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// ObjectiveStore reads what an objective report needs: the cluster, its
// restorable history over the range in one indexed read, and its slot
// records' counts.
type ObjectiveStore interface {
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)
	RestorableHistory(ctx context.Context, ref backup.ClusterRef, from, to time.Time) (backup.RestorableHistory, error)
	SlotCounts(ctx context.Context, ref backup.ClusterRef, from, to time.Time) (backup.SlotCounts, error)
}

// DefaultObjectiveRange is the range an objective report measures when
// it is given no start: the week before its end.
const DefaultObjectiveRange = 7 * 24 * time.Hour

// MaxObjectiveRange bounds the range of a report: a year of slots is
// 35 040 at the shortest interval, and retention keeps at most
// backup.MaxWindow of checkpoints, so a longer range would only measure
// gaps retention made.
const MaxObjectiveRange = 366 * 24 * time.Hour

// ParseObjectiveRange reads a report's range from its texts, RFC 3339
// times (2018-02-08T23:20:25Z) either of which may be empty: to defaults
// to now, from to DefaultObjectiveRange before to. The range must be
// non-empty, start no later than now and span at most MaxObjectiveRange;
// a to after now is measured up to now. Its errors are
// INVALID_QUERY_PARAMETER errors naming "from" or "to" (Error.Attr too).
func ParseObjectiveRange(from, to string, now time.Time) (time.Time, time.Time, error) {
	end := now.UTC().Truncate(time.Second)
	if strings.TrimSpace(to) != "" {
		t, err := parseRangeTime("to", to)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		end = t
	}
	start := end.Add(-DefaultObjectiveRange)
	if strings.TrimSpace(from) != "" {
		t, err := parseRangeTime("from", from)
		if err != nil {
			return time.Time{}, time.Time{}, err
		}
		start = t
	}
	switch {
	case !start.Before(end):
		return time.Time{}, time.Time{}, errRange("from", fmt.Sprintf("the range starts at %s, not before its end %s",
			start.Format(time.RFC3339), end.Format(time.RFC3339)))
	case start.After(now):
		return time.Time{}, time.Time{}, errRange("from", fmt.Sprintf("%s is in the future", start.Format(time.RFC3339)))
	case end.Sub(start) > MaxObjectiveRange:
		return time.Time{}, time.Time{}, errRange("from", fmt.Sprintf("a range spans at most %d days", int(MaxObjectiveRange/(24*time.Hour))))
	}
	return start, end, nil
}

func parseRangeTime(name, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, errRange(name, fmt.Sprintf("%q is not a time such as 2018-02-08T23:20:25Z", s))
	}
	return t.UTC().Truncate(time.Second), nil
}

// Objective measures the recovery point objective of the cluster ref
// names over the range from and to give (ParseObjectiveRange), at now:
// its exposure, the worst gap between restore points, the share of its
// slots that left a restorable checkpoint and the stretches that missed
// the objective (backup.Measure). The slots are the cluster's slot
// records in the range, or its interval's grid where it has none
// (backup.RangeSlots). It returns the cluster measured with the report.
func Objective(ctx context.Context, st ObjectiveStore, ref backup.ClusterRef, from, to string, now time.Time) (backup.Cluster, backup.ObjectiveReport, error) {
	start, end, err := ParseObjectiveRange(from, to, now)
	if err != nil {
		return backup.Cluster{}, backup.ObjectiveReport{}, err
	}
	c, err := st.Cluster(ctx, ref)
	if err != nil {
		return backup.Cluster{}, backup.ObjectiveReport{}, err
	}
	byID := backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
	h, err := st.RestorableHistory(ctx, byID, start, end)
	if err != nil {
		return backup.Cluster{}, backup.ObjectiveReport{}, err
	}
	due := end
	if now.Before(due) {
		due = now
	}
	// SlotCounts' range ends before its to: the slot at due counts.
	counts, err := st.SlotCounts(ctx, byID, start, due.Add(time.Second))
	if err != nil {
		return backup.Cluster{}, backup.ObjectiveReport{}, err
	}
	slots := backup.RangeSlots(&c, &h, start, due, backup.TallyOf(counts))
	return c, backup.Measure(&c, &h, slots, now), nil
}

// Objective is the package's Objective on the operations' clock.
func (a Clusters) Objective(ctx context.Context, ref backup.ClusterRef, from, to string) (backup.Cluster, backup.ObjectiveReport, error) {
	return Objective(ctx, a.Store, ref, from, to, a.clock().Now())
}

// errRange is the error about the range parameter name: the API takes
// from and to as query parameters, the command line as flags of the same
// names.
func errRange(name, why string) *backup.Error {
	e := backup.Errorf(backup.Invalid, backup.CodeInvalidQueryParameter, "Invalid query parameter %s specified: %s.", name, why)
	e.Params = []any{name}
	e.Attr = name
	return e
}
