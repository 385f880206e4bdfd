package backup

import (
	"slices"
	"time"
)

// BackupStatus is the state of a cluster's backup, as Cloud Manager's
// backup configuration names it (statusName). Only a STARTED cluster's
// checkpoints are taken, by the engine or an agent; the checkpoints of a
// cluster in any other state stay readable.
type BackupStatus string

// Backup states.
const (
	BackupInactive     BackupStatus = "INACTIVE"
	BackupProvisioning BackupStatus = "PROVISIONING"
	BackupStarted      BackupStatus = "STARTED"
	BackupStopped      BackupStatus = "STOPPED"
	BackupTerminating  BackupStatus = "TERMINATING"
)

// StatusOrDefault is c.Status; unset, a cluster under legacy backup is
// STARTED (what every cluster was before backup had a state) and any
// other INACTIVE.
func (c *Cluster) StatusOrDefault() BackupStatus {
	switch {
	case c.Status != "":
		return c.Status
	case c.Backup == BackupLegacy:
		return BackupStarted
	}
	return BackupInactive
}

// TakesCheckpoints reports whether c's checkpoints are taken at all: under
// legacy backup, in the STARTED state. Neither the engine nor an agent
// takes, and the server accepts no report of, a checkpoint of any other
// cluster.
func (c *Cluster) TakesCheckpoints() bool {
	return c.Backup == BackupLegacy && c.StatusOrDefault() == BackupStarted
}

// Codes of the backup configuration's state changes (Cloud Manager's
// error table), and of a cluster without one.
const (
	CodeCannotStartBackup     = "CANNOT_START_BACKUP_INVALID_STATE"
	CodeCannotStopBackup      = "CANNOT_STOP_BACKUP_INVALID_STATE"
	CodeCannotTerminateBackup = "CANNOT_TERMINATE_BACKUP_INVALID_STATE"
	CodeBackupConfigNotFound  = "BACKUP_CONFIG_NOT_FOUND"
	// CodeBackupNotStarted is checkpointd's own (its administration API):
	// a report or slot claim for a cluster whose backup is not STARTED.
	CodeBackupNotStarted = "BACKUP_NOT_STARTED"
)

// ErrBackupConfigNotFound is the 404 for a cluster that has no legacy
// backup configuration (one on Cloud Backup).
func ErrBackupConfigNotFound(cluster, groupID string) *Error {
	return Errorf(NotFound, CodeBackupConfigNotFound, "No backup configuration exists for cluster %s in group %s.", cluster, groupID)
}

// ErrBackupNotStarted refuses a checkpoint report or slot claim for c.
func ErrBackupNotStarted(c *Cluster) *Error {
	return Errorf(Conflict, CodeBackupNotStarted, "Backup of cluster %s is %s, not STARTED: its checkpoints are not taken.",
		c.Name, string(c.StatusOrDefault()))
}

