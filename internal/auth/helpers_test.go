package auth_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// challengeBody is the service's 401 body (api-fidelity §1.1).
const challengeBody = "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"

const v2Accept = "application/vnd.atlas.2023-01-01+json"

// env is one server over a demo data set, with authentication, on
// 127.0.0.1, plus a second organization with a project of its own.
type env struct {
	t     testing.TB
	db    *sqlite.DB
	clk   *clock.Virtual
	auth  *auth.Authenticator
	srv   *httptest.Server
	ds    demo.Dataset
	other backup.Project // a project of another organization
}

func (e *env) org() backup.ObjectID     { return e.ds.Project.OrgID }
func (e *env) project() backup.ObjectID { return e.ds.Project.ID }

// v2 is the path of the demo project's Cluster0 checkpoints on v2.
func (e *env) v2() string {
	return "/api/atlas/v2/groups/" + e.project().Hex() + "/clusters/Cluster0/backupCheckpoints"
}

type option func(*auth.Config)

func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	// One virtual clock for the store and authentication, as a server
	// has one: the store forgets revocations by it.
	clk := clock.NewVirtual(time.Date(2026, 8, 18, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"), sqlite.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, clk: clk, ds: ds}
	otherOrg := backup.Organization{ID: backup.MustParseObjectID("6a0000000000000000000001"), Name: "Other", Created: clk.Now()}
	e.other = backup.Project{ID: backup.MustParseObjectID("6a0000000000000000000002"), OrgID: otherOrg.ID, Name: "Theirs", Created: clk.Now()}
	if err := db.CreateOrganization(ctx, otherOrg); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProject(ctx, e.other); err != nil {
		t.Fatal(err)
	}
	cfg := auth.Config{Store: db, Clock: clk}
	for _, o := range opts {
		o(&cfg)
	}
	if e.auth, err = auth.New(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{Auth: e.auth, OAuth: e.auth}, db)
	e.srv = httptest.NewServer(api)
	t.Cleanup(e.srv.Close)
	return e
}

var (
	keySeq int
	ids    = backup.NewIDSource()
)

// key creates an API key of org with grants and returns its public and
// private key.
func (e *env) key(org backup.ObjectID, grants []backup.Grant, access ...string) (string, string) {
	e.t.Helper()
	keySeq++
	pub := "key" + strings.Repeat(string(rune('a'+keySeq%26)), 5)
	priv := "00000000-0000-4000-8000-" + strings.Repeat(string(rune('0'+keySeq%10)), 12)
	k := backup.APIKey{ID: ids.New(e.clk.Now()), OrgID: org, PublicKey: pub, Description: "test", Grants: grants, Created: e.clk.Now()}
	for _, a := range access {
		k.AccessList = append(k.AccessList, netip.MustParsePrefix(a))
	}
	h := digest.NewHashes(pub, digest.DefaultRealm, priv)
	if err := e.db.CreateAPIKey(backup.WithPrincipal(context.Background(), backup.System), k, backup.DigestHA1{MD5: h.MD5, SHA256: h.SHA256}); err != nil {
		e.t.Fatal(err)
	}
	return pub, priv
}

func orgRole(r backup.Role) []backup.Grant { return []backup.Grant{{Role: r}} }

func projectRole(p backup.ObjectID, r backup.Role) []backup.Grant {
	return []backup.Grant{{Role: r, ProjectID: p}}
}

// account creates a service account of org with grants and one secret,
// and returns its client id and secret.
func (e *env) account(org backup.ObjectID, grants []backup.Grant, access ...string) (string, string) {
	e.t.Helper()
	id, secret := oauth.NewClientID(), oauth.NewClientSecret()
	sa := backup.ServiceAccount{ClientID: id, OrgID: org, Name: "robot", Grants: grants, Created: e.clk.Now()}
	for _, a := range access {
		sa.AccessList = append(sa.AccessList, netip.MustParsePrefix(a))
	}
	s := backup.ServiceAccountSecret{ID: ids.New(e.clk.Now()), Hash: oauth.HashSecret(secret), Created: e.clk.Now(), Expires: e.clk.Now().Add(365 * 24 * time.Hour)}
	if err := e.db.CreateServiceAccount(backup.WithPrincipal(context.Background(), backup.System), sa, s); err != nil {
		e.t.Fatal(err)
	}
	return id, secret
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with the given headers (name, value pairs).
func (e *env) do(method, path string, body io.Reader, hdr ...string) response {
	e.t.Helper()
	return doWith(e.t, http.DefaultClient, method, e.srv.URL+path, body, hdr...)
}

func doWith(t testing.TB, c *http.Client, method, url string, body io.Reader, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(b)}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// httpRequest is a request for calling Authenticate directly.
type httpRequest struct{ r *http.Request }

func newRequest(path, authorization string) *httpRequest {
	r := httptest.NewRequest("GET", path, nil)
	r.RemoteAddr = "127.0.0.1:1234"
	r.Header.Set("Authorization", authorization)
	return &httpRequest{r}
}

// mustJTI reads a token's jti without verifying it.
func mustJTI(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.JTI == "" {
		t.Fatalf("claims %s: %v", raw, err)
	}
	return c.JTI
}
