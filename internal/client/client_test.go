package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client"
	"github.com/checkpointd/checkpointd/internal/client/clienttest"
)

// recorder is a transport that notes every request's method, path,
// query, Accept and Authorization scheme before sending it on.
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	scheme, _, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Method+" "+req.URL.RequestURI()+" accept="+req.Header.Get("Accept")+" auth="+scheme)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

func newClient(t *testing.T, cfg client.Config) *client.Client {
	t.Helper()
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestListAndGet reads a page and one checkpoint on every API generation
// with either credential kind, and checks the paths, media types and
// authorization schemes sent.
func TestListAndGet(t *testing.T) {
	s := clienttest.NewServer(t)
	legacy := s.Cluster(t, "LegacyCluster")
	key := client.Credentials{PublicKey: s.PublicKey, PrivateKey: s.PrivateKey}
	account := client.Credentials{ClientID: s.ClientID, ClientSecret: s.ClientSecret}
	for _, tt := range []struct {
		name       string
		api        client.API
		creds      client.Credentials
		cluster    string
		wantPath   string
		wantAccept string
		wantAuth   string
	}{
		{"v2 digest", client.AtlasV2, key, "LegacyCluster", "/api/atlas/v2/groups/" + s.Project() + "/clusters/LegacyCluster/backupCheckpoints", "application/vnd.atlas.2023-01-01+json", "Digest"},
		{"v2 bearer", client.AtlasV2, account, "LegacyCluster", "/api/atlas/v2/groups/" + s.Project() + "/clusters/LegacyCluster/backupCheckpoints", "application/vnd.atlas.2023-01-01+json", "Bearer"},
		{"v1 digest", client.AtlasV1, key, "LegacyCluster", "/api/atlas/v1.0/groups/" + s.Project() + "/clusters/LegacyCluster/backupCheckpoints", "application/json", "Digest"},
		{"v1 bearer", client.AtlasV1, account, "LegacyCluster", "/api/atlas/v1.0/groups/" + s.Project() + "/clusters/LegacyCluster/backupCheckpoints", "application/json", "Bearer"},
		{"cloud manager digest", client.CloudManager, key, legacy.ID.Hex(), "/api/public/v1.0/groups/" + s.Project() + "/clusters/" + legacy.ID.Hex() + "/checkpoints", "application/json", "Digest"},
		{"cloud manager bearer", client.CloudManager, account, legacy.ID.Hex(), "/api/public/v1.0/groups/" + s.Project() + "/clusters/" + legacy.ID.Hex() + "/checkpoints", "application/json", "Bearer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			c := newClient(t, client.Config{BaseURL: s.URL, API: tt.api, Credentials: tt.creds, Transport: rec})
			ctx := context.Background()
			p, err := c.ListCheckpoints(ctx, s.Project(), tt.cluster, client.ListOptions{PageNum: 2, ItemsPerPage: 3})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Results) != 3 || len(p.Raw) != 3 || p.TotalCount != s.Checkpoints("LegacyCluster") {
				t.Fatalf("page: %d results, %d raw, total %d", len(p.Results), len(p.Raw), p.TotalCount)
			}
			cp := p.Results[0]
			if cp.ClusterID != legacy.ID.Hex() || cp.GroupID != s.Project() || cp.Timestamp.IsZero() || cp.Started.IsZero() || len(cp.Parts) != 3 {
				t.Errorf("first checkpoint: %+v", cp)
			}
			var raw map[string]any
			if err := json.Unmarshal(p.Raw[0], &raw); err != nil || raw["id"] != cp.ID {
				t.Errorf("raw result %s: %v", p.Raw[0], err)
			}
			got, body, err := c.GetCheckpoint(ctx, s.Project(), tt.cluster, cp.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != cp.ID || got.PartsSummary() != cp.PartsSummary() || !json.Valid(body) {
				t.Errorf("get: %+v, body %s", got, body)
			}
			// Cloud Manager names the mirrored config servers' host.
			var config *client.Part
			for i := range got.Parts {
				if got.Parts[i].TypeName == backup.PartConfigServer {
					config = &got.Parts[i]
				}
			}
			if config == nil || (config.HostID != "") != (tt.api == client.CloudManager) {
				t.Errorf("config server part: %+v", config)
			}
			var authed []string
			for _, r := range rec.all() {
				if strings.HasPrefix(r, "GET /api/") && !strings.HasSuffix(r, "auth=") {
					authed = append(authed, r)
				}
			}
			want := []string{
				"GET " + tt.wantPath + "?itemsPerPage=3&pageNum=2 accept=" + tt.wantAccept + " auth=" + tt.wantAuth,
				"GET " + tt.wantPath + "/" + cp.ID + " accept=" + tt.wantAccept + " auth=" + tt.wantAuth,
			}
			if strings.Join(authed, "\n") != strings.Join(want, "\n") {
				t.Errorf("authenticated requests:\n%s\nwant:\n%s", strings.Join(authed, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestListAll reads every page of a cluster, by next links, and checks
// that none is skipped or read twice.
func TestListAll(t *testing.T) {
	s := clienttest.NewServer(t)
	total := s.Checkpoints("Cluster0")
	for _, tt := range []struct {
		api     client.API
		cluster string
		perPage int
	}{
		{client.AtlasV2, "Cluster0", 100},
		{client.AtlasV1, "Cluster0", 500},
		{client.CloudManager, s.Cluster(t, "Cluster0").ID.Hex(), 250},
	} {
		t.Run(string(tt.api), func(t *testing.T) {
			rec := &recorder{}
			c := newClient(t, client.Config{BaseURL: s.URL, API: tt.api, Transport: rec,
				Credentials: client.Credentials{PublicKey: s.PublicKey, PrivateKey: s.PrivateKey}})
			p, err := c.ListAllCheckpoints(context.Background(), s.Project(), tt.cluster, tt.perPage)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Results) != total || len(p.Raw) != total || p.TotalCount != total {
				t.Fatalf("%d results, %d raw, total %d; want %d", len(p.Results), len(p.Raw), p.TotalCount, total)
			}
			seen := map[string]bool{}
			for i, cp := range p.Results {
				if seen[cp.ID] {
					t.Fatalf("checkpoint %s twice", cp.ID)
				}
				seen[cp.ID] = true
				if i > 0 && cp.Timestamp.Before(p.Results[i-1].Timestamp) {
					t.Fatalf("checkpoint %d is older than the one before", i)
				}
			}
			pages := 0
			for _, r := range rec.all() {
				if strings.Contains(r, "auth=Digest") {
					pages++
				}
			}
			if want := (total + tt.perPage - 1) / tt.perPage; pages != want {
				t.Errorf("read %d pages, want %d:\n%s", pages, want, strings.Join(rec.all(), "\n"))
			}
		})
	}
}

// fakePages serves pages of a list the way a server may: with or without
// links, and with a next link that points back.
func fakePages(t *testing.T, total int, links string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var num, per int
		_, _ = jsonNumber(r.URL.Query().Get("pageNum"), &num)
		_, _ = jsonNumber(r.URL.Query().Get("itemsPerPage"), &per)
		var results []string
		for i := (num - 1) * per; i < min(num*per, total); i++ {
			results = append(results, `{"id":"`+strings.Repeat("0", 20)+string(rune('a'+i/26%26))+string(rune('a'+i%26))+`00"}`)
		}
		var l string
		switch links {
		case "none":
		case "next":
			if num*per < total {
				l = `"links":[{"href":"http://elsewhere.example/x?pageNum=` + itoa(num+1) + `","rel":"next"}],`
			} else {
				l = `"links":[{"href":"http://elsewhere.example/x?pageNum=` + itoa(num) + `","rel":"self"}],`
			}
		case "loop":
			l = `"links":[{"href":"http://elsewhere.example/x?pageNum=1","rel":"next"}],`
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{` + l + `"results":[` + strings.Join(results, ",") + `],"totalCount":` + itoa(total) + `}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func jsonNumber(s string, n *int) (int, error) {
	err := json.Unmarshal([]byte(s), n)
	return *n, err
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestListAllPaging: without links, pages are read until one comes back
// short; a next link is followed by its page number on the client's own
// server; a next link pointing back is an error, not an endless loop.
func TestListAllPaging(t *testing.T) {
	for _, tt := range []struct {
		name    string
		links   string
		total   int
		perPage int
		want    int
		wantErr string
	}{
		{"no links, last page short", "none", 25, 10, 25, ""},
		{"no links, last page full", "none", 30, 10, 30, ""},
		{"next links", "next", 25, 10, 25, ""},
		{"next links, empty list", "next", 0, 10, 0, ""},
		{"next link back to page 1", "loop", 25, 10, 0, "points back to page 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakePages(t, tt.total, tt.links)
			c := newClient(t, client.Config{BaseURL: srv.URL, Credentials: client.Credentials{PublicKey: "a", PrivateKey: "b"}})
			p, err := c.ListAllCheckpoints(context.Background(), "p", "c", tt.perPage)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Results) != tt.want || p.TotalCount != tt.want {
				t.Errorf("%d results, total %d; want %d", len(p.Results), p.TotalCount, tt.want)
			}
		})
	}
}

// TestErrors: the server's refusals come back as *APIError with its code
// and detail; wrong credentials say so; an unreachable server says so.
func TestErrors(t *testing.T) {
	s := clienttest.NewServer(t)
	key := client.Credentials{PublicKey: s.PublicKey, PrivateKey: s.PrivateKey}
	memberPub, memberPriv := s.NewKey(t, backup.Grant{Role: backup.OrgMember})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>Bad Gateway</html>", http.StatusBadGateway)
	}))
	defer proxy.Close()
	for _, tt := range []struct {
		name       string
		base       string
		api        client.API
		creds      client.Credentials
		cluster    string
		id         string // get rather than list
		wantStatus int    // 0: not an *APIError
		wantMsg    string
	}{
		{"unknown cluster", s.URL, client.AtlasV2, key, "Nope", "", 404,
			"CLUSTER_NOT_FOUND: No cluster named Nope exists in group " + s.Project() + "."},
		{"unknown checkpoint", s.URL, client.AtlasV1, key, "Cluster0", "5a7cdb3980eef53de5bffdce", 404,
			"CHECKPOINT_NOT_FOUND: No checkpoint with ID 5a7cdb3980eef53de5bffdce exists for cluster Cluster0."},
		{"cluster name on cloud manager", s.URL, client.CloudManager, key, "Cluster0", "", 404,
			"INVALID_CLUSTER_ID: An invalid cluster ID Cluster0 was specified."},
		{"wrong private key", s.URL, client.AtlasV2, client.Credentials{PublicKey: s.PublicKey, PrivateKey: "00000000-0000-4000-8000-000000000000"}, "Cluster0", "", 401,
			"UNEXPECTED_ERROR: You are not authorized for this resource. (the server refused the credentials of API key " + s.PublicKey + ": check them and --base-url)"},
		// Credentials taken, role too low: no word about the credentials.
		{"role too low", s.URL, client.AtlasV2, client.Credentials{PublicKey: memberPub, PrivateKey: memberPriv}, "Cluster0", "", 401,
			"USER_UNAUTHORIZED: "},
		{"wrong client secret", s.URL, client.AtlasV2, client.Credentials{ClientID: s.ClientID, ClientSecret: "mdb_sa_sk_wrong"}, "Cluster0", "", 401,
			"invalid_client: Invalid credentials provided. (the token endpoint " + s.URL + "/api/oauth/token refused the credentials of service account " + s.ClientID + ")"},
		{"not the API's error format", proxy.URL, client.AtlasV2, key, "Cluster0", "", 502,
			"HTTP 502 Bad Gateway: <html>Bad Gateway</html>"},
		{"no server", closed.URL, client.AtlasV2, key, "Cluster0", "", 0,
			"cannot connect to " + closed.URL + " (is the server running, and is --base-url right?)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, client.Config{BaseURL: tt.base, API: tt.api, Credentials: tt.creds})
			var err error
			if tt.id != "" {
				_, _, err = c.GetCheckpoint(context.Background(), s.Project(), tt.cluster, tt.id)
			} else {
				_, err = c.ListCheckpoints(context.Background(), s.Project(), tt.cluster, client.ListOptions{})
			}
			if err == nil {
				t.Fatal("no error")
			}
			var apiErr *client.APIError
			if errors.As(err, &apiErr) != (tt.wantStatus != 0) || apiErr != nil && apiErr.Status != tt.wantStatus {
				t.Errorf("error %#v, want status %d", err, tt.wantStatus)
			}
			if !strings.HasPrefix(err.Error(), tt.wantMsg) || tt.name == "role too low" && strings.Contains(err.Error(), "credentials") {
				t.Errorf("error %q\nwant %q", err, tt.wantMsg)
			}
		})
	}
}

// TestNew refuses settings that cannot work, before any request.
func TestNew(t *testing.T) {
	key := client.Credentials{PublicKey: "a", PrivateKey: "b"}
	for _, tt := range []struct {
		name    string
		cfg     client.Config
		wantErr string
	}{
		{"no credentials", client.Config{BaseURL: "http://x"}, "no credentials"},
		{"both kinds", client.Config{BaseURL: "http://x", Credentials: client.Credentials{PublicKey: "a", PrivateKey: "b", ClientID: "c", ClientSecret: "d"}}, "not both"},
		{"half a key", client.Config{BaseURL: "http://x", Credentials: client.Credentials{PublicKey: "a"}}, "both --public-key and --private-key"},
		{"half an account", client.Config{BaseURL: "http://x", Credentials: client.Credentials{ClientSecret: "d"}}, "both --client-id and --client-secret"},
		{"no scheme", client.Config{BaseURL: "127.0.0.1:8080", Credentials: key}, "want http:// or https://"},
		{"query", client.Config{BaseURL: "http://x/?a=b", Credentials: key}, "want http:// or https://"},
		{"unknown api", client.Config{BaseURL: "http://x", API: "atlas-v3", Credentials: key}, `"atlas-v3" is not an API`},
		{"fine", client.Config{BaseURL: "https://cloud.mongodb.com/", Credentials: key}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := client.New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || c.API() != client.AtlasV2 {
					t.Fatalf("%v, api %v", err, c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestPretty(t *testing.T) {
	for in, want := range map[string]string{
		`{"b":1,"a":[1,{"c":null}]}`: "{\n  \"b\": 1,\n  \"a\": [\n    1,\n    {\n      \"c\": null\n    }\n  ]\n}",
		`not json`:                   `not json`,
	} {
		if got := string(client.Pretty([]byte(in))); got != want {
			t.Errorf("Pretty(%s) = %q, want %q", in, got, want)
		}
	}
}
