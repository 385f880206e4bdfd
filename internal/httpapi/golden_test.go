package httpapi_test

import (
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestGolden pins whole response bodies, byte for byte, for each output
// form. Rewrite with go test -update after reviewing a change.
func TestGolden(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	cp := "/api/atlas/v2/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints/" + f.ds.Sample["Cluster0"].Hex()
	list := v2Cluster + "/backupCheckpoints"
	for _, tt := range []struct{ file, path, accept string }{
		{"v2-list.json", list + "?itemsPerPage=2&pageNum=2", v2Accept},
		{"v2-list-pretty.json", list + "?itemsPerPage=2&pretty=true", v2Accept},
		{"v2-list-envelope.json", list + "?itemsPerPage=1&envelope=true", v2Accept},
		{"v2-list-replicaset-pretty.json", "/api/atlas/v2/groups/" + groupHex + "/clusters/Cluster1/backupCheckpoints?itemsPerPage=1&pretty=true", v2Accept},
		{"v2-list-mirrored-config-pretty.json", "/api/atlas/v2/groups/" + groupHex + "/clusters/LegacyCluster/backupCheckpoints?itemsPerPage=1&pretty=true", v2Accept},
		{"v2-list-empty-pretty.json", list + "?pageNum=99&pretty=true", v2Accept},
		{"v2-get.json", cp, v2Accept},
		{"v2-get-pretty.json", cp + "?pretty=true", v2Accept},
		{"v2-get-envelope.json", cp + "?envelope=true", v2Accept},
		{"v2-get-envelope-pretty.json", cp + "?envelope=true&pretty=true", v2Accept},
		{"v2-error-pretty.json", list + "/5a7cdb3980eef53de5bffdce?pretty=true", v2Accept},
		{"v2-error-406.json", list, "application/json"},
		{"v2-groups.json", "/api/atlas/v2/groups", v2Accept},
		{"v2-group-pretty.json", "/api/atlas/v2/groups/" + groupHex + "?pretty=true", v2Accept},
		{"v2-clusters.json", "/api/atlas/v2/groups/" + groupHex + "/clusters", "application/vnd.atlas.2024-08-05+json"},
		{"v2-cluster-pretty.json", "/api/atlas/v2/groups/" + groupHex + "/clusters/Cluster0?pretty=true", "application/vnd.atlas.2024-08-05+json"},

		{"v1-list.json", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/backupCheckpoints?itemsPerPage=1", ""},
		{"v1-groups.json", "/api/atlas/v1.0/groups", ""},
		{"v1-clusters.json", "/api/atlas/v1.0/groups/" + groupHex + "/clusters", ""},

		{"cm-list-pretty.json", cmCluster(f, "LegacyCluster") + "/checkpoints?itemsPerPage=1&pretty=true", ""},
		{"cm-get.json", cmCluster(f, "LegacyCluster") + "/checkpoints/" + f.ds.Sample["LegacyCluster"].Hex(), ""},
		{"cm-groups.json", "/api/public/v1.0/groups", ""},
		{"cm-clusters-pretty.json", "/api/public/v1.0/groups/" + groupHex + "/clusters?pretty=true", ""},
		{"cm-error.json", "/api/public/v1.0/groups/" + groupHex + "/clusters/Cluster0/checkpoints", ""},
	} {
		t.Run(tt.file, func(t *testing.T) {
			res := f.get(t, tt.path, "Accept", tt.accept)
			golden(t, tt.file, res.body, f.srv.URL)
		})
	}
}

// cmCluster is the Cloud Manager path of a demo cluster, which names it by
// id.
func cmCluster(f *fixture, name string) string {
	for _, c := range f.ds.Clusters {
		if c.Name == name {
			return "/api/public/v1.0/groups/" + groupHex + "/clusters/" + c.ID.Hex()
		}
	}
	panic("no demo cluster " + name)
}

var _ = backup.NilObjectID