// SetStatus moves c's backup to the state a client asked for, under Cloud
// Manager's rules: start from INACTIVE or STOPPED, stop from STARTED,
// terminate from STOPPED, each refused otherwise with its 409. Asking for
// the state c is in changes nothing (a client sending back what it read),
// but for TERMINATING, which is asked again until it is done. Starting
// puts a cluster without backup under legacy backup; a cluster on Cloud
// Backup cannot start legacy backup. terminate reports that the caller is
// to delete the cluster's checkpoints, then move it to INACTIVE
// (Terminated). INACTIVE and PROVISIONING are the server's to enter,
// never a client's.
func (c *Cluster) SetStatus(to BackupStatus) (terminate bool, err error) {
	from := c.StatusOrDefault()
	if to == from {
		return to == BackupTerminating, nil
	}
	switch to {
	case BackupStarted:
		if (from != BackupInactive && from != BackupStopped) || c.Backup == BackupCloud {
			return false, Errorf(Conflict, CodeCannotStartBackup,
				"Cannot start backup for cluster %s: its backup is %s; backup starts from INACTIVE or STOPPED, under legacy backup.", c.Name, string(from))
		}
		c.Backup = BackupLegacy
	case BackupStopped:
		if from != BackupStarted {
			return false, Errorf(Conflict, CodeCannotStopBackup,
				"Cannot stop backup for cluster %s: its backup is %s; only STARTED backup stops.", c.Name, string(from))
		}
	case BackupTerminating:
		if from != BackupStopped {
			return false, Errorf(Conflict, CodeCannotTerminateBackup,
				"Cannot terminate backup for cluster %s: its backup is %s; only STOPPED backup terminates.", c.Name, string(from))
		}
		terminate = true
	case BackupInactive, BackupProvisioning:
		return false, Errorf(Invalid, CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is a state the server enters, not one a client sets.", "statusName", string(to))
	default:
		return false, Errorf(Invalid, CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is not INACTIVE, PROVISIONING, STARTED, STOPPED or TERMINATING.", "statusName", quoteEmpty(string(to)))
	}
	c.Status = to
	return terminate, nil
}

// Terminated ends a termination: the cluster's checkpoints are gone and
// its backup INACTIVE. It changes nothing unless the backup is
// TERMINATING.
func (c *Cluster) Terminated() {
	if c.StatusOrDefault() == BackupTerminating {
		c.Status = BackupInactive
	}
}

func (s BackupStatus) valid() bool {
	switch s {
	case "", BackupInactive, BackupProvisioning, BackupStarted, BackupStopped, BackupTerminating:
		return true
	}
	return false
}

// SnapshotSchedule is the part of the legacy snapshot schedule beside the
// checkpoint interval and window: when snapshots are taken and how long
// they are kept. checkpointd takes no snapshots; these are settings a
// client writes and reads back, as the service keeps them. The zero value
// is DefaultSnapshotSchedule.
type SnapshotSchedule struct {
	IntervalHours          int // snapshotIntervalHours: 6, 8, 12 or 24; 0 means the defaults
	RetentionDays          int // snapshotRetentionDays: 2 to 5
	DailyRetentionDays     int // 0 (none) or the service's choices up to 360
	WeeklyRetentionWeeks   int // 0 (none) to 8, 12, 16, 20, 24, 52
	MonthlyRetentionMonths int // 0 (none) to 13, 18, 24, 36
	// FullIncrementalDayOfWeek is MONDAY … SUNDAY (Cloud Manager only).
	FullIncrementalDayOfWeek string
}

// DefaultSnapshotSchedule is Cloud Manager's default schedule: a snapshot
// every 6 hours kept 2 days, dailies 7 days, weeklies 4 weeks, monthlies
// 13 months (research: checkpoint-mechanism §3.1). The day of the full
// incremental is not documented; SUNDAY is a guess.
var DefaultSnapshotSchedule = SnapshotSchedule{IntervalHours: 6, RetentionDays: 2, DailyRetentionDays: 7,
	WeeklyRetentionWeeks: 4, MonthlyRetentionMonths: 13, FullIncrementalDayOfWeek: "SUNDAY"}

// OrDefault is s, or DefaultSnapshotSchedule for the zero value.
func (s SnapshotSchedule) OrDefault() SnapshotSchedule {
	if s.IntervalHours == 0 {
		return DefaultSnapshotSchedule
	}
	return s
}

// The reference time of the schedule: checkpointd's checkpoint slots are
// on a grid anchored at 00:00 UTC, and Cloud Manager does not let a client
// move it (CANNOT_SET_REF_TIME_OF_DAY).
const (
	ReferenceHourOfDay      = 0
	ReferenceMinuteOfHour   = 0
	ReferenceTimeZoneOffset = "+0000"
)

// Codes of the snapshot schedule's validation (Cloud Manager's error
// table).
const (
	CodeInvalidCheckpointInterval    = "INVALID_CLUSTER_CHECKPOINT_INTERVAL"
	CodeInvalidSnapshotInterval      = "INVALID_SNAPSHOT_INTERVAL"
	CodeInvalidSnapshotRetention     = "INVALID_SNAPSHOT_RETENTION_PERIOD"
	CodeInvalidDailyRetention        = "INVALID_DAILY_SNAPSHOT_RETENTION_PERIOD"
	CodeInvalidWeeklyRetention       = "INVALID_WEEKLY_SNAPSHOT_RETENTION_PERIOD"
	CodeInvalidMonthlyRetention      = "INVALID_MONTHLY_SNAPSHOT_RETENTION_PERIOD"
	CodeCannotSetPointInTimeWindow   = "CANNOT_SET_POINT_IN_TIME_WINDOW"
	CodeCannotSetReferenceTime       = "CANNOT_SET_REF_TIME_OF_DAY"
	CodeInvalidReferenceHourOfDay    = "INVALID_REFERENCE_HOUR_OF_DAY"
	CodeInvalidReferenceMinuteOfHour = "INVALID_REFERENCE_MINUTE_OF_HOUR"
	CodeInvalidReferenceTimeZone     = "INVALID_REFERENCE_TIMEZONE_OFFSET"
)

// ScheduleUpdate is a change to a cluster's snapshot schedule: nil fields
// are left as they are. It is what every generation's PATCH of the
// snapshot schedule decodes to.
type ScheduleUpdate struct {
	// CheckpointInterval: 0 turns checkpoints off.
	CheckpointInterval *time.Duration
	Window             *time.Duration
	// WindowFixed: the generation does not let a client change the
	// window (Cloud Manager: CANNOT_SET_POINT_IN_TIME_WINDOW); sending
	// the current one is allowed.
	WindowFixed bool

	SnapshotIntervalHours, SnapshotRetentionDays               *int
	DailyRetentionDays, WeeklyRetentionWeeks, MonthlyRetention *int
	FullIncrementalDayOfWeek                                   *string
	ReferenceHourOfDay, ReferenceMinuteOfHour                  *int
	ReferenceTimeZoneOffset                                    *string
}

// ApplySchedule applies u to c's schedule under the service's rules, each
// refused with its code, then validates c as a whole. c is changed only
// when it succeeds.
func (c *Cluster) ApplySchedule(u ScheduleUpdate) error {
	if c.Backup == BackupCloud {
		return ErrBackupConfigNotFound(c.Name, c.GroupID.Hex())
	}
	next := *c
	sched, snaps := c.Schedule, c.Snapshots.OrDefault()
	if d := u.CheckpointInterval; d != nil {
		switch *d {
		case 0:
		case 15 * time.Minute, 30 * time.Minute, 60 * time.Minute:
			if c.Type == ReplicaSet {
				return Errorf(Invalid, CodeCannotSetIntervalForReplicaSet,
					"Cluster checkpoint interval can only be set for sharded clusters, not replica sets.")
			}
		default:
			return Errorf(Invalid, CodeInvalidCheckpointInterval, "Cluster checkpoint interval must be 15, 30, or 60 minutes.")
		}
		sched.Interval = *d
	}
	if w := u.Window; w != nil && *w != sched.WindowOrDefault() {
		if u.WindowFixed {
			return Errorf(Invalid, CodeCannotSetPointInTimeWindow, "The point-in-time window cannot be changed.")
		}
		sched.Window = *w
	}
	for _, f := range []struct {
		in      *int
		out     *int
		allowed []int
		code    string
		name    string
	}{
		{u.SnapshotIntervalHours, &snaps.IntervalHours, []int{6, 8, 12, 24}, CodeInvalidSnapshotInterval, "Snapshot interval"},
		{u.SnapshotRetentionDays, &snaps.RetentionDays, []int{2, 3, 4, 5}, CodeInvalidSnapshotRetention, "Snapshot retention period"},
		{u.DailyRetentionDays, &snaps.DailyRetentionDays, []int{0, 3, 4, 5, 6, 7, 15, 30, 60, 90, 120, 180, 360}, CodeInvalidDailyRetention, "Daily snapshot retention period"},
		{u.WeeklyRetentionWeeks, &snaps.WeeklyRetentionWeeks, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 52}, CodeInvalidWeeklyRetention, "Weekly snapshot retention period"},
		{u.MonthlyRetention, &snaps.MonthlyRetentionMonths, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 18, 24, 36}, CodeInvalidMonthlyRetention, "Monthly snapshot retention period"},
	} {
		if f.in == nil {
			continue
		}
		if !slices.Contains(f.allowed, *f.in) {
			return Errorf(Invalid, f.code, "%s %d is not one of the allowed values.", f.name, *f.in)
		}
		*f.out = *f.in
	}
	if d := u.FullIncrementalDayOfWeek; d != nil {
		switch *d {
		case "MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY":
			snaps.FullIncrementalDayOfWeek = *d
		default:
			return Errorf(Invalid, CodeInvalidAttribute, "Invalid attribute %s specified: %s is not a day of the week.", "fullIncrementalDayOfWeek", quoteEmpty(*d))
		}
	}
	if h := u.ReferenceHourOfDay; h != nil {
		if *h < 0 || *h > 23 {
			return Errorf(Invalid, CodeInvalidReferenceHourOfDay, "Reference hour of day %d is not between 0 and 23.", *h)
		}
		if *h != ReferenceHourOfDay {
			return errCannotSetReferenceTime()
		}
	}
	if m := u.ReferenceMinuteOfHour; m != nil {
		if *m < 0 || *m > 59 {
			return Errorf(Invalid, CodeInvalidReferenceMinuteOfHour, "Reference minute of hour %d is not between 0 and 59.", *m)
		}
		if *m != ReferenceMinuteOfHour {
			return errCannotSetReferenceTime()
		}
	}
	if z := u.ReferenceTimeZoneOffset; z != nil {
		if !validZoneOffset(*z) {
			return Errorf(Invalid, CodeInvalidReferenceTimeZone, "Reference time zone offset %s is not of the form +HHMM.", quoteEmpty(*z))
		}
		if *z != ReferenceTimeZoneOffset && *z != "-0000" {
			return errCannotSetReferenceTime()
		}
	}
	next.Schedule, next.Snapshots = sched, snaps
	if err := next.Validate(); err != nil {
		return err
	}
	*c = next
	return nil
}

