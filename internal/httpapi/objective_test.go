package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// objectiveReport is the body of GET …/clusters/{clusterName}/rpo.
type objectiveReport struct {
	ClusterName      string           `json:"clusterName"`
	ExposureSeconds  *int64           `json:"exposureSeconds"`
	From             string           `json:"from"`
	Missed           []objectiveSpan  `json:"missed"`
	NewestRestorable *string          `json:"newestRestorable"`
	ObjectiveMet     *bool            `json:"objectiveMet"`
	ObjectiveMin     *int             `json:"recoveryPointObjectiveMin"`
	Slots            objectiveSlots   `json:"slots"`
	To               string           `json:"to"`
	WorstGap         *objectiveSpan   `json:"worstGap"`
	Links            []map[string]any `json:"links"`
}

type objectiveSpan struct {
	Start   string `json:"start"`
	End     string `json:"end"`
	Seconds int64  `json:"seconds"`
}

type objectiveSlots struct {
	Ratio      *float64 `json:"ratio"`
	Restorable int      `json:"restorable"`
	Source     string   `json:"source"`
	Total      int      `json:"total"`
}

// restorableCheckpoint is a checkpoint of c at ts, every token found
// unless restorable is false.
func restorableCheckpoint(c backup.Cluster, ts time.Time, restorable bool) backup.Checkpoint {
	cp := backup.Checkpoint{ID: backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 9}, 1).New(ts), ClusterID: c.ID, GroupID: c.GroupID,
		Started: ts.Add(-time.Minute), Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: restorable}
	tok := backup.BSONTimestamp{Date: ts, Increment: 1}
	for _, s := range c.Shards {
		cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: s.Name, ReplicaSetName: s.ReplicaSetName,
			TokenDiscovered: true, TokenTimestamp: tok})
	}
	cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartConfigReplicaSet, ReplicaSetName: c.Config.ReplicaSetName,
		TokenDiscovered: restorable, TokenTimestamp: tok})
	if !restorable {
		cp.Parts[len(cp.Parts)-1].TokenTimestamp = backup.BSONTimestamp{}
	}
	return cp
}

