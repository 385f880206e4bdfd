package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestWorkflowGolden pins the bodies of the workflow resources on each
// generation: a project by name, snapshot schedules (checkpoints on, and
// off on a replica set), Cloud Manager's backup configurations. Every v2
// body is validated against the service's spec on the way (fixture.do).
func TestWorkflowGolden(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	cm := "/api/public/v1.0/groups/" + groupHex + "/backupConfigs/"
	c0, c1 := f.ds.Clusters[0], f.ds.Clusters[1]
	for _, tt := range []struct{ file, path, accept string }{
		{"v2-group-by-name.json", "/api/atlas/v2/groups/byName/" + f.ds.Project.Name, v2Accept},
		{"v2-schedule.json", "/api/atlas/v2/groups/" + groupHex + "/clusters/" + c0.Name + "/snapshotSchedule", v2Accept},
		{"v2-schedule-off-pretty.json", "/api/atlas/v2/groups/" + groupHex + "/clusters/" + c1.Name + "/snapshotSchedule?pretty=true", v2Accept},
		{"v1-schedule-envelope.json", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/" + c0.Name + "/snapshotSchedule?envelope=true", ""},
		{"cm-group-by-name.json", "/api/public/v1.0/groups/byName/" + f.ds.Project.Name, ""},
		{"cm-schedule-pretty.json", cm + c0.ID.Hex() + "/snapshotSchedule?pretty=true", ""},
		{"cm-backup-configs.json", strings.TrimSuffix(cm, "/") + "?itemsPerPage=2", ""},
		{"cm-backup-config-pretty.json", cm + c0.ID.Hex() + "?pretty=true", ""},
	} {
		t.Run(tt.file, func(t *testing.T) {
			res := f.get(t, tt.path, "Accept", tt.accept)
			if res.status != http.StatusOK {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			golden(t, tt.file, res.body, f.srv.URL)
		})
	}
}

// TestScheduleOneSchedule: a change of the checkpoint interval or window
// through any generation is the cluster's schedule, read back the same by
// every generation and by the administration API, and the other
// settings of the snapshot schedule are kept.
func TestScheduleOneSchedule(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{})
	c := f.ds.Clusters[0]
	paths := map[string]string{
		"v2":   "/api/atlas/v2/groups/" + groupHex + "/clusters/" + c.Name + "/snapshotSchedule",
		"v1.0": "/api/atlas/v1.0/groups/" + groupHex + "/clusters/" + c.Name + "/snapshotSchedule",
		"cm":   "/api/public/v1.0/groups/" + groupHex + "/backupConfigs/" + c.ID.Hex() + "/snapshotSchedule",
	}
	admin := "/api/checkpointd/v1/groups/" + groupHex + "/clusters/" + c.Name
	weekly := float64(4) // the default, until the Cloud Manager change
	for _, tt := range []struct {
		via, body string
		interval  int // minutes; 0 for off
		window    int
	}{
		{"v2", `{"clusterCheckpointIntervalMin":30,"dailySnapshotRetentionDays":30}`, 30, 168},
		{"v1.0", `{"clusterCheckpointIntervalMin":60,"pointInTimeWindowHours":48}`, 60, 48},
		{"cm", `{"clusterCheckpointIntervalMin":15,"weeklySnapshotRetentionWeeks":8}`, 15, 48},
		{"v2", `{"clusterCheckpointIntervalMin":null}`, 0, 48},
		{"cm", `{"clusterCheckpointIntervalMin":60}`, 60, 48},
		{"v1.0", `{"clusterCheckpointIntervalMin":0}`, 0, 48},
	} {
		res := f.do(t, http.MethodPatch, paths[tt.via], strings.NewReader(tt.body), "Content-Type", "application/json", "Accept", v2Accept)
		if res.status != http.StatusOK {
			t.Fatalf("PATCH %s %s: %d %s", tt.via, tt.body, res.status, res.body)
		}
		if strings.Contains(tt.body, "weeklySnapshotRetentionWeeks") {
			weekly = 8
		}
		for via, p := range paths {
			var got map[string]any
			mustDecode(t, f.get(t, p, "Accept", v2Accept).body, &got)
			want := map[string]any{"pointInTimeWindowHours": float64(tt.window), "dailySnapshotRetentionDays": float64(30), "weeklySnapshotRetentionWeeks": weekly}
			if tt.interval != 0 {
				want["clusterCheckpointIntervalMin"] = float64(tt.interval)
			} else if _, ok := got["clusterCheckpointIntervalMin"]; ok {
				t.Errorf("after %s %s, %s shows an interval while checkpoints are off: %v", tt.via, tt.body, via, got)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("after %s %s, %s shows %s %v, want %v", tt.via, tt.body, via, k, got[k], v)
				}
			}
		}
		var ac struct {
			Backup struct {
				Interval *int `json:"clusterCheckpointIntervalMin"`
				Window   int  `json:"pointInTimeWindowHours"`
			} `json:"backup"`
		}
		mustDecode(t, f.get(t, admin).body, &ac)
		if got := ac.Backup.Interval; (got == nil) != (tt.interval == 0) || got != nil && *got != tt.interval || ac.Backup.Window != tt.window {
			t.Errorf("after %s %s, the administration API shows %+v", tt.via, tt.body, ac.Backup)
		}
	}
}

