package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestDiskFull fills the file through the administration API, an agent
// reporting checkpoints until the file may grow no more (max_page_count
// on the writer connection stands in for a full disk: SQLite answers both
// with SQLITE_FULL). Every refused report is a 503 SERVICE_UNAVAILABLE
// saying the storage is full, never a 500, and stores nothing; every
// acknowledged one stays readable through the public API while the file
// is full; the file passes PRAGMA integrity_check; and once the file may
// grow again, the same server takes the refused reports.
func TestDiskFull(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := backup.NewIDSource()
	now := time.Now().UTC().Truncate(time.Second)
	org := backup.Organization{ID: ids.New(now), Name: "Full", Created: now}
	project := backup.Project{ID: ids.New(now), OrgID: org.ID, Name: "P", Created: now}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProject(ctx, project); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Admin: db, ClusterAdmin: admin.Clusters{Store: db}}, db))
	defer srv.Close()
	type answer struct {
		status int
		header http.Header
		body   string
	}
	do := func(method, path, body string) answer {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return answer{res.StatusCode, res.Header, string(b)}
	}
	admin := "/api/checkpointd/v1/groups/" + project.ID.Hex() + "/clusters"
	if a := do("POST", admin, `{"name":"Agent0","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs0",
		"backup":{"driver":"AGENT","pointInTimeWindowHours":24}}`); a.status != 201 {
		t.Fatalf("create the cluster: %d %s", a.status, a.body)
	}
	ingest := admin + "/Agent0/checkpoints"
	public := "/api/atlas/v2/groups/" + project.ID.Hex() + "/clusters/Agent0/backupCheckpoints"

	var pages int64
	if err := db.w.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	setMax := func(n int64) {
		t.Helper()
		if _, err := db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)); err != nil {
			t.Fatal(err)
		}
	}
	setMax(pages + 2)

	t0 := now.Add(-12 * time.Hour)
	var acked, refused []string
	for i := 0; len(refused) < 3; i++ {
		if i == 2000 {
			t.Fatalf("2000 reports stored in a file of %d pages at most", pages+2)
		}
		id, body := agentReport(t0.Add(time.Duration(i)*time.Second), uint32(i))
		a := do("POST", ingest, body)
		switch a.status {
		case 201:
			if len(refused) > 0 {
				// A smaller write may still fit; the file is not corrupt for it.
				t.Logf("report %d stored after a refusal", i)
			}
			acked = append(acked, id)
			continue
		case 503:
		default:
			t.Fatalf("report %d: %d %s", i, a.status, a.body)
		}
		var e struct {
			Detail, ErrorCode, Reason string
			Error                     int
			Parameters                []any
		}
		if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Error != 503 || e.ErrorCode != backup.CodeServiceUnavailable ||
			e.Detail != backup.DetailStoreFull || e.Reason != "Service Unavailable" || e.Parameters == nil {
			t.Errorf("report %d refused with %s", i, a.body)
		}
		if a.header.Get("Retry-After") == "" || a.header.Get("X-Error-Code") != backup.CodeServiceUnavailable {
			t.Errorf("report %d refused with headers %v", i, a.header)
		}
		if g := do("GET", public+"/"+id, ""); g.status != 404 {
			t.Errorf("refused report %d is served: %d %s", i, g.status, g.body)
		}
		refused = append(refused, body)
	}
	if len(acked) < 3 {
		t.Fatalf("only %d reports stored before the file was full", len(acked))
	}
	t.Logf("%d reports stored, then the file was full", len(acked))

	// Reads go on, and serve every acknowledged report.
	a := do("GET", public+"?includeCount=true&itemsPerPage=500", "")
	var list struct {
		TotalCount int `json:"totalCount"`
		Results    []struct {
			ID string `json:"id"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(a.body), &list); a.status != 200 || err != nil || list.TotalCount != len(acked) {
		t.Fatalf("list while full: %d %.300s (want %d)", a.status, a.body, len(acked))
	}
	for i, r := range list.Results {
		if r.ID != acked[i] {
			t.Errorf("checkpoint %d is %s, want %s", i, r.ID, acked[i])
		}
	}
	if r := do("GET", "/readyz", ""); r.status != 200 {
		t.Errorf("/readyz while full: %d %s", r.status, r.body)
	}
	var check string
	if err := db.w.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q %v", check, err)
	}

	// Space freed: the refused reports are taken, by the same server.
	setMax(1 << 30)
	for i, body := range refused {
		if a := do("POST", ingest, body); a.status != 201 {
			t.Errorf("refused report %d sent again: %d %s", i, a.status, a.body)
		}
	}
	a = do("GET", public+"?includeCount=true&itemsPerPage=500", "")
	if err := json.Unmarshal([]byte(a.body), &list); err != nil || list.TotalCount != len(acked)+len(refused) {
		t.Errorf("after space was freed: %.300s", a.body)
	}
}

// agentReport is an agent's report of a replica set rs0's checkpoint at
// ts, with its id, n making ids of the same second distinct.
func agentReport(ts time.Time, n uint32) (id, body string) {
	started := ts.Add(time.Second)
	oid := backup.NewIDSourceFrom([5]byte{7, 7, 7, 7, 7}, n).New(started)
	b, _ := json.Marshal(map[string]any{
		"id": oid.Hex(), "timestamp": ts.Format(time.RFC3339), "started": started.Format(time.RFC3339),
		"completed": started.Add(time.Second).Format(time.RFC3339),
		"parts": []map[string]any{{"typeName": "REPLICA_SET", "replicaSetName": "rs0", "tokenDiscovered": true,
			"tokenTimestamp": map[string]any{"date": started.Format(time.RFC3339), "increment": 1}}},
	})
	return oid.Hex(), string(b)
}
