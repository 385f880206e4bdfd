package backup

import (
	"slices"
	"strings"
	"time"
)

// ExpectedParts lists the parts a checkpoint of a valid cluster has, in
// the order the APIs list them, with no token found yet: shards in
// descending name order, then the config server, as in every published
// sample (shard_1, shard_0, config).
//
// Mirrored config servers (SCCC) make one CONFIG_SERVER part naming the
// first host id, not one part per host: the Cloud Manager samples show a
// single config part with a hostId although SCCC runs three hosts.
//
// A replica-set cluster has one REPLICA_SET part (the spec's "for a
// replica set, a single document"). The legacy service took checkpoints
// of sharded clusters only, and so does the engine (the schedule refuses
// an interval for a replica set); an agent may still report one.
func (c *Cluster) ExpectedParts() []Part {
	if c.Type == ReplicaSet {
		return []Part{{Type: PartReplicaSet, ReplicaSetName: c.ReplicaSetName}}
	}
	shards := slices.Clone(c.Shards)
	slices.SortFunc(shards, func(a, b Shard) int { return -strings.Compare(a.Name, b.Name) })
	out := make([]Part, 0, len(shards)+1)
	for _, s := range shards {
		out = append(out, Part{Type: PartReplicaSet, ShardName: s.Name, ReplicaSetName: s.ReplicaSetName})
	}
	if c.Config.Mirrored() {
		out = append(out, Part{Type: PartConfigServer, HostID: c.Config.HostIDs[0]})
	} else {
		out = append(out, Part{Type: PartConfigReplicaSet, ReplicaSetName: c.Config.ReplicaSetName})
	}
	return out
}

// VerifyCheckpoint reports whether cp is a checkpoint the engine could
// have made of c, or an agent may report of it, and names the first rule
// it breaks in an INVALID_ATTRIBUTE error:
//
//   - its id is set and embeds Started, as the service's ids do;
//   - it names c and c's project;
//   - Started, Completed and Timestamp are set, whole seconds, and
//     Timestamp ≤ Started ≤ Completed;
//   - it has one part per member set, as ExpectedParts lists them;
//   - a discovered part's token has a date and an increment of at least 1
//     (increments count operations within a second from 1); an
//     undiscovered part has no token timestamp;
//   - it is Restorable only if every part's token was discovered.
//
// Token dates are not compared with Started and Completed: they come from
// each member's clock, which may be skewed against the service's.
func VerifyCheckpoint(c Cluster, cp Checkpoint) error {
	bad := func(format string, args ...any) error {
		return Errorf(Invalid, CodeInvalidAttribute, "Checkpoint %s: "+format, append([]any{cp.ID.Hex()}, args...)...)
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
	want := c.ExpectedParts()
	if len(cp.Parts) != len(want) {
		return bad("%d parts for %d member sets.", len(cp.Parts), len(want))
	}
	all := true
	for i, p := range cp.Parts {
		w := want[i]
		if p.Type != w.Type || p.ShardName != w.ShardName || p.ReplicaSetName != w.ReplicaSetName || p.HostID != w.HostID {
			return bad("part %d is %s %s, want %s %s.", i, string(p.Type), partName(p), string(w.Type), partName(w))
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

// MaxReportSkew is how far ahead of the server's clock the times of a
// reported checkpoint may be: agents' clocks differ a little, never by
// hours.
const MaxReportSkew = 5 * time.Minute

// AcceptsReports refuses checkpoints reported of c unless c is under
// legacy backup (CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP), its backup is
// STARTED (ErrBackupNotStarted) and an agent takes its checkpoints
// (INVALID_ATTRIBUTE backup.driver).
func (c *Cluster) AcceptsReports() error {
	if c.Backup != BackupLegacy {
		return ErrNotLegacyBackup()
	}
	if !c.TakesCheckpoints() {
		return ErrBackupNotStarted(c)
	}
	if d := c.Schedule.DriverOrDefault(); d != DriverAgent {
		return ErrInvalidAttribute("backup.driver",
			"cluster "+c.Name+"'s checkpoints are taken by its "+string(d)+" driver, not reported by an agent")
	}
	return nil
}

// VerifyReport is VerifyCheckpoint for a checkpoint an agent reports at
// now, whose timestamp, started and completed times (checked in that
// order, so that the error names the field sent) are at most
// MaxReportSkew ahead of now.
func VerifyReport(c Cluster, cp Checkpoint, now time.Time) error {
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"timestamp", cp.Timestamp}, {"started", cp.Started}, {"completed", cp.Completed}} {
		if t.at.After(now.Add(MaxReportSkew)) {
			return ErrInvalidAttribute(t.name, "it is in the future")
		}
	}
	return VerifyCheckpoint(c, cp)
}

func whole(t time.Time) bool { return t.Nanosecond() == 0 }

func partName(p Part) string {
	if p.ReplicaSetName != "" {
		return p.ReplicaSetName
	}
	return p.HostID
}
