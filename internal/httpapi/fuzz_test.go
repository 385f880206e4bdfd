package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// FuzzRequest sends arbitrary paths, queries and Accept headers through
// the whole pipeline over the demo data set: every answer must be a known
// status with a JSON body (but the OpenAPI document's YAML form), never a
// 500 and never a panic.
func FuzzRequest(f *testing.F) {
	for _, seed := range []struct{ path, query, accept string }{
		{v2Cluster + "/backupCheckpoints", "pageNum=2&itemsPerPage=3&pretty=true", v2Accept},
		{v2Cluster + "/backupCheckpoints/5a7cdb3980eef53de5bffdce", "envelope=true", v2Accept},
		{"/api/public/v1.0/groups/" + groupHex + "/clusters/6b8cd61180eef547110159db/checkpoints", "includeCount=false", ""},
		{"/api/atlas/v1.0/groups", "itemsPerPage=%zz", "application/json"},
		{"/api/atlas/v2/groups/" + groupHex + "/clusters", "", "application/vnd.atlas.2024-08-05+json;q=0.3, */*"},
	} {
		f.Add(seed.path, seed.query, seed.accept)
	}
	api := httpapi.New(httpapi.Config{}, mustServe(f, httpapi.Config{}).db)
	f.Fuzz(func(t *testing.T, path, query, accept string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path+query, " \r\n\t#") {
			return // not a request line a client can send
		}
		req, err := http.NewRequest(http.MethodGet, "http://checkpointd.test"+path+"?"+query, nil)
		if err != nil {
			return
		}
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 404, 406, 414, 431:
		default:
			t.Fatalf("GET %s?%s (Accept %q): status %d: %s", path, query, accept, rec.Code, rec.Body)
		}
		if rec.Code == 200 && rec.Header().Get("Content-Type") == "application/yaml" && strings.HasPrefix(rec.Body.String(), "openapi: 3.") {
			return // the OpenAPI document in YAML, the one body that is not JSON
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("GET %s?%s: body is not JSON: %q", path, query, rec.Body)
		}
	})
}
