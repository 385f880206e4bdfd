package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client/clienttest"
)

// TestClientSchedule reads and changes a cluster's snapshot schedule with
// schedule get and set on every generation: a change made through one is
// read back through the others, off turns checkpoints off, and a value
// the server refuses is its error.
func TestClientSchedule(t *testing.T) {
	s := clienttest.NewServer(t)
	cm := s.Cluster(t, "Cluster0").ID.Hex()
	getenv := isolated(t, nil)
	// Changing the schedule needs the project's owner or its backup
	// manager; the server's own key only reads.
	pub, priv := s.NewKey(t, backup.Grant{Role: backup.ProjectBackupManager, ProjectID: s.Dataset.Project.ID})
	manager := []string{"--base-url", s.URL, "--public-key", pub, "--private-key", priv, "--project", s.Project()}
	on := map[string][]string{
		"atlas-v2":      append(manager, "--cluster", "Cluster0"),
		"atlas-v1":      append(manager, "--cluster", "Cluster0", "--api", "atlas-v1"),
		"cloud-manager": append(manager, "--cluster", cm, "--api", "cloud-manager"),
	}
	if _, _, err := runCmd(t, getenv, append([]string{"schedule", "set", "--interval-min", "30", "--cluster", "Cluster0"}, keyFlags(s)...)...); err == nil ||
		!strings.Contains(err.Error(), "USER_UNAUTHORIZED") {
		t.Errorf("set with a read-only key: %v", err)
	}
	field := func(out, name string) string {
		for _, l := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(l, name+":"); ok {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	for _, step := range []struct {
		via, interval, want string
	}{
		{"cloud-manager", "30", "30m"},
		{"atlas-v2", "60m", "60m"},
		{"atlas-v1", "off", "off"},
		{"atlas-v2", "15", "15m"},
	} {
		out, stderr, err := runCmd(t, getenv, append([]string{"schedule", "set", "--interval-min", step.interval, "--snapshot-interval-hours", "12"}, on[step.via]...)...)
		if err != nil {
			t.Fatalf("set %s through %s: %v\n%s", step.interval, step.via, err, stderr)
		}
		if got := field(out, "CHECKPOINT INTERVAL"); got != step.want {
			t.Errorf("set %s through %s printed interval %q:\n%s", step.interval, step.via, got, out)
		}
		for api, args := range on {
			out, _, err := runCmd(t, getenv, append([]string{"schedule", "get"}, args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if field(out, "CHECKPOINT INTERVAL") != step.want || field(out, "SNAPSHOT INTERVAL") != "12h" {
				t.Errorf("after %s through %s, %s shows:\n%s", step.interval, step.via, api, out)
			}
		}
	}
	out, _, err := runCmd(t, getenv, append([]string{"schedule", "set", "--interval-min", "off", "--output", "json"}, on["atlas-v2"]...)...)
	var doc map[string]any
	if err != nil || json.Unmarshal([]byte(out), &doc) != nil || doc["clusterCheckpointIntervalMin"] != nil || doc["clusterId"] != cm {
		t.Errorf("set off, as JSON: %v\n%s", err, out)
	}
	_, stderr, err := runCmd(t, getenv, append([]string{"schedule", "set", "--interval-min", "20"}, on["atlas-v2"]...)...)
	if err == nil || !strings.Contains(err.Error()+stderr, "INVALID_CLUSTER_CHECKPOINT_INTERVAL") {
		t.Errorf("20 minutes: %v %s", err, stderr)
	}
	if _, _, err := runCmd(t, getenv, append([]string{"schedule", "set"}, on["atlas-v2"]...)...); err == nil || !strings.Contains(err.Error(), "nothing to change") {
		t.Errorf("set without a setting: %v", err)
	}
}
