package httpapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// metricsRecorder is a Metrics that keeps every call.
type metricsRecorder struct {
	mu       sync.Mutex
	requests []string // "route method status"
	took     []time.Duration
	failures []string
}

func (r *metricsRecorder) ObserveRequest(route, method string, status int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, route+" "+method+" "+http.StatusText(status))
	r.took = append(r.took, d)
}

func (r *metricsRecorder) AuthFailure(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, reason)
}

// take returns and forgets what was recorded, once a request has been
// observed: the pipeline observes a request after its response has gone,
// so the client may see the response first.
func (r *metricsRecorder) take() (requests, failures []string) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		r.mu.Lock()
		n := len(r.requests)
		r.mu.Unlock()
		if n > 0 {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	requests, failures = r.requests, r.failures
	r.requests, r.failures, r.took = nil, nil, nil
	return requests, failures
}

// reasonAuth refuses a request with the error its X-Test-Refuse header
// names, and lets any other in as an organization reader.
type reasonAuth struct{}

func (reasonAuth) Authenticate(r *http.Request) (*backup.Principal, error) {
	switch v := r.Header.Get("X-Test-Refuse"); v {
	case "":
		return headerAuth{}.Authenticate(withHeader(r, "X-Test-Key", "good"))
	case "far":
		return headerAuth{}.Authenticate(withHeader(r, "X-Test-Key", "far"))
	case "limited":
		return nil, backup.ErrRateLimited(r.URL.Path, 10, 1)
	case "broken":
		return nil, errors.New("store unreachable")
	default:
		return nil, &auth.Unauthorized{Challenges: []string{testChallenge}, Reason: v}
	}
}

func withHeader(r *http.Request, k, v string) *http.Request {
	r = r.Clone(r.Context())
	r.Header.Set(k, v)
	return r
}

// fakeOAuth refuses every client, or rate limits it when asked.
type fakeOAuth struct{}

func (fakeOAuth) Token(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("X-Test-Refuse") == "limited" {
		return backup.ErrRateLimited(r.URL.Path, 50, 1)
	}
	return oauth.ErrInvalidClient
}

func (fakeOAuth) Revoke(w http.ResponseWriter, r *http.Request) error {
	return &oauth.Error{Status: http.StatusBadRequest, Code: oauth.CodeInvalidRequest, Description: "no token"}
}

