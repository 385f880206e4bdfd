package httpapi_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestListPaging drives the list endpoint through every paging parameter
// and checks counts, totals and the exact links.
func TestListPaging(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	total := f.ds.Checkpoints["Cluster0"]
	if total < 150 {
		t.Fatalf("demo cluster has %d checkpoints; the test needs more than 150", total)
	}
	base := f.srv.URL + v2Cluster + "/backupCheckpoints"
	last := (total + 99) / 100
	for _, tt := range []struct {
		name      string
		query     string
		results   int
		total     int
		links     []string // rel=href-suffix after base
		firstSeen int      // index in the full list of the first result, -1 to skip
	}{
		{"defaults", "", 100, total, []string{
			"self=?pageNum=1&itemsPerPage=100",
			"next=?itemsPerPage=100&pageNum=2"}, 0},
		{"sdk style", "?includeCount=true&itemsPerPage=10&pageNum=1", 10, total, []string{
			"self=?includeCount=true&pageNum=1&itemsPerPage=10",
			"next=?includeCount=true&itemsPerPage=10&pageNum=2"}, 0},
		{"middle page", "?itemsPerPage=10&pageNum=3", 10, total, []string{
			"self=?pageNum=3&itemsPerPage=10",
			"next=?itemsPerPage=10&pageNum=4",
			"previous=?itemsPerPage=10&pageNum=2"}, 20},
		{"last partial page", fmt.Sprintf("?pageNum=%d", last), total - (last-1)*100, total, []string{
			fmt.Sprintf("self=?pageNum=%d&itemsPerPage=100", last),
			fmt.Sprintf("previous=?itemsPerPage=100&pageNum=%d", last-1)}, (last - 1) * 100},
		{"past the end", "?pageNum=1000", 0, total, []string{
			"self=?pageNum=1000&itemsPerPage=100",
			"previous=?itemsPerPage=100&pageNum=999"}, -1},
		{"includeCount false", "?includeCount=false&itemsPerPage=5", 5, 0, []string{
			"self=?includeCount=false&pageNum=1&itemsPerPage=5"}, 0},
		{"includeCount false later page", "?includeCount=FALSE&itemsPerPage=5&pageNum=2", 5, 0, []string{
			"self=?includeCount=FALSE&pageNum=2&itemsPerPage=5",
			"previous=?includeCount=FALSE&itemsPerPage=5&pageNum=1"}, 5},
		{"other params echoed in order", "?pretty=false&pageNum=2&foo=&envelope=false&itemsPerPage=7", 7, total, []string{
			"self=?pretty=false&foo=&envelope=false&pageNum=2&itemsPerPage=7",
			"next=?pretty=false&foo=&envelope=false&itemsPerPage=7&pageNum=3",
			"previous=?pretty=false&foo=&envelope=false&itemsPerPage=7&pageNum=1"}, 7},
		{"itemsPerPage 0 means default", "?itemsPerPage=0", 100, total, []string{
			"self=?pageNum=1&itemsPerPage=100",
			"next=?itemsPerPage=0&pageNum=2"}, 0},
		{"itemsPerPage above max is max", "?itemsPerPage=501", min(500, total), total, nil, 0},
		{"pageNum 0 means 1", "?pageNum=0&itemsPerPage=3", 3, total, []string{
			"self=?pageNum=1&itemsPerPage=3",
			"next=?itemsPerPage=3&pageNum=2"}, 0},
		{"repeated parameter counts once", "?itemsPerPage=2&itemsPerPage=9", 2, total, []string{
			"self=?pageNum=1&itemsPerPage=2",
			"next=?itemsPerPage=2&itemsPerPage=9&pageNum=2"}, 0},
		{"exactly full last page", fmt.Sprintf("?itemsPerPage=%d", total), total, total, []string{
			fmt.Sprintf("self=?pageNum=1&itemsPerPage=%d", total)}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.get(t, v2Cluster+"/backupCheckpoints"+tt.query, "Accept", v2Accept)
			if res.status != http.StatusOK {
				t.Fatalf("status %d, body %s", res.status, res.body)
			}
			l := decode[checkpointList](t, res.body)
			if len(l.Results) != tt.results {
				t.Errorf("%d results, want %d", len(l.Results), tt.results)
			}
			if l.TotalCount == nil || *l.TotalCount != tt.total {
				t.Errorf("totalCount %v, want %d", l.TotalCount, tt.total)
			}
			if l.Status != nil {
				t.Errorf("status %d present without envelope", *l.Status)
			}
			if tt.links != nil {
				var got []string
				for _, lk := range l.Links {
					got = append(got, lk.Rel+"="+strings.TrimPrefix(lk.Href, base))
				}
				if strings.Join(got, " ") != strings.Join(tt.links, " ") {
					t.Errorf("links\n got %v\nwant %v", got, tt.links)
				}
			}
			for i := 1; i < len(l.Results); i++ {
				if l.Results[i].Timestamp <= l.Results[i-1].Timestamp {
					t.Errorf("results not oldest first at %d", i)
				}
			}
			if tt.firstSeen >= 0 && len(l.Results) > 0 {
				all := f.get(t, v2Cluster+fmt.Sprintf("/backupCheckpoints?itemsPerPage=500&pageNum=%d", tt.firstSeen/500+1), "Accept", v2Accept)
				want := decode[checkpointList](t, all.body).Results[tt.firstSeen%500].ID
				if l.Results[0].ID != want {
					t.Errorf("first result %s, want item #%d %s", l.Results[0].ID, tt.firstSeen, want)
				}
			}
		})
	}
}

