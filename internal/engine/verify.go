package engine

import (
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Verify reports whether cp is a checkpoint Take could have made of c, and
// names the first rule it breaks in an INVALID_ATTRIBUTE error:
//
//   - its id is set and embeds Started, as the service's ids do;
//   - it names c and c's project;
//   - Started, Completed and Timestamp are set, whole seconds, and
//     Timestamp ≤ Started ≤ Completed;
//   - it has one part per member set, as Members lists them;
//   - a discovered part's token has a date and an increment of at least 1
//     (increments count operations within a second from 1); an
//     undiscovered part has no token timestamp;
//   - it is Restorable only if every part's token was discovered.
//
// Token dates are not compared with Started and Completed: they come from
// each member's clock, which may be skewed against the service's.
func Verify(c backup.Cluster, cp backup.Checkpoint) error {
	bad := func(format string, args ...any) error {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "Checkpoint %s: "+format, append([]any{cp.ID.Hex()}, args...)...)
	}
	switch {
	case cp.ID.IsZero():
		return bad("no id.")
	case cp.ClusterID != c.ID || cp.GroupID != c.GroupID:
		return bad("cluster %s of project %s, not %s of %s.", cp.ClusterID.Hex(), cp.GroupID.Hex(), c.ID.Hex(), c.GroupID.Hex())
	case cp.Started.IsZero() || cp.Completed.IsZero() || cp.Timestamp.IsZero():
		return bad("started, completed and timestamp must all be set.")
	case !whole(cp.Started) || !whole(cp.Completed) || !whole(cp.Timestamp):
		return bad("times must be whole seconds.")
	case !cp.ID.Time().Equal(cp.Started):
		return bad("the id's time %s is not started %s.", cp.ID.Time().Format(time.RFC3339), cp.Started.UTC().Format(time.RFC3339))
	case cp.Timestamp.After(cp.Started):
		return bad("timestamp %s is after started %s.", cp.Timestamp.UTC().Format(time.RFC3339), cp.Started.UTC().Format(time.RFC3339))
	case cp.Started.After(cp.Completed):
		return bad("started %s is after completed %s.", cp.Started.UTC().Format(time.RFC3339), cp.Completed.UTC().Format(time.RFC3339))
	}
	members := Members(c)
	if len(cp.Parts) != len(members) {
		return bad("%d parts for %d member sets.", len(cp.Parts), len(members))
	}
	all := true
	for i, p := range cp.Parts {
		want := members[i].Part()
		if p.Type != want.Type || p.ShardName != want.ShardName || p.ReplicaSetName != want.ReplicaSetName || p.HostID != want.HostID {
			return bad("part %d is %s %s, want %s %s.", i, string(p.Type), partName(p), string(want.Type), partName(want))
		}
		ts := p.TokenTimestamp
		switch {
		case p.TokenDiscovered && (ts.Date.IsZero() || !whole(ts.Date) || ts.Increment < 1):
			return bad("part %s has a discovered token without a valid timestamp.", partName(p))
		case !p.TokenDiscovered && (!ts.Date.IsZero() || ts.Increment != 0):
			return bad("part %s has a timestamp but no discovered token.", partName(p))
		}
		all = all && p.TokenDiscovered
	}
	if cp.Restorable && !all {
		return bad("restorable although a token was not discovered.")
	}
	return nil
}

func whole(t time.Time) bool { return t.Nanosecond() == 0 }

func partName(p backup.Part) string {
	if p.ReplicaSetName != "" {
		return p.ReplicaSetName
	}
	return p.HostID
}
