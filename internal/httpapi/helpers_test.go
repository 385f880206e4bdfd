package httpapi_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// demoNow is the fixed end of the demo history in tests, so golden files
// are stable.
var demoNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const (
	v2Accept  = "application/vnd.atlas.2023-01-01+json"
	v2Type    = "application/vnd.atlas.2023-01-01+json;charset=utf-8"
	groupHex  = "5e2211c17a3e5a48f5497de3"
	v2Cluster = "/api/atlas/v2/groups/" + groupHex + "/clusters/Cluster0"
)

type fixture struct {
	srv *httptest.Server
	db  *sqlite.DB
	ds  demo.Dataset
}

// mustServe starts the API over a fresh SQLite file holding the demo data
// set (two days of history) and returns it with its data.
func mustServe(tb testing.TB, cfg httpapi.Config) *fixture {
	return mustServeWith(tb, cfg, false)
}

// mustServeAdmin is mustServe with the administration API over the same
// store.
func mustServeAdmin(tb testing.TB, cfg httpapi.Config) *fixture {
	return mustServeWith(tb, cfg, true)
}

func mustServeWith(tb testing.TB, cfg httpapi.Config, withAdmin bool) *fixture {
	tb.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: demoNow, Days: 2})
	if err != nil {
		tb.Fatal(err)
	}
	if withAdmin {
		cfg.Admin, cfg.ClusterAdmin = db, admin.Clusters{Store: db, Clock: cfg.Clock}
	}
	srv := httptest.NewServer(httpapi.New(cfg, db))
	tb.Cleanup(srv.Close)
	return &fixture{srv: srv, db: db, ds: ds}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// get sends a GET with the given headers (name, value pairs).
func (f *fixture) get(tb testing.TB, path string, headers ...string) response {
	tb.Helper()
	return f.do(tb, http.MethodGet, path, nil, headers...)
}

func (f *fixture) do(tb testing.TB, method, path string, body io.Reader, headers ...string) response {
	tb.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := f.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	validateAgainstSpec(tb, req, res, b)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// apiError is the ApiError body.
type apiError struct {
	Detail     string `json:"detail"`
	Error      int    `json:"error"`
	ErrorCode  string `json:"errorCode"`
	Parameters []any  `json:"parameters"`
	Reason     string `json:"reason"`
}

// checkpointList is PaginatedApiAtlasCheckpointView.
type checkpointList struct {
	Links      []link       `json:"links"`
	Results    []checkpoint `json:"results"`
	Status     *int         `json:"status"`
	TotalCount *int         `json:"totalCount"`
}

type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

type checkpoint struct {
	ClusterID string `json:"clusterId"`
	Completed string `json:"completed"`
	GroupID   string `json:"groupId"`
	ID        string `json:"id"`
	Links     []link `json:"links"`
	Parts     []struct {
		ReplicaSetName  string `json:"replicaSetName"`
		ShardName       string `json:"shardName"`
		TokenDiscovered bool   `json:"tokenDiscovered"`
		TokenTimestamp  *struct {
			Date      string `json:"date"`
			Increment int    `json:"increment"`
		} `json:"tokenTimestamp"`
		TypeName string `json:"typeName"`
	} `json:"parts"`
	Restorable bool   `json:"restorable"`
	Started    string `json:"started"`
	Timestamp  string `json:"timestamp"`
}

func decode[T any](tb testing.TB, b []byte) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("decoding %s: %v", b, err)
	}
	return v
}

// golden compares got with testdata/name, or rewrites it under -update.
// The test server's address varies, so it is replaced by a placeholder.
func golden(tb testing.TB, name string, got []byte, srvURL string) {
	tb.Helper()
	got = []byte(strings.ReplaceAll(string(got), srvURL, "http://checkpointd.test"))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		tb.Errorf("%s differs from the golden file:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}
