package backup

import (
	"testing"
	"time"
)

// TestSetStatus walks every move of the backup state from every state:
// Cloud Manager's rules, each refusal with its code, and what starting
// and terminating do to the cluster.
func TestSetStatus(t *testing.T) {
	all := []BackupStatus{BackupInactive, BackupProvisioning, BackupStarted, BackupStopped, BackupTerminating}
	for _, from := range all {
		for _, to := range all {
			c := Cluster{Name: "C", Backup: BackupLegacy, Status: from}
			terminate, err := c.SetStatus(to)
			var code string
			switch {
			case to == from:
			case to == BackupInactive || to == BackupProvisioning:
				code = CodeInvalidAttribute
			case to == BackupStarted && from != BackupInactive && from != BackupStopped:
				code = CodeCannotStartBackup
			case to == BackupStopped && from != BackupStarted:
				code = CodeCannotStopBackup
			case to == BackupTerminating && from != BackupStopped:
				code = CodeCannotTerminateBackup
			}
			if code != "" {
				if !IsCode(err, code) || c.Status != from {
					t.Errorf("%s → %s: %v, status %s; want %s, unchanged", from, to, err, c.Status, code)
				}
				continue
			}
			if err != nil || c.Status != to || terminate != (to == BackupTerminating) {
				t.Errorf("%s → %s: %v, status %s, terminate %v", from, to, err, c.Status, terminate)
			}
		}
	}
	none := Cluster{Name: "N", Backup: BackupNone}
	if none.StatusOrDefault() != BackupInactive {
		t.Errorf("a cluster without backup is %s", none.StatusOrDefault())
	}
	if _, err := none.SetStatus(BackupStarted); err != nil || none.Backup != BackupLegacy || !none.TakesCheckpoints() {
		t.Errorf("starting a cluster without backup: %v, %+v", err, none)
	}
	cloud := Cluster{Name: "K", Backup: BackupCloud}
	if _, err := cloud.SetStatus(BackupStarted); !IsCode(err, CodeCannotStartBackup) {
		t.Errorf("starting legacy backup on Cloud Backup: %v", err)
	}
	stopped := Cluster{Name: "S", Backup: BackupLegacy, Status: BackupTerminating}
	stopped.Terminated()
	if stopped.Status != BackupInactive || stopped.TakesCheckpoints() {
		t.Errorf("after Terminated: %+v", stopped)
	}
	if _, err := (&Cluster{Name: "X", Backup: BackupLegacy}).SetStatus("PAUSED"); !IsCode(err, CodeInvalidAttribute) {
		t.Errorf("an unknown state: %v", err)
	}
}

// TestApplySchedule: each field of the schedule refused with the
// service's code, nothing changed by a refused update, and an accepted
// one applied whole over the defaults.
func TestApplySchedule(t *testing.T) {
	sharded := Cluster{Name: "C", Type: Sharded, MongoDBVersion: "4.0.28", Backup: BackupLegacy,
		Shards: []Shard{{Name: "s0", ReplicaSetName: "rs0"}}, Config: ConfigServer{ReplicaSetName: "cfg"}}
	rs := Cluster{Name: "R", Type: ReplicaSet, MongoDBVersion: "4.0.28", Backup: BackupLegacy, ReplicaSetName: "rs"}
	d := func(v time.Duration) *time.Duration { return &v }
	n := func(v int) *int { return &v }
	str := func(v string) *string { return &v }
	for _, tt := range []struct {
		name string
		c    Cluster
		u    ScheduleUpdate
		code string
	}{
		{"interval 20", sharded, ScheduleUpdate{CheckpointInterval: d(20 * time.Minute)}, CodeInvalidCheckpointInterval},
		{"interval on a replica set", rs, ScheduleUpdate{CheckpointInterval: d(15 * time.Minute)}, CodeCannotSetIntervalForReplicaSet},
		{"off on a replica set", rs, ScheduleUpdate{CheckpointInterval: d(0)}, ""},
		{"window fixed", sharded, ScheduleUpdate{Window: d(48 * time.Hour), WindowFixed: true}, CodeCannotSetPointInTimeWindow},
		{"window fixed, sent as it is", sharded, ScheduleUpdate{Window: d(24 * time.Hour), WindowFixed: true}, ""},
		{"window under the interval", sharded, ScheduleUpdate{CheckpointInterval: d(time.Hour), Window: d(-time.Hour)}, CodeInvalidAttribute},
		{"snapshot interval", sharded, ScheduleUpdate{SnapshotIntervalHours: n(7)}, CodeInvalidSnapshotInterval},
		{"retention", sharded, ScheduleUpdate{SnapshotRetentionDays: n(6)}, CodeInvalidSnapshotRetention},
		{"daily", sharded, ScheduleUpdate{DailyRetentionDays: n(1)}, CodeInvalidDailyRetention},
		{"weekly", sharded, ScheduleUpdate{WeeklyRetentionWeeks: n(10)}, CodeInvalidWeeklyRetention},
		{"monthly", sharded, ScheduleUpdate{MonthlyRetention: n(37)}, CodeInvalidMonthlyRetention},
		{"weekday", sharded, ScheduleUpdate{FullIncrementalDayOfWeek: str("sunday")}, CodeInvalidAttribute},
		{"reference hour", sharded, ScheduleUpdate{ReferenceHourOfDay: n(2)}, CodeCannotSetReferenceTime},
		{"reference hour 24", sharded, ScheduleUpdate{ReferenceHourOfDay: n(24)}, CodeInvalidReferenceHourOfDay},
		{"reference minute", sharded, ScheduleUpdate{ReferenceMinuteOfHour: n(-1)}, CodeInvalidReferenceMinuteOfHour},
		{"time zone", sharded, ScheduleUpdate{ReferenceTimeZoneOffset: str("UTC")}, CodeInvalidReferenceTimeZone},
		{"time zone moved", sharded, ScheduleUpdate{ReferenceTimeZoneOffset: str("-0500")}, CodeCannotSetReferenceTime},
		{"Cloud Backup", Cluster{Name: "K", Backup: BackupCloud}, ScheduleUpdate{}, CodeBackupConfigNotFound},
	} {
		c := tt.c
		err := c.ApplySchedule(tt.u)
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.code != "" && (!IsCode(err, tt.code) || c.Schedule != tt.c.Schedule || c.Snapshots != tt.c.Snapshots):
			t.Errorf("%s: %v (schedule %+v), want %s and nothing changed", tt.name, err, c.Schedule, tt.code)
		}
	}
	c := sharded
	err := c.ApplySchedule(ScheduleUpdate{CheckpointInterval: d(30 * time.Minute), Window: d(48 * time.Hour),
		WeeklyRetentionWeeks: n(0), FullIncrementalDayOfWeek: str("TUESDAY"), ReferenceTimeZoneOffset: str("+0000")})
	want := DefaultSnapshotSchedule
	want.WeeklyRetentionWeeks, want.FullIncrementalDayOfWeek = 0, "TUESDAY"
	if err != nil || c.Schedule.Interval != 30*time.Minute || c.Schedule.Window != 48*time.Hour || c.Snapshots != want {
		t.Errorf("accepted update: %v, %+v %+v", err, c.Schedule, c.Snapshots)
	}
}
