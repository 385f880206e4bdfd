package metrics_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/metrics"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// now is the clock of the restore point ages in these tests.
var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestRequests(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveRequest("atlas-v2.listLegacyBackupCheckpoints", "GET", 200, 3*time.Millisecond)
	m.ObserveRequest("atlas-v2.listLegacyBackupCheckpoints", "GET", 200, 300*time.Microsecond)
	m.ObserveRequest("atlas-v2.listLegacyBackupCheckpoints", "GET", 401, 100*time.Microsecond)
	m.ObserveRequest(httpapi.RouteNotFound, "other", 404, 2*time.Second)
	want := `
# HELP checkpointd_http_requests_total API requests answered, by route name, method and status code.
# TYPE checkpointd_http_requests_total counter
checkpointd_http_requests_total{method="GET",route="atlas-v2.listLegacyBackupCheckpoints",status="200"} 2
checkpointd_http_requests_total{method="GET",route="atlas-v2.listLegacyBackupCheckpoints",status="401"} 1
checkpointd_http_requests_total{method="other",route="not_found",status="404"} 1
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), "checkpointd_http_requests_total"); err != nil {
		t.Error(err)
	}
	// The histogram is per route and method: three requests in one
	// series, with their sum, and bucket bounds that tell them apart.
	body := scrape(t, m.Handler())
	for _, line := range []string{
		`checkpointd_http_request_duration_seconds_count{method="GET",route="atlas-v2.listLegacyBackupCheckpoints"} 3`,
		`checkpointd_http_request_duration_seconds_sum{method="GET",route="atlas-v2.listLegacyBackupCheckpoints"} 0.0034`,
		`checkpointd_http_request_duration_seconds_bucket{method="GET",route="atlas-v2.listLegacyBackupCheckpoints",le="0.0005"} 2`,
		`checkpointd_http_request_duration_seconds_bucket{method="GET",route="atlas-v2.listLegacyBackupCheckpoints",le="0.005"} 3`,
		`checkpointd_http_request_duration_seconds_bucket{method="other",route="not_found",le="1"} 0`,
		`checkpointd_http_request_duration_seconds_bucket{method="other",route="not_found",le="2.5"} 1`,
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("scrape lacks %s", line)
		}
	}
}

// TestObserveRequestAllocs: the hook that runs on every API request
// allocates nothing once its label values have been seen.
func TestObserveRequestAllocs(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.ObserveRequest("atlas-v2.getLegacyBackupCheckpoint", "GET", 200, time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() {
		m.ObserveRequest("atlas-v2.getLegacyBackupCheckpoint", "GET", 200, time.Millisecond)
	}); n != 0 {
		t.Errorf("ObserveRequest allocates %v times per call, want 0", n)
	}
}

func BenchmarkObserveRequest(b *testing.B) {
	m := metrics.New(metrics.Options{})
	routes := []string{"atlas-v2.listLegacyBackupCheckpoints", "atlas-v1.0.getLegacyBackupCheckpoint", "cloud-manager.listClusters"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			m.ObserveRequest(routes[i%len(routes)], "GET", 200, 250*time.Microsecond)
			i++
		}
	})
}

func TestAuthFailures(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.AuthFailure(auth.BadCredentials)
	m.AuthFailure(auth.BadCredentials)
	m.AuthFailure(httpapi.AuthRateLimited)
	m.AuthFailure("made/up/" + strings.Repeat("x", 100)) // counted as other
	// Every reason is there from the start.
	want := `
# HELP checkpointd_auth_failures_total API and token requests refused by authentication, by reason.
# TYPE checkpointd_auth_failures_total counter
checkpointd_auth_failures_total{reason="access_list"} 0
checkpointd_auth_failures_total{reason="bad_client_credentials"} 0
checkpointd_auth_failures_total{reason="bad_credentials"} 2
checkpointd_auth_failures_total{reason="error"} 0
checkpointd_auth_failures_total{reason="expired_token"} 0
checkpointd_auth_failures_total{reason="malformed_credentials"} 0
checkpointd_auth_failures_total{reason="missing_credentials"} 0
checkpointd_auth_failures_total{reason="other"} 1
checkpointd_auth_failures_total{reason="rate_limited"} 1
checkpointd_auth_failures_total{reason="replayed_nonce"} 0
checkpointd_auth_failures_total{reason="revoked_token"} 0
checkpointd_auth_failures_total{reason="stale_nonce"} 0
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), "checkpointd_auth_failures_total"); err != nil {
		t.Error(err)
	}
}

