package auth_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	mdigest "github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas/mongodbatlas"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
)

var nonceRE = regexp.MustCompile(`nonce="([^"]+)"`)

// challenge asks for a fresh nonce with an unauthenticated request.
func (e *env) challenge() string {
	e.t.Helper()
	res := e.do("GET", e.v2(), nil, "Accept", v2Accept)
	if res.status != 401 {
		e.t.Fatalf("unauthenticated request: %d", res.status)
	}
	m := nonceRE.FindStringSubmatch(res.header.Get("Www-Authenticate"))
	if m == nil {
		e.t.Fatalf("no nonce in %q", res.header.Get("Www-Authenticate"))
	}
	return m[1]
}

// digestAuth computes an Authorization header as RFC 7616 clients do.
func digestAuth(alg, user, pass, method, uri, nonce string, nc int) string {
	var h func() hash.Hash = md5.New
	if alg == "SHA-256" {
		h = sha256.New
	}
	sum := func(s string) string { d := h(); d.Write([]byte(s)); return hex.EncodeToString(d.Sum(nil)) }
	const cnonce = "0a4f113b0a4f113b"
	ncs := fmt.Sprintf("%08x", nc)
	ha1 := sum(user + ":MMS Public API:" + pass)
	ha2 := sum(method + ":" + uri)
	resp := sum(ha1 + ":" + nonce + ":" + ncs + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="MMS Public API", nonce="%s", uri="%s", response="%s", algorithm=%s, qop=auth, nc=%s, cnonce="%s"`,
		user, nonce, uri, resp, alg, ncs, cnonce)
}

func (e *env) digestGet(path, alg, user, pass, nonce string, nc int) response {
	e.t.Helper()
	return e.do("GET", path, nil, "Accept", v2Accept, "Authorization", digestAuth(alg, user, pass, "GET", path, nonce, nc))
}

// TestChallenge: without credentials every path, known or not, gets the
// service's 401, with the MD5 challenge first and SHA-256 second.
func TestChallenge(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{e.v2(), "/api/atlas/v2/groups/111111111111111111111111", "/api/atlas/v1.0/groups/x/clusters", "/nowhere"} {
		res := e.do("GET", path, nil)
		if res.status != 401 || res.body != challengeBody {
			t.Errorf("%s: %d %q", path, res.status, res.body)
		}
		ch := res.header.Values("Www-Authenticate")
		if len(ch) != 2 || !regexp.MustCompile(`^Digest realm="MMS Public API", domain="", nonce="[A-Za-z0-9+/]{32}", algorithm=MD5, qop="auth", stale=false$`).MatchString(ch[0]) ||
			!strings.Contains(ch[1], "algorithm=SHA-256") {
			t.Errorf("%s: challenges %q", path, ch)
		}
	}
}

// TestOfficialClients authenticates with the Digest transport the Atlas
// SDKs use and the go.mongodb.org/atlas client on top of it, unmodified.
func TestOfficialClients(t *testing.T) {
	e := newEnv(t)
	pub, priv := e.key(e.org(), projectRole(e.project(), backup.ProjectReadOnly))
	hc := &http.Client{Transport: mdigest.NewTransport(pub, priv)}
	c, err := mongodbatlas.New(hc, mongodbatlas.SetBaseURL(e.srv.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	l, _, err := c.Checkpoints.List(ctx, e.project().Hex(), "Cluster0", &mongodbatlas.ListOptions{IncludeCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if l.TotalCount != e.ds.Checkpoints["Cluster0"] || len(l.Results) == 0 {
		t.Fatalf("listed %d of %d", len(l.Results), l.TotalCount)
	}
	if _, _, err := c.Checkpoints.Get(ctx, e.project().Hex(), "Cluster0", l.Results[0].ID); err != nil {
		t.Fatal(err)
	}
	// The project-scoped key sees its project only.
	ps, _, err := c.Projects.GetAllProjects(ctx, &mongodbatlas.ListOptions{IncludeCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if ps.TotalCount != 1 || len(ps.Results) != 1 || ps.Results[0].ID != e.project().Hex() {
		t.Errorf("projects %+v", ps)
	}
	// Another organization's project looks like no project at all.
	_, _, err = c.Checkpoints.List(ctx, e.other.ID.Hex(), "Cluster0", nil)
	var apiErr *mongodbatlas.ErrorResponse
	if !asErr(err, &apiErr) || apiErr.HTTPCode != 404 || apiErr.ErrorCode != "GROUP_NOT_FOUND" {
		t.Errorf("other org: %v", err)
	}
	// A wrong private key fails with the client's own error for a 401.
	bad, _ := mongodbatlas.New(&http.Client{Transport: mdigest.NewTransport(pub, "wrong")}, mongodbatlas.SetBaseURL(e.srv.URL+"/"))
	if _, res, err := bad.Checkpoints.List(ctx, e.project().Hex(), "Cluster0", nil); err == nil || res == nil || res.StatusCode != 401 {
		t.Errorf("wrong key: %v", err)
	}
}

func asErr(err error, target **mongodbatlas.ErrorResponse) bool {
	e, ok := err.(*mongodbatlas.ErrorResponse)
	if ok {
		*target = e
	}
	return ok
}

// TestDigest covers every way Digest credentials are accepted or refused.
func TestDigest(t *testing.T) {
	e := newEnv(t)
	pub, priv := e.key(e.org(), orgRole(backup.OrgReadOnly))
	path := e.v2()

	t.Run("md5 and sha-256", func(t *testing.T) {
		for _, alg := range []string{"MD5", "SHA-256"} {
			if res := e.digestGet(path, alg, pub, priv, e.challenge(), 1); res.status != 200 {
				t.Errorf("%s: %d %s", alg, res.status, res.body)
			}
		}
	})
	t.Run("nonce reuse with growing nc needs no new challenge", func(t *testing.T) {
		nonce := e.challenge()
		for nc := 1; nc <= 5; nc++ {
			if res := e.digestGet(path, "MD5", pub, priv, nonce, nc); res.status != 200 {
				t.Fatalf("nc %d: %d", nc, res.status)
			}
		}
	})
	refused := func(t *testing.T, res response, stale bool) {
		t.Helper()
		if res.status != 401 || res.body != challengeBody {
			t.Fatalf("%d %.300q, want the 401 challenge", res.status, res.body)
		}
		if got := strings.HasSuffix(res.header.Get("Www-Authenticate"), "stale=true"); got != stale {
			t.Errorf("stale=%v, want %v: %q", got, stale, res.header.Get("Www-Authenticate"))
		}
	}
	t.Run("replayed nc", func(t *testing.T) {
		nonce := e.challenge()
		if res := e.digestGet(path, "MD5", pub, priv, nonce, 1); res.status != 200 {
			t.Fatal(res.status)
		}
		refused(t, e.digestGet(path, "MD5", pub, priv, nonce, 1), false)
	})
	t.Run("wrong private key", func(t *testing.T) {
		refused(t, e.digestGet(path, "MD5", pub, "00000000-0000-4000-8000-000000000000", e.challenge(), 1), false)
	})
	t.Run("unknown public key", func(t *testing.T) {
		refused(t, e.digestGet(path, "MD5", "zzzzzzzz", priv, e.challenge(), 1), false)
	})
	t.Run("stale nonce", func(t *testing.T) {
		nonce := e.challenge()
		e.clk.Advance(61 * time.Second)
		refused(t, e.digestGet(path, "MD5", pub, priv, nonce, 1), true)
	})
	t.Run("stale nonce with a wrong key is not told stale", func(t *testing.T) {
		nonce := e.challenge()
		e.clk.Advance(61 * time.Second)
		refused(t, e.digestGet(path, "MD5", pub, "wrong", nonce, 1), false)
	})
	t.Run("forged nonce", func(t *testing.T) {
		refused(t, e.digestGet(path, "MD5", pub, priv, "+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6", 1), false)
	})
	t.Run("uri of another request", func(t *testing.T) {
		h := digestAuth("MD5", pub, priv, "GET", "/api/atlas/v2/groups", e.challenge(), 1)
		refused(t, e.do("GET", path, nil, "Accept", v2Accept, "Authorization", h), false)
	})
	t.Run("deleted key is refused at once", func(t *testing.T) {
		p2, k2 := e.key(e.org(), orgRole(backup.OrgReadOnly))
		if res := e.digestGet(path, "MD5", p2, k2, e.challenge(), 1); res.status != 200 {
			t.Fatal(res.status)
		}
		keys, _ := e.db.APIKeys(backup.WithPrincipal(context.Background(), backup.System), e.org())
		for _, k := range keys {
			if k.PublicKey == p2 {
				if err := e.db.DeleteAPIKey(backup.WithPrincipal(context.Background(), backup.System), k.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		refused(t, e.digestGet(path, "MD5", p2, k2, e.challenge(), 1), false)
	})
}

// TestMalformedAuthorization: every malformed or foreign Authorization
// header gets the challenge, never a 400 or a 500.
func TestMalformedAuthorization(t *testing.T) {
	e := newEnv(t)
	pub, priv := e.key(e.org(), orgRole(backup.OrgReadOnly))
	good := digestAuth("MD5", pub, priv, "GET", e.v2(), e.challenge(), 1)
	for _, tt := range []struct {
		name string
		hdr  []string
	}{
		{"empty", []string{""}},
		{"scheme only", []string{"Digest"}},
		{"basic", []string{"Basic YWJjOmRlZg=="}},
		{"unknown scheme", []string{"Negotiate abc"}},
		{"digest garbage", []string{"Digest a=b=c"}},
		{"unterminated quote", []string{`Digest username="abc`}},
		{"missing response", []string{strings.Replace(good, `response="`, `x="`, 1)}},
		{"unknown algorithm", []string{strings.Replace(good, "algorithm=MD5", "algorithm=SHA-512-256", 1)}},
		{"qop auth-int", []string{strings.Replace(good, "qop=auth", "qop=auth-int", 1)}},
		{"nc not hex", []string{strings.Replace(good, "nc=00000001", "nc=0000000g", 1)}},
		{"realm", []string{strings.Replace(good, `realm="MMS Public API"`, `realm="Other"`, 1)}},
		{"two headers", []string{good, good}},
		{"bearer empty", []string{"Bearer "}},
		{"bearer junk", []string{"Bearer !!!"}},
		{"bearer not a jwt", []string{"Bearer abc.def.ghi"}},
		{"non-utf8", []string{"Digest username=\"\xff\xfe\""}},
		{"huge", []string{"Digest username=\"" + strings.Repeat("a", 9000) + "\""}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{"Accept", v2Accept}
			for _, h := range tt.hdr {
				hdr = append(hdr, "Authorization", h)
			}
			res := e.do("GET", e.v2(), nil, hdr...)
			if res.status != 401 || res.body != challengeBody {
				t.Errorf("%d %q", res.status, res.body)
			}
		})
	}
}

