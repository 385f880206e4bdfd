package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// notRestorableOf finds a checkpoint of the demo's Cluster0 that is not
// restorable, with its slot's record.
func notRestorableOf(t *testing.T, f *fixture) backup.Slot {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	p, err := f.db.Slots(ctx, backup.ClusterRef{GroupID: f.ds.Project.ID, Name: "Cluster0"},
		backup.SlotFilter{Outcomes: []backup.SlotOutcome{backup.SlotNotRestorable}}, backup.PageRequest{Num: 1, Size: 1})
	if err != nil || len(p.Items) == 0 {
		t.Fatalf("no NOT_RESTORABLE slot in the demo: %v", err)
	}
	return p.Items[0]
}

// TestNotRestorableReason: the administration API's checkpoint says why
// it is not restorable, as its slot's record does; the three public
// generations' bodies of the same checkpoint carry no such field (their
// golden tests hold them byte for byte).
func TestNotRestorableReason(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}})
	sl := notRestorableOf(t, f)
	id := sl.CheckpointID.Hex()
	res := f.admin(t, "readonly", http.MethodGet, "/api/checkpointd/v1/groups/"+f.ds.Project.ID.Hex()+"/clusters/Cluster0/checkpoints/"+id, "")
	if res.status != 200 {
		t.Fatalf("admin checkpoint: %d %s", res.status, res.body)
	}
	var got struct {
		ID                  string                       `json:"id"`
		Restorable          bool                         `json:"restorable"`
		NotRestorableReason *httpapi.NotRestorableReason `json:"notRestorableReason"`
	}
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatal(err)
	}
	want := httpapi.NotRestorableReason{Detail: sl.Detail, Part: sl.Part, Reason: string(sl.Reason)}
	if got.ID != id || got.Restorable || got.NotRestorableReason == nil || *got.NotRestorableReason != want {
		t.Fatalf("admin checkpoint %s", res.body)
	}
	if want.Reason != string(backup.ReasonTokenNotDiscovered) || want.Part == "" || !strings.Contains(want.Detail, want.Part) {
		t.Errorf("the reason %+v does not name the part whose token was lost", want)
	}
	for _, p := range []struct{ path, accept string }{
		{"/api/atlas/v2/groups/" + f.ds.Project.ID.Hex() + "/clusters/Cluster0/backupCheckpoints/" + id, "application/vnd.atlas.2023-01-01+json"},
		{"/api/atlas/v1.0/groups/" + f.ds.Project.ID.Hex() + "/clusters/Cluster0/backupCheckpoints/" + id, ""},
		{"/api/public/v1.0/groups/" + f.ds.Project.ID.Hex() + "/clusters/" + sl.ClusterID.Hex() + "/checkpoints/" + id, ""},
	} {
		var h []string
		if p.accept != "" {
			h = []string{"Accept", p.accept}
		}
		res := f.admin(t, "readonly", http.MethodGet, p.path, "", h...)
		if res.status != 200 || strings.Contains(string(res.body), "notRestorableReason") || strings.Contains(string(res.body), sl.Detail) {
			t.Errorf("%s: %d %s", p.path, res.status, res.body)
		}
	}
	// A restorable checkpoint has no reason.
	res = f.admin(t, "readonly", http.MethodGet, "/api/checkpointd/v1/groups/"+f.ds.Project.ID.Hex()+"/clusters/Cluster0/checkpoints/"+f.ds.Sample["Cluster0"].Hex(), "")
	if res.status != 200 || strings.Contains(string(res.body), "notRestorableReason") && strings.Contains(string(res.body), `"restorable":true`) {
		t.Errorf("restorable checkpoint: %d %s", res.status, res.body)
	}
	// A stranger learns nothing.
	res = f.admin(t, "stranger", http.MethodGet, "/api/checkpointd/v1/groups/"+f.ds.Project.ID.Hex()+"/clusters/Cluster0/slots", "")
	if res.status != 404 || !strings.Contains(string(res.body), "GROUP_NOT_FOUND") {
		t.Errorf("a stranger's slots: %d %s", res.status, res.body)
	}
}