func TestSlotDone(t *testing.T) {
	m := metrics.New(metrics.Options{})
	a := backup.Cluster{ID: backup.MustParseObjectID("6b8cd61180eef547110159d9"), Name: "Cluster0"}
	b := backup.Cluster{ID: backup.MustParseObjectID("6b8cd61180eef547110159da"), Name: "Cluster1"}
	m.SlotDone(a, engine.OutcomeRestorable, 4*time.Second)
	m.SlotDone(a, engine.OutcomeRestorable, 6*time.Second)
	m.SlotDone(a, engine.OutcomeSkipped, 90*time.Second)
	m.SlotDone(b, engine.OutcomeNotRestorable, 45*time.Second)
	want := `
# HELP checkpointd_engine_checkpoints_total Checkpoint slots this process took, by cluster and outcome (restorable, not_restorable, skipped, not_stored).
# TYPE checkpointd_engine_checkpoints_total counter
checkpointd_engine_checkpoints_total{cluster_id="6b8cd61180eef547110159d9",outcome="restorable"} 2
checkpointd_engine_checkpoints_total{cluster_id="6b8cd61180eef547110159d9",outcome="skipped"} 1
checkpointd_engine_checkpoints_total{cluster_id="6b8cd61180eef547110159da",outcome="not_restorable"} 1
# HELP checkpointd_engine_checkpoint_duration_seconds Time a checkpoint slot this process took lasted, from its claim to the checkpoint stored.
# TYPE checkpointd_engine_checkpoint_duration_seconds histogram
checkpointd_engine_checkpoint_duration_seconds_bucket{le="1"} 0
checkpointd_engine_checkpoint_duration_seconds_bucket{le="2"} 0
checkpointd_engine_checkpoint_duration_seconds_bucket{le="5"} 1
checkpointd_engine_checkpoint_duration_seconds_bucket{le="10"} 2
checkpointd_engine_checkpoint_duration_seconds_bucket{le="20"} 2
checkpointd_engine_checkpoint_duration_seconds_bucket{le="30"} 2
checkpointd_engine_checkpoint_duration_seconds_bucket{le="60"} 3
checkpointd_engine_checkpoint_duration_seconds_bucket{le="120"} 4
checkpointd_engine_checkpoint_duration_seconds_bucket{le="300"} 4
checkpointd_engine_checkpoint_duration_seconds_bucket{le="600"} 4
checkpointd_engine_checkpoint_duration_seconds_bucket{le="900"} 4
checkpointd_engine_checkpoint_duration_seconds_bucket{le="+Inf"} 4
checkpointd_engine_checkpoint_duration_seconds_sum 145
checkpointd_engine_checkpoint_duration_seconds_count 4
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want),
		"checkpointd_engine_checkpoints_total", "checkpointd_engine_checkpoint_duration_seconds"); err != nil {
		t.Error(err)
	}
}

// TestRestorePoints reads the age gauges over a real SQLite store: two
// handles on one file stand for two processes, and the checkpoints the
// other one stores are seen at the next scrape.
func TestRestorePoints(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "metrics.db")
	db := openStore(t, path)
	other := openStore(t, path)

	ids := backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 9}, 0)
	created := now.Add(-30 * 24 * time.Hour)
	org := backup.Organization{ID: ids.New(created), Name: "org", Created: created}
	project := backup.Project{ID: ids.New(created), OrgID: org.ID, Name: "project", Created: created}
	must(t, db.CreateOrganization(ctx, org))
	must(t, db.CreateProject(ctx, project))
	cluster := func(name string, kind backup.BackupKind) backup.Cluster {
		c := backup.Cluster{ID: ids.New(created), GroupID: project.ID, Name: name, Type: backup.ReplicaSet,
			MongoDBVersion: "4.0.28", Backup: kind, ReplicaSetName: name + "-rs", Created: created}
		must(t, db.CreateCluster(ctx, c))
		return c
	}
	checkpoint := func(c backup.Cluster, ts time.Time, restorable bool) backup.Checkpoint {
		return backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts.Add(-time.Minute),
			Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: restorable,
			Parts: []backup.Part{{Type: backup.PartReplicaSet, ReplicaSetName: c.ReplicaSetName,
				TokenDiscovered: restorable, TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 1}}}}
	}
	a := cluster("Alpha", backup.BackupLegacy)
	b := cluster("Beta", backup.BackupLegacy) // no restorable checkpoint yet
	cluster("Gamma", backup.BackupCloud)      // not under legacy backup: no series
	must(t, db.AddCheckpoint(ctx, checkpoint(a, now.Add(-90*time.Minute), true)))
	must(t, db.AddCheckpoint(ctx, checkpoint(a, now.Add(-75*time.Minute), true)))
	must(t, db.AddCheckpoint(ctx, checkpoint(a, now.Add(-60*time.Minute), false)))
	must(t, db.AddCheckpoint(ctx, checkpoint(b, now.Add(-60*time.Minute), false)))

	m := metrics.New(metrics.Options{Store: db, Clock: clock.NewVirtual(now)})
	labels := func(c backup.Cluster) string {
		return `cluster_id="` + c.ID.Hex() + `",cluster_name="` + c.Name + `",group_id="` + project.ID.Hex() + `"`
	}
	const head = `
# HELP checkpointd_newest_restorable_checkpoint_age_seconds Seconds since the timestamp of the cluster's newest restorable checkpoint, whoever stored it; +Inf while the cluster has none.
# TYPE checkpointd_newest_restorable_checkpoint_age_seconds gauge
`
	const tsHead = `# HELP checkpointd_newest_restorable_checkpoint_timestamp_seconds Unix time of the cluster's newest restorable checkpoint, whoever stored it; absent while the cluster has none.
# TYPE checkpointd_newest_restorable_checkpoint_timestamp_seconds gauge
`
	names := []string{"checkpointd_newest_restorable_checkpoint_age_seconds", "checkpointd_newest_restorable_checkpoint_timestamp_seconds"}
	want := head +
		`checkpointd_newest_restorable_checkpoint_age_seconds{` + labels(a) + `} 4500
checkpointd_newest_restorable_checkpoint_age_seconds{` + labels(b) + `} +Inf
` + tsHead + `checkpointd_newest_restorable_checkpoint_timestamp_seconds{` + labels(a) + `} ` + unix(now.Add(-75*time.Minute)) + "\n"
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}

	// The other process stores Beta's first restorable checkpoint and a
	// newer one of Alpha: the next scrape reports them.
	must(t, other.AddCheckpoint(ctx, checkpoint(a, now.Add(-15*time.Minute), true)))
	must(t, other.AddCheckpoint(ctx, checkpoint(b, now.Add(-30*time.Minute), true)))
	want = head +
		`checkpointd_newest_restorable_checkpoint_age_seconds{` + labels(a) + `} 900
checkpointd_newest_restorable_checkpoint_age_seconds{` + labels(b) + `} 1800
` + tsHead + `checkpointd_newest_restorable_checkpoint_timestamp_seconds{` + labels(a) + `} ` + unix(now.Add(-15*time.Minute)) + `
checkpointd_newest_restorable_checkpoint_timestamp_seconds{` + labels(b) + `} ` + unix(now.Add(-30*time.Minute)) + "\n"
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

// brokenStore fails every read.
type brokenStore struct{}

func (brokenStore) NewestRestorable(context.Context) ([]backup.RestorePoint, error) {
	return nil, errors.New("database is locked")
}

// TestRestorePointsStoreError: a store that cannot be read leaves the
// restore point series out of that scrape (so alerts on their absence
// fire), logs why, and the rest is served, with the Go and process
// collectors'.
func TestRestorePointsStoreError(t *testing.T) {
	var logs bytes.Buffer
	m := metrics.New(metrics.Options{Store: brokenStore{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	m.ObserveRequest("healthz", "GET", 200, time.Millisecond)
	body := scrape(t, m.Handler())
	for _, want := range []string{"checkpointd_http_requests_total{", "go_goroutines ", "process_start_time_seconds ", "checkpointd_auth_failures_total{"} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(body, "checkpointd_newest_restorable") {
		t.Errorf("scrape has restore points from a broken store:\n%s", body)
	}
	if !strings.Contains(logs.String(), "database is locked") {
		t.Errorf("the error was not logged: %q", logs.String())
	}
}

// scrape GETs the handler's exposition in the text format.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return string(b)
}

// unix is a time as the timestamp gauge has it: Unix seconds.
func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestObjectiveGauges reads the window gauges over a constructed history
// with known answers, in a window of six hours ending at now (a whole
// hour): a sharded cluster with a checkpoint every 15 minutes and an
// objective of an hour, restorable at now-7h (before the window), now-5h
// and now-1h: its worst gap is the 4 hours between the last two, and 2
// of the window's 25 slots left a restorable checkpoint. A replica set
// without an interval or objective, never restorable: one gap, the whole
// window, and no ratio or objective.
func TestObjectiveGauges(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db := openStore(t, filepath.Join(t.TempDir(), "metrics.db"))
	ids := backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 8}, 0)
	created := now.Add(-30 * 24 * time.Hour)
	org := backup.Organization{ID: ids.New(created), Name: "org", Created: created}
	project := backup.Project{ID: ids.New(created), OrgID: org.ID, Name: "project", Created: created}
	must(t, db.CreateOrganization(ctx, org))
	must(t, db.CreateProject(ctx, project))
	sharded := backup.Cluster{ID: ids.New(created), GroupID: project.ID, Name: "Alpha", Type: backup.Sharded,
		MongoDBVersion: "4.4.29", Backup: backup.BackupLegacy, Created: created,
		Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "s0"}}, Config: backup.ConfigServer{ReplicaSetName: "cfg"},
		Schedule: backup.CheckpointSchedule{Interval: 15 * time.Minute, Objective: time.Hour}}
	rs := backup.Cluster{ID: ids.New(created), GroupID: project.ID, Name: "Beta", Type: backup.ReplicaSet,
		MongoDBVersion: "4.4.29", Backup: backup.BackupLegacy, ReplicaSetName: "rs", Created: created}
	must(t, db.CreateCluster(ctx, sharded))
	must(t, db.CreateCluster(ctx, rs))
	var last backup.ObjectID
	for _, ago := range []time.Duration{7 * time.Hour, 5 * time.Hour, time.Hour} {
		ts := now.Add(-ago)
		tok := backup.BSONTimestamp{Date: ts, Increment: 1}
		last = ids.New(ts)
		must(t, db.AddCheckpoint(ctx, backup.Checkpoint{ID: last, ClusterID: sharded.ID, GroupID: project.ID,
			Started: ts.Add(-time.Minute), Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: true,
			Parts: []backup.Part{{Type: backup.PartReplicaSet, ShardName: "s0", ReplicaSetName: "s0", TokenDiscovered: true, TokenTimestamp: tok},
				{Type: backup.PartConfigReplicaSet, ReplicaSetName: "cfg", TokenDiscovered: true, TokenTimestamp: tok}}}))
	}

	m := metrics.New(metrics.Options{Store: db, Clock: clock.NewVirtual(now), Window: 6 * time.Hour})
	labels := func(c backup.Cluster) string {
		return `cluster_id="` + c.ID.Hex() + `",cluster_name="` + c.Name + `",group_id="` + project.ID.Hex() + `"`
	}
	want := `
# HELP checkpointd_restorable_worst_gap_seconds Longest stretch between consecutive restorable checkpoints of the cluster over the last 6h0m0s, the one across the window's start whole and the one still open at the scrape included.
# TYPE checkpointd_restorable_worst_gap_seconds gauge
checkpointd_restorable_worst_gap_seconds{` + labels(sharded) + `} 14400
checkpointd_restorable_worst_gap_seconds{` + labels(rs) + `} 21600
# HELP checkpointd_slot_success_ratio Share of the cluster's checkpoint slots of the last 6h0m0s that left a restorable checkpoint (its slot records', or its interval's grid without any); absent while none was due.
# TYPE checkpointd_slot_success_ratio gauge
checkpointd_slot_success_ratio{` + labels(sharded) + `} 0.08
# HELP checkpointd_recovery_point_objective_seconds The cluster's recovery point objective; absent while it declares none. Compare with checkpointd_newest_restorable_checkpoint_age_seconds.
# TYPE checkpointd_recovery_point_objective_seconds gauge
checkpointd_recovery_point_objective_seconds{` + labels(sharded) + `} 3600
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want),
		"checkpointd_restorable_worst_gap_seconds", "checkpointd_slot_success_ratio", "checkpointd_recovery_point_objective_seconds"); err != nil {
		t.Error(err)
	}

	// Once the window has slot records, they are what the ratio counts:
	// one TAKEN of two.
	for _, s := range []backup.Slot{
		{ClusterID: sharded.ID, GroupID: project.ID, Time: now.Add(-time.Hour), Outcome: backup.SlotTaken, CheckpointID: last,
			Source: backup.SourceEngine, Recorded: now.Add(-time.Hour)},
		{ClusterID: sharded.ID, GroupID: project.ID, Time: now.Add(-2 * time.Hour), Outcome: backup.SlotFailed, Reason: backup.ReasonNotStored,
			Detail: "the store refused it", Source: backup.SourceEngine, Recorded: now.Add(-2 * time.Hour)},
	} {
		must(t, db.RecordSlot(ctx, s))
	}
	want = `
# HELP checkpointd_slot_success_ratio Share of the cluster's checkpoint slots of the last 6h0m0s that left a restorable checkpoint (its slot records', or its interval's grid without any); absent while none was due.
# TYPE checkpointd_slot_success_ratio gauge
checkpointd_slot_success_ratio{` + labels(sharded) + `} 0.5
`
	if err := testutil.GatherAndCompare(m.Gatherer(), strings.NewReader(want), "checkpointd_slot_success_ratio"); err != nil {
		t.Error(err)
	}
}
