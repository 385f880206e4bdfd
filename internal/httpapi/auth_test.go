package httpapi_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// headerAuth is a stand-in Authenticator for testing the pipeline's slot:
// "X-Test-Key: good" authenticates, "X-Test-Key: far" is outside the access
// list, anything else is asked for credentials.
type headerAuth struct{}

const testChallenge = `Digest realm="MMS Public API", domain="", nonce="+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6", algorithm=MD5, qop="auth", stale=false`

func (headerAuth) Authenticate(r *http.Request) (*backup.Principal, error) {
	switch r.Header.Get("X-Test-Key") {
	case "good":
		return &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "abcdefgh", OrgID: backup.MustParseObjectID("5e2211c17a3e5a48f5497de0"), Grants: []backup.Grant{{Role: backup.OrgReadOnly}}}, nil
	case "far":
		return nil, backup.Errorf(backup.Forbidden, "IP_ADDRESS_NOT_ON_ACCESS_LIST", "IP address %s is not allowed to access this resource.", netip.MustParseAddr("192.0.2.7").String())
	}
	return nil, &auth.Unauthorized{Challenges: []string{testChallenge}}
}

// TestAuthenticationFirst checks that authentication comes before every
// other check and that the 401 is the service's challenge, byte for byte.
func TestAuthenticationFirst(t *testing.T) {
	f := mustServe(t, httpapi.Config{Auth: headerAuth{}})
	const body = "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"
	for _, tt := range []struct{ name, method, path, accept string }{
		{"list", "GET", v2Cluster + "/backupCheckpoints", v2Accept},
		{"unknown group", "GET", "/api/atlas/v2/groups/111111111111111111111111/clusters/Cluster0/backupCheckpoints", v2Accept},
		{"malformed group", "GET", "/api/atlas/v1.0/groups/xyz/clusters", ""},
		{"no version", "GET", v2Cluster + "/backupCheckpoints", ""},
		{"wrong method", "POST", v2Cluster + "/backupCheckpoints", v2Accept},
		{"unknown path", "GET", "/api/atlas/v2/nothing", v2Accept},
		{"bad paging", "GET", v2Cluster + "/backupCheckpoints?pageNum=x", v2Accept},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, tt.method, tt.path, nil, "Accept", tt.accept)
			if res.status != 401 || string(res.body) != body {
				t.Fatalf("%d %q, want the 401 challenge", res.status, res.body)
			}
			if got := res.header.Values("Www-Authenticate"); len(got) != 1 || got[0] != testChallenge {
				t.Errorf("WWW-Authenticate %q", got)
			}
			for _, h := range []string{"X-Error-Code", "X-Mongodb-Service-Version", "Deprecation"} {
				if res.header.Get(h) != "" {
					t.Errorf("the challenge carries %s", h)
				}
			}
			if res.header.Get("Content-Type") != "application/json" || res.header.Get("Content-Length") != "142" {
				t.Errorf("headers %v", res.header)
			}
		})
	}
	ok := f.get(t, v2Cluster+"/backupCheckpoints?itemsPerPage=1", "Accept", v2Accept, "X-Test-Key", "good")
	if ok.status != 200 {
		t.Errorf("authenticated request: %d %s", ok.status, ok.body)
	}
	far := f.get(t, v2Cluster+"/backupCheckpoints", "Accept", v2Accept, "X-Test-Key", "far")
	if far.status != 403 || !strings.Contains(string(far.body), `"errorCode":"IP_ADDRESS_NOT_ON_ACCESS_LIST"`) || far.header.Get("Www-Authenticate") != "" {
		t.Errorf("refused principal: %d %s", far.status, far.body)
	}
}