// TestIsolation: roles and organizations decide what a key may read, and
// a project of another organization answers exactly like a missing one.
func TestIsolation(t *testing.T) {
	e := newEnv(t)
	type key struct{ pub, priv string }
	mk := func(org backup.ObjectID, g []backup.Grant) key { p, k := e.key(org, g); return key{p, k} }
	owner := mk(e.org(), orgRole(backup.OrgOwner))
	member := mk(e.org(), orgRole(backup.OrgMember))
	observer := mk(e.org(), projectRole(e.project(), backup.ProjectObservabilityViewer))
	outsider := mk(e.other.OrgID, orgRole(backup.OrgOwner))
	theirs := "/api/atlas/v2/groups/" + e.other.ID.Hex()
	missing := "/api/atlas/v2/groups/6a00000000000000000000ff"
	const unauthorized = `{"detail":"Current user is not authorized to perform this action.","error":401,"errorCode":"USER_UNAUTHORIZED","parameters":[],"reason":"Unauthorized"}`
	for _, tt := range []struct {
		name   string
		k      key
		path   string
		status int
		body   string // exact, when set
	}{
		{"owner reads", owner, e.v2(), 200, ""},
		{"project role reads", observer, e.v2(), 200, ""},
		{"project role reads v1.0", observer, "/api/atlas/v1.0/groups/" + e.project().Hex() + "/clusters/Cluster0/backupCheckpoints", 200, ""},
		{"project role reads cloud manager", observer, "/api/public/v1.0/groups/" + e.project().Hex() + "/clusters/" + e.ds.Clusters[0].ID.Hex() + "/checkpoints", 200, ""},
		{"org member alone may not read", member, e.v2(), 401, unauthorized},
		{"org member alone may not read the project", member, "/api/atlas/v2/groups/" + e.project().Hex(), 401, unauthorized},
		{"org member alone may not list clusters", member, "/api/atlas/v2/groups/" + e.project().Hex() + "/clusters", 401, unauthorized},
		{"outsider: checkpoints", outsider, e.v2(), 404, ""},
		{"outsider: unknown cluster name gives nothing away", outsider, "/api/atlas/v2/groups/" + e.project().Hex() + "/clusters/Nope/backupCheckpoints", 404, ""},
		{"outsider: project", outsider, "/api/atlas/v2/groups/" + e.project().Hex(), 404, ""},
		{"outsider: clusters", outsider, "/api/atlas/v2/groups/" + e.project().Hex() + "/clusters", 404, ""},
		{"insider: other org's project", owner, theirs, 404, `{"detail":"No group with ID ` + e.other.ID.Hex() + ` exists.","error":404,"errorCode":"GROUP_NOT_FOUND","parameters":["` + e.other.ID.Hex() + `"],"reason":"Not Found"}`},
		{"insider: missing project", owner, missing, 404, `{"detail":"No group with ID 6a00000000000000000000ff exists.","error":404,"errorCode":"GROUP_NOT_FOUND","parameters":["6a00000000000000000000ff"],"reason":"Not Found"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.digestGet(tt.path, "MD5", tt.k.pub, tt.k.priv, e.challenge(), 1)
			if res.status != tt.status || tt.body != "" && res.body != tt.body {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if tt.status == 404 && !strings.Contains(res.body, `"GROUP_NOT_FOUND"`) {
				t.Errorf("not GROUP_NOT_FOUND: %s", res.body)
			}
		})
	}
	t.Run("project lists are scoped", func(t *testing.T) {
		for _, tt := range []struct {
			k    key
			want []string
		}{
			{owner, []string{e.project().Hex()}},
			{observer, []string{e.project().Hex()}},
			{member, nil},
			{outsider, []string{e.other.ID.Hex()}},
		} {
			res := e.digestGet("/api/atlas/v2/groups?includeCount=true", "MD5", tt.k.pub, tt.k.priv, e.challenge(), 1)
			ids := regexp.MustCompile(`"id":"([0-9a-f]{24})","links"`).FindAllStringSubmatch(res.body, -1)
			if res.status != 200 || len(ids) != len(tt.want) || !strings.Contains(res.body, fmt.Sprintf(`"totalCount":%d`, len(tt.want))) {
				t.Fatalf("%s: %d %s", tt.k.pub, res.status, res.body)
			}
			for i, m := range ids {
				if m[1] != tt.want[i] {
					t.Errorf("%s: project %s, want %s", tt.k.pub, m[1], tt.want[i])
				}
			}
		}
	})
}

// TestAccessList: a key with an access list is refused from elsewhere
// with the service's 403; X-Forwarded-For counts only when trusted.
func TestAccessList(t *testing.T) {
	const far = `{"detail":"IP address 127.0.0.1 is not allowed to access this resource.","error":403,"errorCode":"IP_ADDRESS_NOT_ON_ACCESS_LIST","parameters":["127.0.0.1"],"reason":"Forbidden"}`
	t.Run("untrusted forwarded-for", func(t *testing.T) {
		e := newEnv(t)
		near, nearKey := e.key(e.org(), orgRole(backup.OrgReadOnly), "127.0.0.0/8")
		farPub, farKey := e.key(e.org(), orgRole(backup.OrgReadOnly), "192.0.2.0/24", "2001:db8::/32")
		if res := e.digestGet(e.v2(), "MD5", near, nearKey, e.challenge(), 1); res.status != 200 {
			t.Errorf("allowed address: %d", res.status)
		}
		res := e.digestGet(e.v2(), "MD5", farPub, farKey, e.challenge(), 1)
		if res.status != 403 || res.body != far || res.header.Get("X-Error-Code") != "IP_ADDRESS_NOT_ON_ACCESS_LIST" {
			t.Errorf("%d %s", res.status, res.body)
		}
		h := digestAuth("MD5", farPub, farKey, "GET", e.v2(), e.challenge(), 1)
		if res := e.do("GET", e.v2(), nil, "Accept", v2Accept, "Authorization", h, "X-Forwarded-For", "192.0.2.9"); res.status != 403 {
			t.Errorf("X-Forwarded-For trusted by default: %d", res.status)
		}
	})
	t.Run("trusted forwarded-for", func(t *testing.T) {
		e := newEnv(t, func(c *auth.Config) { c.TrustForwardedFor = true })
		pub, key := e.key(e.org(), orgRole(backup.OrgReadOnly), "192.0.2.0/24")
		for _, tt := range []struct {
			xff    []string
			status int
		}{
			{[]string{"192.0.2.9"}, 200},
			{[]string{"198.51.100.1, 192.0.2.9"}, 200}, // the proxy appended the last one
			{[]string{"192.0.2.9, 198.51.100.1"}, 403}, // a client cannot prepend its way in
			{[]string{"192.0.2.9", "198.51.100.1"}, 403},
			{[]string{"not an address"}, 403},
			{nil, 403}, // no header: the peer address, 127.0.0.1
		} {
			hdr := []string{"Accept", v2Accept, "Authorization", digestAuth("MD5", pub, key, "GET", e.v2(), e.challenge(), 1)}
			for _, x := range tt.xff {
				hdr = append(hdr, "X-Forwarded-For", x)
			}
			if res := e.do("GET", e.v2(), nil, hdr...); res.status != tt.status {
				t.Errorf("X-Forwarded-For %q: %d %s, want %d", tt.xff, res.status, res.body, tt.status)
			}
		}
	})
}

// TestRateLimit: a key over its limit gets the service's 429 body, and
// other keys are not affected.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.RateLimit = auth.Limit{Requests: 3, Window: time.Minute} })
	pub, key := e.key(e.org(), orgRole(backup.OrgReadOnly))
	other, otherKey := e.key(e.org(), orgRole(backup.OrgReadOnly))
	nonce := e.challenge()
	for nc := 1; nc <= 3; nc++ {
		if res := e.digestGet(e.v2(), "MD5", pub, key, nonce, nc); res.status != 200 {
			t.Fatalf("request %d: %d", nc, res.status)
		}
	}
	res := e.digestGet(e.v2(), "MD5", pub, key, nonce, 4)
	want := `{"detail":"Resource ` + e.v2() + ` is limited to 3 requests every 1 minutes.","error":429,"errorCode":"RATE_LIMITED","parameters":["` + e.v2() + `",3,1],"reason":"Too Many Requests"}`
	if res.status != 429 || res.body != want {
		t.Fatalf("%d %s\nwant %s", res.status, res.body, want)
	}
	if res := e.digestGet(e.v2(), "MD5", other, otherKey, e.challenge(), 1); res.status != 200 {
		t.Errorf("another key: %d", res.status)
	}
	e.clk.Advance(20 * time.Second) // one request's worth of the window
	if res := e.digestGet(e.v2(), "MD5", pub, key, nonce, 5); res.status != 200 {
		t.Errorf("after 20 s: %d", res.status)
	}
}
