package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// damageTable seeds the demo data set and a key into a new file, closes
// it, and overwrites the first page of the checkpoints table with zeros
// but for a stray byte; it returns the file's path and the key.
func damageTable(t *testing.T) (path, key string) {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path = filepath.Join(t.TempDir(), "damaged.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if key, err = demo.Key(ctx, db, ds, clock.System); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var pageSize, root int64
	err = raw.QueryRow(`SELECT (SELECT page_size FROM pragma_page_size), rootpage FROM sqlite_master WHERE name = 'checkpoints'`).Scan(&pageSize, &root)
	raw.Close()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	page := make([]byte, pageSize)
	page[0] = 0x42 // not a b-tree page type
	if _, err := f.WriteAt(page, (root-1)*pageSize); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, key
}

// TestDamagedDatabase: serve refuses to start on a damaged SQLite file,
// saying which file and to restore it from a backup, and so do the
// administration commands, which leave it as it is; with the check
// skipped (--integrity-check-timeout 0), requests that reach the damage
// answer 503 SERVICE_UNAVAILABLE saying the database is damaged, /readyz
// fails from then on, and the log holds one error line, naming the file.
func TestDamagedDatabase(t *testing.T) {
	path, key := damageTable(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"serve", "--addr", "127.0.0.1:0", "--database", path},
		{"orgs", "create", "--name", "Other", "--database", path},
		{"keys", "list", "--org", demo.OrgID.Hex(), "--database", path},
	} {
		var stdout bytes.Buffer
		err := run(context.Background(), args, noEnv, &stdout, &stdout)
		if err == nil || !strings.Contains(err.Error(), "database "+path+" is damaged") || !strings.Contains(err.Error(), "restore it from a backup") {
			t.Errorf("%s on a damaged file: %v, want an error naming %s and saying to restore it", args[:2], err, path)
		}
	}
	if after, err := os.ReadFile(path); err != nil || !bytes.Equal(before, after) {
		t.Errorf("the commands changed the damaged file (%v)", err)
	}

	printed, base, logs := startServeOn(t, nil, noEnv, "--database", path, "--integrity-check-timeout", "0", "--engine=false")
	client := demoClient(t, "api key: "+key+"\n"+printed)
	u := base + "/api/atlas/v1.0/groups/" + demo.ProjectID.Hex() + "/clusters/Cluster0/backupCheckpoints"
	for range 3 {
		code, body := fetch(t, client, u, nil)
		var e struct {
			Detail    string `json:"detail"`
			ErrorCode string `json:"errorCode"`
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || code != http.StatusServiceUnavailable ||
			e.ErrorCode != "SERVICE_UNAVAILABLE" || e.Detail != backup.DetailStoreDamaged {
			t.Errorf("GET checkpoints on a damaged table: %d %s, want 503 SERVICE_UNAVAILABLE %q", code, body, backup.DetailStoreDamaged)
		}
		if strings.Contains(body, path) {
			t.Errorf("the answer names the file: %s", body)
		}
	}
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz after the damage was found: %d, want 503", res.StatusCode)
	}
	var errorLines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "level=ERROR") {
			errorLines = append(errorLines, l)
		}
	}
	if len(errorLines) != 1 || !strings.Contains(errorLines[0], path) {
		t.Errorf("error lines logged: %q, want one naming %s", errorLines, path)
	}
}