// TestAdminObjective measures a constructed history with known answers:
// a cluster created at t0 with a checkpoint every 15 minutes and an
// objective of an hour, restorable checkpoints at 00:15, 00:30 and 02:00
// (one at 00:45 not restorable), read at 06:00.
func TestAdminObjective(t *testing.T) {
	t0 := demoNow.Add(24 * time.Hour)
	clk := clock.NewVirtual(t0)
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}, Clock: clk})
	res := f.admin(t, "owner", "POST", adminClusters, `{"name":"Rpo","clusterType":"SHARDED","mongoDBVersion":"4.4.29",
"shards":[{"name":"s0","replicaSetName":"s0"}],"configServer":{"replicaSetName":"cfg"},
"backup":{"clusterCheckpointIntervalMin":15,"recoveryPointObjectiveMin":60}}`)
	wantStatus(t, res, 201)
	if c := decode[map[string]any](t, res.body); fmt.Sprint(c["backup"].(map[string]any)["recoveryPointObjectiveMin"]) != "60" {
		t.Fatalf("created %s", res.body)
	}
	rpo := adminClusters + "/Rpo/rpo"
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	text := func(m int) string { return at(m).Format(time.RFC3339) }

	// Nothing yet, read right away: an empty range.
	res = f.admin(t, "readonly", "GET", rpo, "")
	wantStatus(t, res, 200)
	if r := decode[objectiveReport](t, res.body); r.ExposureSeconds != nil || r.NewestRestorable != nil || r.WorstGap != nil ||
		r.ObjectiveMet == nil || *r.ObjectiveMet || len(r.Missed) != 0 || r.Slots.Total != 1 || r.Slots.Restorable != 0 {
		t.Errorf("empty cluster: %s", res.body)
	}

	ctx := backup.WithPrincipal(context.Background(), backup.System)
	c, err := f.db.Cluster(ctx, backup.ClusterRef{GroupID: f.ds.Project.ID, Name: "Rpo"})
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(6 * time.Hour)
	// None restorable for six hours: the whole range is one gap, missed
	// from an hour after the creation.
	if err := f.db.AddCheckpoint(ctx, restorableCheckpoint(c, at(45), false)); err != nil {
		t.Fatal(err)
	}
	res = f.admin(t, "readonly", "GET", rpo, "")
	wantStatus(t, res, 200)
	r := decode[objectiveReport](t, res.body)
	if r.ExposureSeconds != nil || r.WorstGap == nil || *r.WorstGap != (objectiveSpan{text(0), text(360), 6 * 3600}) ||
		len(r.Missed) != 1 || r.Missed[0] != (objectiveSpan{text(60), text(360), 5 * 3600}) || r.Slots.Total != 25 || r.Slots.Restorable != 0 {
		t.Errorf("none restorable: %s", res.body)
	}

	for _, m := range []int{15, 30, 120} {
		if err := f.db.AddCheckpoint(ctx, restorableCheckpoint(c, at(m), true)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, query     string
		exposure        int64
		worst           objectiveSpan
		missed          []objectiveSpan
		slots, restored int
	}{
		// The default range, the week before now, starts before the
		// creation: measured from it. Objective not met: 4 hours since
		// 02:00.
		{"default range", "", 4 * 3600, objectiveSpan{text(120), text(360), 4 * 3600},
			[]objectiveSpan{{text(90), text(120), 1800}, {text(180), text(360), 3 * 3600}}, 25, 3},
		// A range inside the history: the gap across its start is whole,
		// from 00:30; the one across its end stops at to.
		{"a range", "?from=" + text(60) + "&to=" + text(150), 4 * 3600, objectiveSpan{text(30), text(120), 90 * 60},
			[]objectiveSpan{{text(90), text(120), 1800}}, 7, 1},
		// A to after now is measured up to now.
		{"to after now", "?from=" + text(300) + "&to=" + text(900), 4 * 3600, objectiveSpan{text(120), text(360), 4 * 3600},
			[]objectiveSpan{{text(300), text(360), 3600}}, 5, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.admin(t, "readonly", "GET", rpo+tt.query, "")
			wantStatus(t, res, 200)
			r := decode[objectiveReport](t, res.body)
			if r.ExposureSeconds == nil || *r.ExposureSeconds != tt.exposure || r.ObjectiveMet == nil || *r.ObjectiveMet {
				t.Errorf("exposure and objective: %s", res.body)
			}
			if r.WorstGap == nil || *r.WorstGap != tt.worst {
				t.Errorf("worst gap %+v, want %+v", r.WorstGap, tt.worst)
			}
			if fmt.Sprint(r.Missed) != fmt.Sprint(tt.missed) {
				t.Errorf("missed %+v, want %+v", r.Missed, tt.missed)
			}
			if r.Slots.Total != tt.slots || r.Slots.Restorable != tt.restored || r.Slots.Source != "SCHEDULE" {
				t.Errorf("slots %+v, want %d of %d", r.Slots, tt.restored, tt.slots)
			}
			if len(r.Links) != 1 || r.Links[0]["href"] != f.srv.URL+rpo {
				t.Errorf("links %v", r.Links)
			}
		})
	}

	// Met: a restorable checkpoint 5 minutes ago.
	if err := f.db.AddCheckpoint(ctx, restorableCheckpoint(c, at(355), true)); err != nil {
		t.Fatal(err)
	}
	r = decode[objectiveReport](t, f.admin(t, "readonly", "GET", rpo+"?from="+text(345), "").body)
	if r.ObjectiveMet == nil || !*r.ObjectiveMet || *r.ExposureSeconds != 300 || len(r.Missed) != 1 {
		t.Errorf("met now: %+v", r)
	}

	// Slot records, where there are any in the range, are what is
	// counted: one TAKEN (00:15), one SKIPPED (00:45).
	taken := restorableCheckpoint(c, at(15), true)
	for _, s := range []backup.Slot{
		{ClusterID: c.ID, GroupID: c.GroupID, Time: at(15), Outcome: backup.SlotTaken, CheckpointID: taken.ID, Source: backup.SourceEngine, Recorded: at(16)},
		{ClusterID: c.ID, GroupID: c.GroupID, Time: at(45), Outcome: backup.SlotSkipped, Reason: backup.ReasonBalancerNotStopped,
			Detail: "the balancer did not stop", Source: backup.SourceEngine, Recorded: at(46)},
	} {
		if err := f.db.RecordSlot(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	r = decode[objectiveReport](t, f.admin(t, "readonly", "GET", rpo, "").body)
	if r.Slots.Source != "RECORDS" || r.Slots.Total != 2 || r.Slots.Restorable != 1 || r.Slots.Ratio == nil || *r.Slots.Ratio != 0.5 {
		t.Errorf("slots from records: %+v", r.Slots)
	}
	r = decode[objectiveReport](t, f.admin(t, "readonly", "GET", rpo+"?from="+text(60), "").body)
	if r.Slots.Source != "SCHEDULE" || r.Slots.Total != 21 {
		t.Errorf("slots of a range without records: %+v", r.Slots)
	}

	// Without an objective: no verdict, no misses.
	wantStatus(t, f.admin(t, "owner", "PATCH", adminClusters+"/Rpo", `{"backup":{"recoveryPointObjectiveMin":null}}`), 200)
	r = decode[objectiveReport](t, f.admin(t, "readonly", "GET", rpo, "").body)
	if r.ObjectiveMin != nil || r.ObjectiveMet != nil || len(r.Missed) != 0 || r.WorstGap == nil {
		t.Errorf("no objective: %+v", r)
	}
}

// TestAdminObjectiveBadInput: every refused parameter and objective says
// which, in the API's error format.
func TestAdminObjectiveBadInput(t *testing.T) {
	clk := clock.NewVirtual(demoNow)
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}, Clock: clk})
	rpo := adminClusters + "/Cluster0/rpo"
	for _, tt := range []struct {
		query, param string
	}{
		{"?from=yesterday", "from"},
		{"?to=2026-13-01T00:00:00Z", "to"},
		{"?from=2026-11-23T12:00:00Z&to=2026-11-23T11:00:00Z", "from"},
		{"?from=2026-11-23T12:00:00Z&to=2026-11-23T12:00:00Z", "from"},
		{"?from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z", "from"}, // in the future
		{"?from=2024-01-01T00:00:00Z", "from"},                         // more than 366 days
	} {
		res := f.admin(t, "readonly", "GET", rpo+tt.query, "")
		e := decode[apiError](t, res.body)
		if res.status != 400 || e.ErrorCode != backup.CodeInvalidQueryParameter || len(e.Parameters) != 1 || e.Parameters[0] != tt.param {
			t.Errorf("%s: %d %s, want 400 INVALID_QUERY_PARAMETER about %s", tt.query, res.status, res.body, tt.param)
		}
	}
	for _, body := range []string{
		`{"backup":{"recoveryPointObjectiveMin":0}}`,
		`{"backup":{"recoveryPointObjectiveMin":-5}}`,
		`{"backup":{"recoveryPointObjectiveMin":43201}}`,
		`{"backup":{"recoveryPointObjectiveMin":10}}`, // under Cluster0's 15 minute interval
		`{"backup":{"recoveryPointObjectiveMin":"60"}}`,
	} {
		res := f.admin(t, "owner", "PATCH", adminClusters+"/Cluster0", body)
		e := decode[apiError](t, res.body)
		if res.status != 400 || e.ErrorCode != backup.CodeInvalidAttribute || len(e.Parameters) == 0 || !strings.HasSuffix(fmt.Sprint(e.Parameters[0]), "recoveryPointObjectiveMin") {
			t.Errorf("%s: %d %s, want 400 INVALID_ATTRIBUTE about recoveryPointObjectiveMin", body, res.status, res.body)
		}
	}
	res := f.admin(t, "owner", "PATCH", adminClusters+"/Cluster0", `{"backup":{"recoveryPointObjectiveMin":30}}`)
	wantStatus(t, res, 200)
	if c := decode[map[string]any](t, res.body); fmt.Sprint(c["backup"].(map[string]any)["recoveryPointObjectiveMin"]) != "30" {
		t.Errorf("after PATCH: %s", res.body)
	}
}
