package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client/clienttest"
)

// newestRestorableID lists a cluster's checkpoints with the client command
// and returns the newest restorable one's id.
func newestRestorableID(t *testing.T, s *clienttest.Server, cluster string) string {
	t.Helper()
	out, stderr, err := runCmd(t, isolated(t, nil), append([]string{"checkpoints", "list", "--all", "--output", "json", "--cluster", cluster}, keyFlags(s)...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var l struct {
		Results []struct {
			ID         string `json:"id"`
			Restorable bool   `json:"restorable"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatal(err)
	}
	for i := len(l.Results) - 1; i >= 0; i-- {
		if l.Results[i].Restorable {
			return l.Results[i].ID
		}
	}
	t.Fatalf("%s has no restorable checkpoint", cluster)
	return ""
}

// TestClientRestoreJobs restores Cluster0 to its newest restorable checkpoint
// through each API generation with restore-jobs create, then finds the batch
// with restore-jobs list --batch and each job with restore-jobs get; a read-only
// key is refused. checkpoints restore-plan prints the plan, config server
// first.
func TestClientRestoreJobs(t *testing.T) {
	s := clienttest.NewServer(t)
	cp := newestRestorableID(t, s, "Cluster0")
	pub, priv := s.NewKey(t, backup.Grant{Role: backup.ProjectBackupManager, ProjectID: s.Dataset.Project.ID})
	manager := []string{"--base-url", s.URL, "--public-key", pub, "--private-key", priv, "--project", s.Project()}
	cm := s.Cluster(t, "Cluster0").ID.Hex()
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"v2", []string{"--cluster", "Cluster0"}},
		{"v1", []string{"--cluster", "Cluster0", "--api", "atlas-v1"}},
		{"cloud manager", []string{"--cluster", cm, "--api", "cloud-manager"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			getenv := isolated(t, nil)
			args := append(append([]string{}, manager...), tt.args...)
			out, stderr, err := runCmd(t, getenv, append([]string{"restore-jobs", "create", "--checkpoint", cp}, args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			rows := table(t, out)
			if len(rows) != 5 || strings.Join(rows[0], "|") != "ID|BATCH|STATUS|CREATED|RESTORED UP TO (OPLOG)" {
				t.Fatalf("create:\n%s", out)
			}
			batch := rows[1][1]
			for _, r := range rows[1:] {
				if r[1] != batch || r[2] != "IN_PROGRESS" {
					t.Fatalf("create:\n%s", out)
				}
			}
			out, stderr, err = runCmd(t, getenv, append([]string{"restore-jobs", "list", "--batch", batch}, args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			listed := table(t, out)
			if len(listed) != 5 || listed[1][0] != rows[1][0] || listed[4][0] != rows[4][0] {
				t.Fatalf("list --batch:\n%s", out)
			}
			out, stderr, err = runCmd(t, getenv, append([]string{"restore-jobs", "get", "--id", rows[2][0], "--output", "json"}, args...)...)
			if err != nil || !strings.Contains(out, `"id": "`+rows[2][0]+`"`) || !strings.Contains(out, `"batchId": "`+batch+`"`) {
				t.Fatalf("get: %v\n%s%s", err, out, stderr)
			}
			// The demo key may read jobs, not create them.
			_, _, err = runCmd(t, getenv, append(append([]string{"restore-jobs", "create", "--checkpoint", cp}, keyFlags(s)...), tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), "USER_UNAUTHORIZED") {
				t.Fatalf("create with a read-only key: %v", err)
			}
		})
	}
	out, stderr, err := runCmd(t, isolated(t, nil), append([]string{"checkpoints", "restore-plan", "--cluster", "Cluster0", "--id", cp}, keyFlags(s)...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(out, "restorable: yes") || !strings.Contains(out, "\n1. mongorestore --oplogReplay --oplogLimit ") ||
		strings.Contains(out, "WARNING") || !strings.Contains(out, "1      CONFIG_SERVER_REPLICA_SET") {
		t.Fatalf("restore-plan:\n%s", out)
	}
	if _, _, err := runCmd(t, isolated(t, nil), append([]string{"checkpoints", "restore-plan", "--cluster", cm, "--api", "cloud-manager", "--id", cp}, keyFlags(s)...)...); err == nil {
		t.Fatal("restore-plan with --api cloud-manager: no error")
	}
}