// TestListItems checks the content of listed checkpoints.
func TestListItems(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	res := f.get(t, v2Cluster+"/backupCheckpoints?itemsPerPage=500", "Accept", v2Accept)
	l := decode[checkpointList](t, res.body)
	for _, cp := range l.Results {
		if cp.GroupID != groupHex || cp.ClusterID != f.ds.Clusters[0].ID.Hex() || len(cp.ID) != 24 {
			t.Fatalf("ids of %+v", cp)
		}
		if len(cp.Parts) != 4 {
			t.Fatalf("%s has %d parts, want 3 shards + config", cp.ID, len(cp.Parts))
		}
		if want := f.srv.URL + v2Cluster + "/backupCheckpoints/" + cp.ID; len(cp.Links) != 1 || cp.Links[0].Href != want || cp.Links[0].Rel != "self" {
			t.Fatalf("links %+v, want self %s", cp.Links, want)
		}
		if cp.Parts[3].TypeName != "CONFIG_SERVER_REPLICA_SET" || cp.Parts[3].ShardName != "" || cp.Parts[3].ReplicaSetName != "Cluster0-config-0" {
			t.Fatalf("config part %+v", cp.Parts[3])
		}
		for _, p := range cp.Parts[:3] {
			if p.TypeName != "REPLICA_SET" || p.ShardName == "" || p.ReplicaSetName == "" {
				t.Fatalf("shard part %+v", p)
			}
			if p.TokenDiscovered != (p.TokenTimestamp != nil) {
				t.Fatalf("tokenTimestamp present iff discovered: %+v", p)
			}
		}
		if !(cp.Timestamp <= cp.Started && cp.Started <= cp.Completed) {
			t.Fatalf("times of %s out of order", cp.ID)
		}
	}
}

// TestGetCheckpoint reads each listed checkpoint back by id.
func TestGetCheckpoint(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	res := f.get(t, v2Cluster+"/backupCheckpoints?itemsPerPage=3&pageNum=2", "Accept", v2Accept)
	l := decode[checkpointList](t, res.body)
	for _, want := range l.Results {
		res := f.get(t, v2Cluster+"/backupCheckpoints/"+want.ID, "Accept", v2Accept)
		if res.status != 200 {
			t.Fatalf("get %s: %d %s", want.ID, res.status, res.body)
		}
		got := decode[checkpoint](t, res.body)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("get %s =\n%+v\nwant (as listed)\n%+v", want.ID, got, want)
		}
	}
}