// TestMetricsHooks: every request is observed once, under its route's
// name (never its path), with a bounded method and its status; every
// refusal by authentication is counted once, with its reason, and nothing
// else is.
func TestMetricsHooks(t *testing.T) {
	m := &metricsRecorder{}
	cfg := httpapi.Config{Auth: reasonAuth{}, OAuth: fakeOAuth{}, Metrics: m, UI: http.NotFoundHandler()}
	f := mustServeAdmin(t, cfg)
	// The labels are the route table's.
	cfg.Admin, cfg.ClusterAdmin = stubAdmin{}, stubAdmin{}
	labels := map[string]bool{}
	for _, rt := range httpapi.New(cfg, nil).Routes() {
		labels[rt.Label] = true
	}
	list := v2Cluster + "/backupCheckpoints"
	for _, tt := range []struct {
		name, method, path string
		headers            []string
		request            string
		failures           []string
	}{
		{"list", "GET", list, []string{"Accept", v2Accept}, "atlas-v2.listLegacyBackupCheckpoints GET OK", nil},
		{"one project, v1.0", "HEAD", "/api/atlas/v1.0/groups/" + groupHex, nil, "atlas-v1.0.getProject HEAD OK", nil},
		{"cloud manager clusters", "GET", "/api/public/v1.0/groups/" + groupHex + "/clusters", nil, "cloud-manager.listClusters GET OK", nil},
		{"unknown group", "GET", "/api/atlas/v1.0/groups/111111111111111111111111/clusters", nil, "atlas-v1.0.listClusters GET Not Found", nil},
		{"unknown path", "GET", "/api/atlas/v2/nothing/" + groupHex, nil, "not_found GET Not Found", nil},
		{"made-up method", "BREW", list, []string{"Accept", v2Accept}, "atlas-v2 other Method Not Allowed", nil},
		{"probe", "GET", "/healthz", nil, "healthz GET OK", nil},
		{"readiness", "GET", "/readyz", nil, "readyz GET OK", nil},
		{"no credentials", "GET", list, []string{"X-Test-Refuse", auth.MissingCredentials}, "atlas-v2.listLegacyBackupCheckpoints GET Unauthorized", []string{"missing_credentials"}},
		{"wrong password", "GET", list, []string{"X-Test-Refuse", auth.BadCredentials}, "atlas-v2.listLegacyBackupCheckpoints GET Unauthorized", []string{"bad_credentials"}},
		{"stale nonce", "GET", list, []string{"X-Test-Refuse", auth.StaleNonce}, "atlas-v2.listLegacyBackupCheckpoints GET Unauthorized", []string{"stale_nonce"}},
		{"revoked token", "GET", list, []string{"X-Test-Refuse", auth.RevokedToken}, "atlas-v2.listLegacyBackupCheckpoints GET Unauthorized", []string{"revoked_token"}},
		{"unknown reason", "GET", list, []string{"X-Test-Refuse", "some/path/" + groupHex}, "atlas-v2.listLegacyBackupCheckpoints GET Unauthorized", []string{"other"}},
		{"access list", "GET", list, []string{"X-Test-Refuse", "far"}, "atlas-v2.listLegacyBackupCheckpoints GET Forbidden", []string{"access_list"}},
		{"rate limited", "GET", list, []string{"X-Test-Refuse", "limited"}, "atlas-v2.listLegacyBackupCheckpoints GET Too Many Requests", []string{"rate_limited"}},
		{"store down", "GET", list, []string{"X-Test-Refuse", "broken"}, "atlas-v2.listLegacyBackupCheckpoints GET Internal Server Error", []string{"error"}},
		{"refused on an unknown path", "GET", "/nothing", []string{"X-Test-Refuse", auth.MissingCredentials}, "not_found GET Unauthorized", []string{"missing_credentials"}},
		{"token, bad client", "POST", "/api/oauth/token", nil, "oauth.createToken POST Unauthorized", []string{"bad_client_credentials"}},
		{"token, rate limited", "POST", "/api/oauth/token", []string{"X-Test-Refuse", "limited"}, "oauth.createToken POST Too Many Requests", []string{"rate_limited"}},
		{"revoke, bad request", "POST", "/api/oauth/revoke", nil, "oauth.revokeToken POST Bad Request", nil},
		{"admin list, role too low", "GET", "/api/checkpointd/v1/groups/" + groupHex + "/clusters", nil, "checkpointd-admin.adminListClusters GET Unauthorized", nil},
		{"admin, wrong method", "PUT", "/api/checkpointd/v1/groups/" + groupHex + "/clusters", nil, "checkpointd-admin PUT Method Not Allowed", nil},
		{"admin, refused", "DELETE", "/api/checkpointd/v1/groups/" + groupHex + "/clusters/Cluster0", []string{"X-Test-Refuse", auth.BadCredentials}, "checkpointd-admin.adminDeleteCluster DELETE Unauthorized", []string{"bad_credentials"}},
		{"document", "GET", "/api/checkpointd/v1/openapi.json", nil, "openapi.getOpenAPIDocument GET OK", nil},
		{"web view file", "GET", "/ui/nothing.js", nil, "ui.ui GET Not Found", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, tt.method, tt.path, strings.NewReader(""), tt.headers...)
			requests, failures := m.take()
			if len(requests) != 1 || requests[0] != tt.request {
				t.Errorf("%d: observed %q, want [%q]", res.status, requests, tt.request)
			}
			if label, _, _ := strings.Cut(tt.request, " "); !labels[label] {
				t.Errorf("route %q is not a label of the route table", label)
			}
			if !slices.Equal(failures, tt.failures) {
				t.Errorf("auth failures %q, want %q", failures, tt.failures)
			}
		})
	}
}

// TestMetricsReasons: the reasons are a fixed, duplicate-free set of
// label values.
func TestMetricsReasons(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range httpapi.AuthFailureReasons {
		if seen[r] || r == "" || strings.ToLower(r) != r || strings.ContainsAny(r, " /") {
			t.Errorf("reason %q repeated or not a plain label value", r)
		}
		seen[r] = true
	}
	if !seen[httpapi.AuthOther] || len(seen) != 12 {
		t.Errorf("reasons %v", httpapi.AuthFailureReasons)
	}
}

// counter is a Metrics that allocates nothing.
type counter struct{ requests, failures atomic.Int64 }

func (c *counter) ObserveRequest(string, string, int, time.Duration) { c.requests.Add(1) }
func (c *counter) AuthFailure(string)                                { c.failures.Add(1) }

// TestMetricsAllocateNothing: the hook costs a request no allocation.
func TestMetricsAllocateNothing(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	c := &counter{}
	req := httptest.NewRequest(http.MethodGet, v2Cluster+"/backupCheckpoints/"+f.ds.Sample["Cluster0"].Hex(), nil)
	req.Header.Set("Accept", v2Accept)
	allocs := func(cfg httpapi.Config) float64 {
		h := httpapi.New(cfg, f.db)
		w := &discardWriter{h: http.Header{}}
		h.ServeHTTP(w, req) // warm the caches and pools
		if w.status != 0 && w.status != 200 {
			t.Fatalf("status %d", w.status)
		}
		return testing.AllocsPerRun(200, func() {
			w.reset()
			h.ServeHTTP(w, req)
		})
	}
	without := allocs(httpapi.Config{})
	with := allocs(httpapi.Config{Metrics: c})
	if with > without {
		t.Errorf("%v allocations per request with metrics, %v without", with, without)
	}
	t.Logf("%v allocations per request with metrics, %v without", with, without)
	// The warm-up request, AllocsPerRun's own warm-up run, and its runs.
	if n := c.requests.Load(); n != 202 {
		t.Errorf("%d requests observed, want 202", n)
	}
}
