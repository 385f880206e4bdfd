package atlas

import (
	"encoding/json"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// AppendSchedule appends a cluster's legacy snapshot schedule as
// ApiAtlasSnapshotScheduleView (v2) and the v1.0 snapshot schedule, keys
// in alphabetical order, its self link at the cluster's snapshotSchedule
// under groups (the group collection's absolute path).
//
// clusterCheckpointIntervalMin is left out while checkpoints are off: the
// service's samples leave it out then (Cloud Manager's), although the v2
// schema marks it required and its enum has no value for "off". Every
// generation shows "off" so, and a client turns checkpoints off by
// sending 0 or null (the official clients cannot send 0: their field is
// omitempty). A guess, listed in httpapi's guesses.go.
func AppendSchedule(b []byte, base, groups string, c *backup.Cluster) []byte {
	self := groups + "/" + c.GroupID.Hex() + "/clusters/" + c.Name + "/snapshotSchedule"
	return AppendScheduleView(b, base, self, c, false, nil)
}

// AppendScheduleView is the snapshot schedule every generation shares.
// cloudManager adds fullIncrementalDayOfWeek and the reference time of
// day; moreLinks, if not nil, appends link objects after self, each
// preceded by a comma.
func AppendScheduleView(b []byte, base, self string, c *backup.Cluster, cloudManager bool, moreLinks func([]byte) []byte) []byte {
	snaps := c.Snapshots.OrDefault()
	b = append(b, '{')
	if d := c.Schedule.Interval; d > 0 {
		b = append(b, `"clusterCheckpointIntervalMin":`...)
		b = wire.AppendInt(b, int64(d/time.Minute))
		b = append(b, ',')
	}
	b = append(b, `"clusterId":"`...)
	b = c.ID.AppendHex(b)
	b = append(b, `","dailySnapshotRetentionDays":`...)
	b = wire.AppendInt(b, int64(snaps.DailyRetentionDays))
	if cloudManager {
		b = append(b, `,"fullIncrementalDayOfWeek":`...)
		b = wire.AppendString(b, snaps.FullIncrementalDayOfWeek)
	}
	b = append(b, `,"groupId":"`...)
	b = c.GroupID.AppendHex(b)
	b = append(b, `","links":[`...)
	b = wire.AppendLink(b, "self", base, self)
	if moreLinks != nil {
		b = moreLinks(b)
	}
	b = append(b, `],"monthlySnapshotRetentionMonths":`...)
	b = wire.AppendInt(b, int64(snaps.MonthlyRetentionMonths))
	b = append(b, `,"pointInTimeWindowHours":`...)
	b = wire.AppendInt(b, int64(c.Schedule.WindowOrDefault()/time.Hour))
	if cloudManager {
		b = append(b, `,"referenceHourOfDay":`...)
		b = wire.AppendInt(b, backup.ReferenceHourOfDay)
		b = append(b, `,"referenceMinuteOfHour":`...)
		b = wire.AppendInt(b, backup.ReferenceMinuteOfHour)
		b = append(b, `,"referenceTimeZoneOffset":`...)
		b = wire.AppendString(b, backup.ReferenceTimeZoneOffset)
	}
	b = append(b, `,"snapshotIntervalHours":`...)
	b = wire.AppendInt(b, int64(snaps.IntervalHours))
	b = append(b, `,"snapshotRetentionDays":`...)
	b = wire.AppendInt(b, int64(snaps.RetentionDays))
	b = append(b, `,"weeklySnapshotRetentionWeeks":`...)
	b = wire.AppendInt(b, int64(snaps.WeeklyRetentionWeeks))
	return append(b, '}')
}

// ScheduleInput is the body of a PATCH of the snapshot schedule in Atlas
// v1.0 and v2: every field optional; clusterId, groupId and links may be
// sent back as they were read, never changed.
type ScheduleInput struct {
	ClusterCheckpointIntervalMin NullableInt `json:"clusterCheckpointIntervalMin"`
	ClusterID                    *string     `json:"clusterId"`
	DailySnapshotRetentionDays   *int        `json:"dailySnapshotRetentionDays"`
	GroupID                      *string     `json:"groupId"`
	Links                        []Link      `json:"links"`
	MonthlySnapshotRetention     *int        `json:"monthlySnapshotRetentionMonths"`
	PointInTimeWindowHours       *int        `json:"pointInTimeWindowHours"`
	SnapshotIntervalHours        *int        `json:"snapshotIntervalHours"`
	SnapshotRetentionDays        *int        `json:"snapshotRetentionDays"`
	WeeklySnapshotRetentionWeeks *int        `json:"weeklySnapshotRetentionWeeks"`
}

// Link is a link object as a client may send it back.
type Link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// NullableInt is a JSON integer that may be left out, or null.
type NullableInt struct {
	Set, Null bool
	V         int
}

// UnmarshalJSON reads null or an integer.
func (o *NullableInt) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// Update turns the body into a change of c's schedule, refusing a change
// of its read-only fields (ATTRIBUTE_READ_ONLY).
func (in *ScheduleInput) Update(c *backup.Cluster) (backup.ScheduleUpdate, error) {
	var u backup.ScheduleUpdate
	if err := ReadOnly("clusterId", in.ClusterID, c.ID.Hex()); err != nil {
		return u, err
	}
	if err := ReadOnly("groupId", in.GroupID, c.GroupID.Hex()); err != nil {
		return u, err
	}
	if o := in.ClusterCheckpointIntervalMin; o.Set {
		// null and 0 turn checkpoints off (AppendSchedule); minutes beyond an hour are refused before they could overflow
		// a Duration.
		d := time.Duration(0)
		if !o.Null {
			d = time.Duration(max(min(o.V, 1<<20), -1)) * time.Minute
		}
		u.CheckpointInterval = &d
	}
	if h := in.PointInTimeWindowHours; h != nil {
		// 0 hours would read as the default window: refused as any
		// window under an hour is.
		w := time.Duration(max(min(*h, 1<<20), -1)) * time.Hour
		if *h == 0 {
			w = -time.Hour
		}
		u.Window = &w
	}
	u.SnapshotIntervalHours, u.SnapshotRetentionDays = in.SnapshotIntervalHours, in.SnapshotRetentionDays
	u.DailyRetentionDays, u.WeeklyRetentionWeeks, u.MonthlyRetention = in.DailySnapshotRetentionDays, in.WeeklySnapshotRetentionWeeks, in.MonthlySnapshotRetention
	return u, nil
}

// CodeAttributeReadOnly is the service's 400 for a read-only field sent
// with another value than it has.
const CodeAttributeReadOnly = "ATTRIBUTE_READ_ONLY"

// ReadOnly refuses a read-only field sent with a value other than want.
func ReadOnly(field string, sent *string, want string) error {
	if sent != nil && *sent != want {
		return backup.Errorf(backup.Invalid, CodeAttributeReadOnly, "Attribute %s is read-only.", field)
	}
	return nil
}