// TestErrors sends every malformed or unknown input and checks the exact
// error body.
func TestErrors(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	cp := f.ds.Sample["Cluster0"].Hex()
	otherCP := f.ds.Sample["Cluster1"].Hex()
	list := v2Cluster + "/backupCheckpoints"
	for _, tt := range []struct {
		name    string
		method  string
		path    string
		headers []string
		status  int
		code    string
		detail  string
		params  string
	}{
		{"malformed group id", "", "/api/atlas/v2/groups/5e2211c17a3e5a48f5497de/clusters/Cluster0/backupCheckpoints", nil,
			404, "INVALID_GROUP_ID", "An invalid group ID 5e2211c17a3e5a48f5497de was specified.", `["5e2211c17a3e5a48f5497de"]`},
		{"upper-case group id", "", "/api/atlas/v2/groups/5E2211C17A3E5A48F5497DE3/clusters/Cluster0/backupCheckpoints", nil,
			404, "INVALID_GROUP_ID", "An invalid group ID 5E2211C17A3E5A48F5497DE3 was specified.", `["5E2211C17A3E5A48F5497DE3"]`},
		{"non-hex group id", "", "/api/atlas/v2/groups/zzzzzzzzzzzzzzzzzzzzzzzz/clusters/Cluster0/backupCheckpoints/" + cp, nil,
			404, "INVALID_GROUP_ID", "An invalid group ID zzzzzzzzzzzzzzzzzzzzzzzz was specified.", `["zzzzzzzzzzzzzzzzzzzzzzzz"]`},
		{"unknown group", "", "/api/atlas/v2/groups/111111111111111111111111/clusters/Cluster0/backupCheckpoints", nil,
			404, "GROUP_NOT_FOUND", "No group with ID 111111111111111111111111 exists.", `["111111111111111111111111"]`},
		{"unknown cluster", "", "/api/atlas/v2/groups/" + groupHex + "/clusters/Nope/backupCheckpoints", nil,
			404, "CLUSTER_NOT_FOUND", "No cluster named Nope exists in group " + groupHex + ".", `["Nope","` + groupHex + `"]`},
		{"malformed cluster name", "", "/api/atlas/v2/groups/" + groupHex + "/clusters/-bad%20name/backupCheckpoints", nil,
			404, "CLUSTER_NOT_FOUND", "No cluster named -bad name exists in group " + groupHex + ".", `["-bad name","` + groupHex + `"]`},
		{"unknown group before malformed cluster", "", "/api/atlas/v2/groups/111111111111111111111111/clusters/-x/backupCheckpoints", nil,
			404, "GROUP_NOT_FOUND", "No group with ID 111111111111111111111111 exists.", `["111111111111111111111111"]`},
		{"malformed checkpoint id", "", list + "/xyz", nil,
			404, "INVALID_CHECKPOINT_ID", "An invalid checkpoint ID xyz was specified.", `["xyz"]`},
		{"unknown checkpoint", "", list + "/5a7cdb3980eef53de5bffdce", nil,
			404, "CHECKPOINT_NOT_FOUND", "No checkpoint with ID 5a7cdb3980eef53de5bffdce exists for cluster Cluster0.", `["5a7cdb3980eef53de5bffdce","Cluster0"]`},
		{"checkpoint of another cluster", "", list + "/" + otherCP, nil,
			404, "CHECKPOINT_NOT_FOUND", "No checkpoint with ID " + otherCP + " exists for cluster Cluster0.", `["` + otherCP + `","Cluster0"]`},
		{"pageNum not a number", "", list + "?pageNum=abc", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter pageNum specified.", `["pageNum"]`},
		{"pageNum negative", "", list + "?pageNum=-1", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter pageNum specified.", `["pageNum"]`},
		{"pageNum beyond int32", "", list + "?pageNum=2147483648", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter pageNum specified.", `["pageNum"]`},
		{"itemsPerPage fraction", "", list + "?itemsPerPage=1.5", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter itemsPerPage specified.", `["itemsPerPage"]`},
		{"itemsPerPage with sign", "", list + "?itemsPerPage=%2B5", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter itemsPerPage specified.", `["itemsPerPage"]`},
		{"includeCount not boolean", "", list + "?includeCount=yes", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter includeCount specified.", `["includeCount"]`},
		{"pretty not boolean", "", list + "?pretty=1", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter pretty specified.", `["pretty"]`},
		{"envelope not boolean", "", list + "/" + cp + "?envelope=on", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter envelope specified.", `["envelope"]`},
		{"broken percent-encoding", "", list + "?pageNum=%zz", nil,
			400, "INVALID_QUERY_PARAMETER", "Invalid query parameter pageNum specified.", `["pageNum"]`},
		{"no Accept header", "", list, []string{"Accept", ""},
			406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", `[]`},
		{"plain JSON", "", list, []string{"Accept", "application/json"},
			406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", `[]`},
		{"version before the resource", "", list, []string{"Accept", "application/vnd.atlas.2022-12-31+json"},
			406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", `[]`},
		{"impossible date", "", list, []string{"Accept", "application/vnd.atlas.2023-02-30+json"},
			406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", `[]`},
		{"preview", "", list, []string{"Accept", "application/vnd.atlas.preview+json"},
			406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", `[]`},
		{"version refused by q=0", "", list, []string{"Accept", "application/vnd.atlas.2023-01-01+json;q=0"},
			406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", `[]`},
		{"version checked before ids", "", "/api/atlas/v2/groups/bad/clusters/Cluster0/backupCheckpoints", []string{"Accept", "text/html"},
			406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", `[]`},
		{"POST", http.MethodPost, list, nil,
			405, "METHOD_NOT_ALLOWED", "Method POST is not allowed for resource " + list + ".", `["POST","` + list + `"]`},
		{"DELETE one", http.MethodDelete, list + "/" + cp, nil,
			405, "METHOD_NOT_ALLOWED", "Method DELETE is not allowed for resource " + list + "/" + cp + ".", `["DELETE","` + list + "/" + cp + `"]`},
		{"unknown path", "", "/api/atlas/v2/nothing", nil,
			404, "RESOURCE_NOT_FOUND", "Cannot find resource /api/atlas/v2/nothing.", `["/api/atlas/v2/nothing"]`},
		{"dot segment", "", "/api/atlas/v2/groups/./x", nil,
			404, "RESOURCE_NOT_FOUND", "Cannot find resource /api/atlas/v2/groups/./x.", `["/api/atlas/v2/groups/./x"]`},
		{"empty segment", "", "/api/atlas/v2//groups", nil,
			404, "RESOURCE_NOT_FOUND", "Cannot find resource /api/atlas/v2//groups.", `["/api/atlas/v2//groups"]`},
		{"trailing slash", "", list + "/", nil,
			404, "RESOURCE_NOT_FOUND", "Cannot find resource " + list + "/.", `["` + list + `/"]`},
		{"URI too long", "", list + "?x=" + strings.Repeat("a", 9000), nil,
			414, "REQUEST_TOO_LARGE", "The request URI is longer than 8192 bytes.", `[8192]`},
		{"headers too large", "", list, []string{"X-Big", strings.Repeat("b", 40000)},
			431, "REQUEST_TOO_LARGE", "The request headers are larger than 32768 bytes.", `[32768]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			headers := tt.headers
			if headers == nil {
				headers = []string{"Accept", v2Accept}
			}
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			res := f.do(t, method, tt.path, nil, headers...)
			want := fmt.Sprintf(`{"detail":%q,"error":%d,"errorCode":%q,"parameters":%s,"reason":%q}`,
				tt.detail, tt.status, tt.code, tt.params, http.StatusText(tt.status))
			if res.status != tt.status || string(res.body) != want {
				t.Errorf("%s %s\n got %d %s\nwant %d %s", method, tt.path, res.status, res.body, tt.status, want)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			if got := res.header.Get("X-Error-Code"); got != tt.code {
				t.Errorf("X-Error-Code %q, want %q", got, tt.code)
			}
			if tt.status == 405 && res.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q", res.header.Get("Allow"))
			}
		})
	}
}

// TestStrictPaging checks the strict mode's rejections.
func TestStrictPaging(t *testing.T) {
	f := mustServe(t, httpapi.Config{Paging: httpapi.PagingStrict})
	for _, tt := range []struct{ query, param string }{
		{"?itemsPerPage=0", "itemsPerPage"},
		{"?itemsPerPage=501", "itemsPerPage"},
		{"?pageNum=0", "pageNum"},
	} {
		res := f.get(t, v2Cluster+"/backupCheckpoints"+tt.query, "Accept", v2Accept)
		e := decode[apiError](t, res.body)
		if res.status != 400 || e.ErrorCode != "INVALID_QUERY_PARAMETER" || len(e.Parameters) != 1 || e.Parameters[0] != tt.param {
			t.Errorf("%s: %d %s, want 400 INVALID_QUERY_PARAMETER [%s]", tt.query, res.status, res.body, tt.param)
		}
	}
	if res := f.get(t, v2Cluster+"/backupCheckpoints?itemsPerPage=500&pageNum=1", "Accept", v2Accept); res.status != 200 {
		t.Errorf("in-range values rejected: %d %s", res.status, res.body)
	}
}

// TestVersionHeaders checks the media type, deprecation and service
// headers on success and on errors.
func TestVersionHeaders(t *testing.T) {
	f := mustServe(t, httpapi.Config{Version: "1.2.3", GitHash: strings.Repeat("ab", 20)})
	for _, tt := range []struct {
		name, accept string
		status       int
		ctype        string
		deprecated   bool
	}{
		{"exact", v2Accept, 200, v2Type, true},
		{"later date resolves to newest earlier version", "application/vnd.atlas.2025-03-12+json", 200, v2Type, true},
		{"charset parameter", "application/vnd.atlas.2024-01-01+json; charset=utf-8", 200, v2Type, true},
		{"one of several", "text/html, application/vnd.atlas.2023-06-01+json;q=0.5", 200, v2Type, true},
		{"upper case", "Application/VND.Atlas.2023-01-01+JSON", 200, v2Type, true},
		{"too early", "application/vnd.atlas.2020-01-01+json", 406, "application/json", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.get(t, v2Cluster+"/backupCheckpoints?itemsPerPage=1", "Accept", tt.accept)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if got := res.header.Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			wantDep, wantSun := "", ""
			if tt.deprecated {
				wantDep, wantSun = "Mon, 5 Aug 2024 00:00:00 GMT", "Thu, 1 Jul 2027 00:00:00 GMT"
			}
			if got := res.header.Get("Deprecation"); got != wantDep {
				t.Errorf("Deprecation %q, want %q", got, wantDep)
			}
			if got := res.header.Get("Sunset"); got != wantSun {
				t.Errorf("Sunset %q, want %q", got, wantSun)
			}
			if got, want := res.header.Get("X-MongoDB-Service-Version"), "gitHash="+strings.Repeat("ab", 20)+"; versionString=1.2.3"; got != want {
				t.Errorf("X-MongoDB-Service-Version %q, want %q", got, want)
			}
		})
	}
	// A 404 after a successful negotiation still carries the deprecation.
	res := f.get(t, v2Cluster+"/backupCheckpoints/5a7cdb3980eef53de5bffdce", "Accept", v2Accept)
	if res.status != 404 || res.header.Get("Deprecation") == "" || res.header.Get("Content-Type") != "application/json" {
		t.Errorf("404 headers %v", res.header)
	}
}

// TestExternalURL checks links built from a configured base instead of the
// request.
func TestExternalURL(t *testing.T) {
	f := mustServe(t, httpapi.Config{ExternalURL: "https://backup.example.com/"})
	res := f.get(t, v2Cluster+"/backupCheckpoints?itemsPerPage=1", "Accept", v2Accept)
	l := decode[checkpointList](t, res.body)
	if want := "https://backup.example.com" + v2Cluster + "/backupCheckpoints?pageNum=1&itemsPerPage=1"; l.Links[0].Href != want {
		t.Errorf("self %s, want %s", l.Links[0].Href, want)
	}
	if !strings.HasPrefix(l.Results[0].Links[0].Href, "https://backup.example.com/api/atlas/v2/") {
		t.Errorf("item link %s", l.Results[0].Links[0].Href)
	}
}

// TestHeadAndBody: HEAD gets headers only; a body on a GET is ignored.
func TestHeadAndBody(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	get := f.get(t, v2Cluster+"/backupCheckpoints?itemsPerPage=2", "Accept", v2Accept)
	head := f.do(t, http.MethodHead, v2Cluster+"/backupCheckpoints?itemsPerPage=2", nil, "Accept", v2Accept)
	if head.status != 200 || len(head.body) != 0 || head.header.Get("Content-Length") != get.header.Get("Content-Length") {
		t.Errorf("HEAD: %d, %d body bytes, length %s vs GET %s", head.status, len(head.body), head.header.Get("Content-Length"), get.header.Get("Content-Length"))
	}
	withBody := f.do(t, http.MethodGet, v2Cluster+"/backupCheckpoints?itemsPerPage=2", strings.NewReader(strings.Repeat("x", 1<<20)),
		"Accept", v2Accept, "Content-Type", "application/xml")
	if withBody.status != 200 || string(withBody.body) != string(get.body) {
		t.Errorf("GET with a body: %d %.200s", withBody.status, withBody.body)
	}
}

// TestRequestID: a sane client id is echoed, anything else replaced.
func TestRequestID(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	if got := f.get(t, "/x", "X-Request-Id", "abc-123").header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("echoed id %q", got)
	}
	if got := f.get(t, "/x", "X-Request-Id", "bad id").header.Get("X-Request-Id"); len(got) != 24 {
		t.Errorf("replacement id %q", got)
	}
}

// TestInternalErrorsDoNotLeak: a store failure is logged with its request
// id and answered with UNEXPECTED_ERROR, never with its text.
func TestInternalErrorsDoNotLeak(t *testing.T) {
	var logs strings.Builder
	f := mustServe(t, httpapi.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	f.db.Close() // every read now fails inside database/sql
	for _, path := range []string{
		v2Cluster + "/backupCheckpoints",
		v2Cluster + "/backupCheckpoints/" + f.ds.Sample["Cluster0"].Hex(),
		"/api/atlas/v2/groups",
	} {
		res := f.get(t, path, "Accept", v2Accept, "X-Request-Id", "req-500")
		want := `{"detail":"Unexpected error.","error":500,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Internal Server Error"}`
		if res.status != 500 || string(res.body) != want {
			t.Errorf("%s: %d %s, want 500 %s", path, res.status, res.body, want)
		}
	}
	if !strings.Contains(logs.String(), "request_id=req-500") || !strings.Contains(logs.String(), "closed") {
		t.Errorf("the internal error was not logged with its request id:\n%s", logs.String())
	}
}

// TestRequestLogLine: every request is logged once at info level with its
// id, surface, operation, method, path, status and duration; a handler
// that asks for the source is told the pipeline's line in server.go.
func TestRequestLogLine(t *testing.T) {
	var logs syncBuilder
	f := mustServe(t, httpapi.Config{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{AddSource: true}))})
	path := v2Cluster + "/backupCheckpoints/" + f.ds.Sample["Cluster0"].Hex()
	for range 2 { // the source is found on the first request, then kept
		if res := f.get(t, path, "Accept", v2Accept, "X-Request-Id", "req-log"); res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 requests:\n%s", len(lines), logs.String())
	}
	for _, line := range lines {
		var rec struct {
			Level, Msg, RequestID, API, Op, Method, Path string
			Status                                       int
			Duration                                     int64
			Source                                       struct{ Function, File string }
		}
		if err := json.Unmarshal([]byte(strings.NewReplacer(`"request_id"`, `"RequestID"`).Replace(line)), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if rec.Level != "INFO" || rec.Msg != httpapi.RequestLogMessage || rec.RequestID != "req-log" || rec.API != "atlas-v2" ||
			rec.Op != "getLegacyBackupCheckpoint" || rec.Method != "GET" || rec.Path != path || rec.Status != 200 || rec.Duration <= 0 {
			t.Errorf("log line %s", line)
		}
		if !strings.HasSuffix(rec.Source.File, "internal/httpapi/server.go") || !strings.HasSuffix(rec.Source.Function, ".(*Server).finish") {
			t.Errorf("source %+v, want the pipeline's finish in server.go", rec.Source)
		}
	}
}

// syncBuilder is a strings.Builder written by the server's goroutines.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
