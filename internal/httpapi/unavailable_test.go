package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// downStore fails every read with err, as a store does whose database
// cannot be reached.
type downStore struct{ err error }

func (d downStore) Project(context.Context, backup.ObjectID) (backup.Project, error) {
	return backup.Project{}, d.err
}
func (d downStore) ProjectByName(context.Context, string) (backup.Project, error) {
	return backup.Project{}, d.err
}
func (d downStore) UpdateBackup(context.Context, backup.ClusterRef, func(*backup.Cluster) error) (backup.Cluster, error) {
	return backup.Cluster{}, d.err
}
func (d downStore) PruneCheckpoints(context.Context, backup.ObjectID, time.Time) (int, error) {
	return 0, d.err
}
func (d downStore) Projects(context.Context, backup.PageRequest) (backup.Page[backup.Project], error) {
	return backup.Page[backup.Project]{}, d.err
}
func (d downStore) Cluster(context.Context, backup.ClusterRef) (backup.Cluster, error) {
	return backup.Cluster{}, d.err
}
func (d downStore) Clusters(context.Context, backup.ObjectID, backup.PageRequest) (backup.Page[backup.Cluster], error) {
	return backup.Page[backup.Cluster]{}, d.err
}
func (d downStore) Checkpoints(context.Context, backup.ClusterRef, backup.PageRequest) (backup.Page[backup.Checkpoint], error) {
	return backup.Page[backup.Checkpoint]{}, d.err
}
func (d downStore) Checkpoint(context.Context, backup.ClusterRef, backup.ObjectID) (backup.Checkpoint, error) {
	return backup.Checkpoint{}, d.err
}
func (d downStore) CreateRestoreJobs(context.Context, []backup.RestoreJob) error { return d.err }
func (d downStore) RestoreJobs(context.Context, backup.ClusterRef, backup.ObjectID, backup.PageRequest) (backup.Page[backup.RestoreJob], error) {
	return backup.Page[backup.RestoreJob]{}, d.err
}
func (d downStore) RestoreJob(context.Context, backup.ClusterRef, backup.ObjectID) (backup.RestoreJob, error) {
	return backup.RestoreJob{}, d.err
}

// TestStoreUnavailable: a store that cannot reach its database (or is
// full) makes every API answer a 503 SERVICE_UNAVAILABLE with the store's
// detail and Retry-After, on every generation; the driver's error, which
// names the server, is logged with the request id and never sent.
func TestStoreUnavailable(t *testing.T) {
	cause := errors.New("dial tcp 10.1.2.3:5432: connect: connection refused")
	for _, tt := range []struct {
		detail string
		want   string
	}{
		{backup.DetailStoreUnavailable,
			`{"detail":"The database is unavailable. Try again later.","error":503,"errorCode":"SERVICE_UNAVAILABLE","parameters":[],"reason":"Service Unavailable"}`},
		{backup.DetailStoreFull,
			`{"detail":"The database's storage is full: nothing was written. Try again once space has been freed.","error":503,"errorCode":"SERVICE_UNAVAILABLE","parameters":[],"reason":"Service Unavailable"}`},
	} {
		var logs bytes.Buffer
		st := downStore{err: backup.ErrUnavailable(tt.detail, cause)}
		// Each request 11 s after the one before: every one is past the
		// outage warning's interval, so each is logged.
		clk := clock.NewVirtual(time.Unix(0, 0))
		srv := httptest.NewServer(httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Clock: clk}, st))
		for _, path := range []string{
			"/api/atlas/v2/groups",
			"/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints",
			"/api/public/v1.0/groups/" + groupHex + "/clusters",
		} {
			clk.Advance(11 * time.Second)
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 503 || string(body) != tt.want || res.Header.Get("Retry-After") != "5" ||
				res.Header.Get("X-Error-Code") != backup.CodeServiceUnavailable {
				t.Errorf("GET %s: %d %s %v", path, res.StatusCode, body, res.Header)
			}
			for k, v := range res.Header {
				if strings.Contains(strings.Join(v, " "), "10.1.2.3") {
					t.Errorf("GET %s: header %s names the server: %v", path, k, v)
				}
			}
			id := res.Header.Get("X-Request-Id")
			if !strings.Contains(logs.String(), "store unavailable") || !strings.Contains(logs.String(), "request_id="+id) ||
				!strings.Contains(logs.String(), "10.1.2.3") || strings.Contains(logs.String(), "internal error") {
				t.Errorf("GET %s: log:\n%s", path, logs.String())
			}
		}
		srv.Close()
	}
}

// TestStoreUnavailableLogLimited: during an outage under load the warning
// is logged once per interval, the next one saying how many were held
// back; every request still gets its 503 and its request log line.
func TestStoreUnavailableLogLimited(t *testing.T) {
	var logs bytes.Buffer
	clk := clock.NewVirtual(time.Unix(1_700_000_000, 0))
	st := downStore{err: backup.ErrUnavailable(backup.DetailStoreUnavailable, errors.New("connection refused"))}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Clock: clk}, st))
	defer srv.Close()
	get := func() {
		t.Helper()
		res, err := http.Get(srv.URL + "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 503 {
			t.Fatalf("status %d, want 503", res.StatusCode)
		}
	}
	warnings := func() []string {
		var out []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "store unavailable") {
				out = append(out, l)
			}
		}
		return out
	}
	for i := 0; i < 50; i++ {
		get()
		clk.Advance(100 * time.Millisecond) // 5 s in all: within one interval
	}
	if w := warnings(); len(w) != 1 || !strings.Contains(w[0], "not_logged_since_last=0") {
		t.Fatalf("after 50 failures within 5 s: warnings %q, want one", w)
	}
	if n := strings.Count(logs.String(), "msg="+httpapi.RequestLogMessage); n != 50 {
		t.Errorf("%d request log lines, want 50", n)
	}
	clk.Advance(10 * time.Second)
	get()
	if w := warnings(); len(w) != 2 || !strings.Contains(w[1], "not_logged_since_last=49") {
		t.Fatalf("after the interval: warnings %q, want a second one counting 49 held back", w)
	}
}