// TestBackupConfigStopsReports: a cluster whose backup is STOPPED accepts
// no agent report or slot claim (409 BACKUP_NOT_STARTED) and shows its
// state where the agent reads its cluster; its checkpoints stay
// readable; started again, it takes reports again. TERMINATING deletes
// them and leaves the backup INACTIVE.
func TestBackupConfigStopsReports(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{})
	ctx := backup.WithPrincipal(t.Context(), backup.System)
	c := clusterFixture(backup.NewIDSource().New(demoNow), f.ds.Project.ID, "Agented")
	c.Schedule.Interval = 15 * time.Minute
	if err := f.db.CreateCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
	admin := "/api/checkpointd/v1/groups/" + groupHex + "/clusters/" + c.Name
	config := "/api/public/v1.0/groups/" + groupHex + "/backupConfigs/" + c.ID.Hex()
	checkpoints := "/api/atlas/v2/groups/" + groupHex + "/clusters/" + c.Name + "/backupCheckpoints"
	ids := backup.NewIDSourceFrom([5]byte{3, 3, 3, 3, 3}, 1)
	base := time.Now().UTC().Truncate(15 * time.Minute).Add(-2 * time.Hour)
	parts := []reportPart{{"REPLICA_SET", "s0", "rs0", ""}, {"CONFIG_SERVER_REPLICA_SET", "", "cfg", ""}}
	json := "application/json"
	report := func(at time.Duration) response {
		return f.do(t, http.MethodPost, admin+"/checkpoints", strings.NewReader(agentReport(t, ids, base.Add(at), parts, nil)), "Content-Type", json)
	}
	setStatus := func(st string) response {
		return f.do(t, http.MethodPatch, config, strings.NewReader(`{"statusName":"`+st+`"}`), "Content-Type", json)
	}
	status := func() string {
		var ac struct {
			Backup struct{ StatusName string } `json:"backup"`
		}
		mustDecode(t, f.get(t, admin).body, &ac)
		return ac.Backup.StatusName
	}
	count := func() int {
		var page struct{ TotalCount int }
		mustDecode(t, f.get(t, checkpoints, "Accept", v2Accept).body, &page)
		return page.TotalCount
	}
	if res := report(0); res.status != http.StatusCreated {
		t.Fatalf("report while STARTED: %d %s", res.status, res.body)
	}
	if res := setStatus("STOPPED"); res.status != http.StatusOK || status() != "STOPPED" {
		t.Fatalf("stop: %d %s; status %s", res.status, res.body, status())
	}
	if res := report(15 * time.Minute); res.status != http.StatusConflict || !strings.Contains(string(res.body), "BACKUP_NOT_STARTED") {
		t.Errorf("report while STOPPED: %d %s", res.status, res.body)
	}
	claim := `{"slot":"` + base.Add(30*time.Minute).Format(time.RFC3339) + `","owner":"a"}`
	if res := f.do(t, http.MethodPost, admin+"/slots", strings.NewReader(claim), "Content-Type", json); res.status != http.StatusConflict {
		t.Errorf("claim while STOPPED: %d %s", res.status, res.body)
	}
	if n := count(); n != 1 {
		t.Errorf("%d checkpoints readable while STOPPED, want 1", n)
	}
	if res := setStatus("STARTED"); res.status != http.StatusOK || status() != "STARTED" {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	if res := report(45 * time.Minute); res.status != http.StatusCreated {
		t.Errorf("report when STARTED again: %d %s", res.status, res.body)
	}
	if res := setStatus("TERMINATING"); res.status != http.StatusConflict || !strings.Contains(string(res.body), "CANNOT_TERMINATE_BACKUP_INVALID_STATE") {
		t.Errorf("terminate a STARTED backup: %d %s", res.status, res.body)
	}
	setStatus("STOPPED")
	res := setStatus("TERMINATING")
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"statusName":"INACTIVE"`) {
		t.Fatalf("terminate: %d %s", res.status, res.body)
	}
	if n := count(); n != 0 || status() != "INACTIVE" {
		t.Errorf("after terminate: %d checkpoints, backup %s; want none, INACTIVE", n, status())
	}
}

func mustDecode(tb testing.TB, b []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%v: %s", err, b)
	}
}
