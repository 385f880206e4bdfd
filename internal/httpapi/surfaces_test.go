package httpapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestCrossSurface reads the same checkpoints through all three API
// generations and checks they state the same facts.
func TestCrossSurface(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	for _, name := range []string{"Cluster0", "Cluster1", "LegacyCluster"} {
		id := f.ds.Sample[name].Hex()
		paths := map[string]string{
			"v2":   "/api/atlas/v2/groups/" + groupHex + "/clusters/" + name + "/backupCheckpoints/" + id,
			"v1.0": "/api/atlas/v1.0/groups/" + groupHex + "/clusters/" + name + "/backupCheckpoints/" + id,
			"cm":   cmCluster(f, name) + "/checkpoints/" + id,
		}
		facts := map[string]map[string]any{}
		for surface, path := range paths {
			res := f.get(t, path, "Accept", v2Accept)
			if res.status != 200 {
				t.Fatalf("%s %s: %d %s", surface, path, res.status, res.body)
			}
			var m map[string]any
			if err := json.Unmarshal(res.body, &m); err != nil {
				t.Fatal(err)
			}
			links := m["links"].([]any)
			self := links[0].(map[string]any)
			if self["rel"] != "self" || self["href"] != f.srv.URL+path {
				t.Errorf("%s self link %v, want %s", surface, self, f.srv.URL+path)
			}
			if surface == "cm" {
				if len(links) != 3 || links[1].(map[string]any)["rel"] != "http://mms.mongodb.com/cluster" || links[2].(map[string]any)["rel"] != "http://mms.mongodb.com/group" {
					t.Errorf("cm links %v", links)
				}
				// hostId is Cloud Manager's only addition.
				for _, p := range m["parts"].([]any) {
					delete(p.(map[string]any), "hostId")
				}
			}
			delete(m, "links")
			facts[surface] = m
		}
		if !reflect.DeepEqual(facts["v2"], facts["v1.0"]) || !reflect.DeepEqual(facts["v2"], facts["cm"]) {
			t.Errorf("%s: surfaces disagree:\nv2   %v\nv1.0 %v\ncm   %v", name, facts["v2"], facts["v1.0"], facts["cm"])
		}
	}
}

// TestSurfaceDifferences checks what each generation does differently:
// media types, versioning, and how it names a cluster.
func TestSurfaceDifferences(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	c0 := f.ds.Clusters[0].ID.Hex()
	for _, tt := range []struct {
		name, path, accept string
		status             int
		ctype, code        string
	}{
		{"v1 ignores Accept", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints", "", 200, "application/json", ""},
		{"v1 ignores versioned Accept", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints", v2Accept, 200, "application/json", ""},
		{"cm by id", "/api/public/v1.0/groups/" + groupHex + "/clusters/" + c0 + "/checkpoints", "", 200, "application/json", ""},
		{"cm cluster by name is malformed", "/api/public/v1.0/groups/" + groupHex + "/clusters/Cluster0/checkpoints", "", 404, "application/json", "INVALID_CLUSTER_ID"},
		{"cm unknown cluster id", "/api/public/v1.0/groups/" + groupHex + "/clusters/" + groupHex + "/checkpoints", "", 404, "application/json", "CLUSTER_NOT_FOUND"},
		{"cm unknown checkpoint", "/api/public/v1.0/groups/" + groupHex + "/clusters/" + c0 + "/checkpoints/" + groupHex, "", 404, "application/json", "CHECKPOINT_NOT_FOUND"},
		{"cm malformed group", "/api/public/v1.0/groups/x/clusters", "", 404, "application/json", "INVALID_GROUP_ID"},
		{"v1 malformed checkpoint", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints/123", "", 404, "application/json", "INVALID_CHECKPOINT_ID"},
		{"v1 bad paging", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints?pageNum=x", "", 400, "application/json", "INVALID_QUERY_PARAMETER"},
		{"v1 unknown group", "/api/atlas/v1.0/groups/111111111111111111111111", "", 404, "application/json", "GROUP_NOT_FOUND"},
		{"v2 groups", "/api/atlas/v2/groups", v2Accept, 200, v2Type, ""},
		{"v2 groups newer date", "/api/atlas/v2/groups", "application/vnd.atlas.2025-03-12+json", 200, v2Type, ""},
		{"v2 groups need a version", "/api/atlas/v2/groups", "application/json", 406, "application/json", "INVALID_VERSION_DATE"},
		{"v2 clusters newest", "/api/atlas/v2/groups/" + groupHex + "/clusters", "application/vnd.atlas.2025-03-12+json", 200, "application/vnd.atlas.2024-08-05+json;charset=utf-8", ""},
		{"v2 clusters middle", "/api/atlas/v2/groups/" + groupHex + "/clusters", "application/vnd.atlas.2024-01-01+json", 200, "application/vnd.atlas.2023-02-01+json;charset=utf-8", ""},
		{"v2 cluster unknown", "/api/atlas/v2/groups/" + groupHex + "/clusters/Nope", v2Accept, 404, "application/json", "CLUSTER_NOT_FOUND"},
		{"v2 clusters bad flag", "/api/atlas/v2/groups/" + groupHex + "/clusters?includeDeletedWithRetainedBackups=x", "application/vnd.atlas.2024-08-05+json", 400, "application/json", "INVALID_QUERY_PARAMETER"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h []string
			if tt.accept != "" {
				h = []string{"Accept", tt.accept}
			}
			res := f.get(t, tt.path, h...)
			if res.status != tt.status || res.header.Get("Content-Type") != tt.ctype || res.header.Get("X-Error-Code") != tt.code {
				t.Errorf("got %d %q %q, want %d %q %q: %.300s", res.status, res.header.Get("Content-Type"), res.header.Get("X-Error-Code"),
					tt.status, tt.ctype, tt.code, res.body)
			}
		})
	}
	// Only the deprecated 2023-01-01 cluster version carries Deprecation.
	old := f.get(t, "/api/atlas/v2/groups/"+groupHex+"/clusters", "Accept", "application/vnd.atlas.2023-01-01+json")
	cur := f.get(t, "/api/atlas/v2/groups/"+groupHex+"/clusters", "Accept", "application/vnd.atlas.2024-08-05+json")
	if old.header.Get("Deprecation") != "Mon, 5 Aug 2024 00:00:00 GMT" || cur.header.Get("Deprecation") != "" {
		t.Errorf("Deprecation: 2023-01-01 %q, 2024-08-05 %q", old.header.Get("Deprecation"), cur.header.Get("Deprecation"))
	}
	if v1 := f.get(t, "/api/atlas/v1.0/groups/"+groupHex+"/clusters/Cluster0/backupCheckpoints"); strings.Contains(v1.header.Get("Content-Type"), "vnd") || v1.header.Get("Deprecation") != "" {
		t.Errorf("v1.0 headers %v", v1.header)
	}
	_ = http.StatusOK
}
