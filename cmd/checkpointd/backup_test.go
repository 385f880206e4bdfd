package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// TestBackupWhileServing runs `checkpointd backup` while a server's
// engine takes a checkpoint every few milliseconds (serve --demo at 3600
// times the wall clock), then `checkpointd restore` into a new file: the
// restored file holds every checkpoint the engine acknowledged in its log
// before the backup began. A restore over the file the server has open is
// refused.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	_, _, logs := startServeOn(t, nil, noEnv, "--database", live, "--demo",
		"--log-level", "debug", "--log-format", "json", "--demo-speed", strconv.Itoa(crashSpeed))
	ackCount := func() int { return strings.Count(logs.String(), `"msg":"checkpoint taken"`) }
	deadline := time.Now().Add(10 * time.Second)
	for ackCount() < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 5 checkpoints acknowledged within 10s:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := parseAcks(t, logs.String(), 0)

	out := filepath.Join(dir, "backup.db")
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"backup", "--database", live, "--output", out}, noEnv, &stdout, &stdout); err != nil {
		t.Fatalf("backup: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "backed up "+live+" to "+out) || !strings.Contains(stdout.String(), "integrity check ok") {
		t.Errorf("backup printed %q", stdout.String())
	}
	t.Logf("%s(%d acknowledged before, %d by the end)", stdout.String(), len(before), ackCount())

	stdout.Reset()
	err := run(context.Background(), []string{"restore", "--database", live, "--input", out}, noEnv, &stdout, &stdout)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("restore over the served file: %v, want a refusal", err)
	}

	restored := filepath.Join(dir, "restored.db")
	stdout.Reset()
	if err := run(context.Background(), []string{"restore", "--database", restored, "--input", out}, noEnv, &stdout, &stdout); err != nil {
		t.Fatalf("restore: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), "restored "+restored+" from "+out) {
		t.Errorf("restore printed %q", stdout.String())
	}
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, a := range before {
		id, _ := backup.ParseObjectID(a.id)
		cp, err := db.Checkpoint(ctx, backup.ClusterRef{GroupID: demo.ProjectID, Name: a.cluster}, id)
		if err != nil || !cp.Timestamp.Equal(a.timestamp) {
			t.Errorf("acknowledged checkpoint %s of %s: %+v, %v", a.id, a.cluster, cp, err)
		}
	}
}
