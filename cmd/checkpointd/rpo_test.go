package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRPO: a cluster's objective is set and removed with --rpo-min, shown
// by clusters list, and measured by rpo (a new cluster has no restore
// point, so the objective is not met), in text and as the API's JSON;
// bad flags name themselves.
func TestRPO(t *testing.T) {
	db, project := adminProject(t)
	mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Sim", "--shards", "1", "--interval-min", "15", "--rpo-min", "60")
	if r := clusterRow(t, db, project, "Sim"); r["RPO"] != "60m" {
		t.Errorf("RPO column %q, want 60m", r["RPO"])
	}
	if b := clusterItem(t, db, project, "Sim")["backup"].(map[string]any); b["recoveryPointObjectiveMin"] != float64(60) {
		t.Errorf("backup %v", b)
	}

	out := mustAdmin(t, db, "rpo", "--project", project, "Sim")
	for _, want := range []string{"cluster Sim of project " + project, "objective:         1h0m0s, NOT met now", "newest restorable: none", "slots:"} {
		if !strings.Contains(out, want) {
			t.Errorf("rpo printed\n%s\nwant a line with %q", out, want)
		}
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(mustAdmin(t, db, "rpo", "--project", project, "Sim", "-o", "json")), &r); err != nil {
		t.Fatal(err)
	}
	if r["recoveryPointObjectiveMin"] != float64(60) || r["objectiveMet"] != false || r["exposureSeconds"] != nil || r["clusterName"] != "Sim" {
		t.Errorf("rpo -o json: %v", r)
	}

	if out := mustAdmin(t, db, "clusters", "update", "--project", project, "Sim", "--rpo-min", "30"); !strings.HasSuffix(out, ", rpo 30m\n") {
		t.Errorf("update printed %q", out)
	}
	if out := mustAdmin(t, db, "clusters", "update", "--project", project, "Sim", "--rpo-min", "off"); strings.Contains(out, "rpo") {
		t.Errorf("update printed %q", out)
	}
	if r := clusterRow(t, db, project, "Sim"); r["RPO"] != "off" {
		t.Errorf("RPO column %q, want off", r["RPO"])
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"clusters", "update", "--project", project, "Sim", "--rpo-min", "10"}, "--rpo-min: Invalid attribute recoveryPointObjectiveMin specified: an objective of 10 minutes is never met"},
		{[]string{"clusters", "update", "--project", project, "Sim", "--rpo-min", "soon"}, "--rpo-min: Invalid attribute recoveryPointObjectiveMin specified"},
		{[]string{"rpo", "--project", project, "Sim", "--from", "yesterday"}, "--from: Invalid query parameter from specified"},
		{[]string{"rpo", "--project", project, "Sim", "--from", "2020-01-02T00:00:00Z", "--to", "2020-01-01T00:00:00Z"}, "--from: Invalid query parameter from specified: the range starts"},
		{[]string{"rpo", "--project", project, "Nope"}, "CLUSTER_NOT_FOUND"},
		{[]string{"rpo", "--project", project, "Sim", "-o", "yaml"}, "--output"},
	} {
		if _, err := runAdmin(t, db, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want %q", tt.args, err, tt.want)
		}
	}
}