func errCannotSetReferenceTime() *Error {
	return Errorf(Invalid, CodeCannotSetReferenceTime, "The reference time of day of the snapshot schedule cannot be changed.")
}

// validZoneOffset reports whether z is ±HHMM.
func validZoneOffset(z string) bool {
	if len(z) != 5 || z[0] != '+' && z[0] != '-' {
		return false
	}
	for i := 1; i < 5; i++ {
		if z[i] < '0' || z[i] > '9' {
			return false
		}
	}
	return (z[1]-'0')*10+z[2]-'0' <= 14 && (z[3]-'0')*10+z[4]-'0' < 60
}

// CodeGroupNameNotFound is the 404 for a project name no project the
// caller can see has (the Ops Manager clients test for it by code).
const CodeGroupNameNotFound = "GROUP_NAME_NOT_FOUND"

// ErrGroupNameNotFound is the 404 of GET /groups/byName/{name}.
func ErrGroupNameNotFound(name string) *Error {
	return Errorf(NotFound, CodeGroupNameNotFound, "No group with name %s exists.", name)
}

// CheckBackupAdmin decides whether p may change a project's backup
// configurations and snapshot schedules: the roles that may report its
// checkpoints (CheckReporter: an owner of the organization, a Project
// Owner, a Project Backup Manager), as the service's docs ask Project
// Owner (Atlas) or a backup administrator (Cloud Manager).
func (p *Principal) CheckBackupAdmin(orgID, projectID ObjectID) error {
	return p.CheckReporter(orgID, projectID)
}
