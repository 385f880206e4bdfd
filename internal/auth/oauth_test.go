package auth_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas/mongodbatlas"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
)

func (e *env) oauthConfig(id, secret string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: e.srv.URL + "/api/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}
}

// token mints an access token through the endpoint.
func (e *env) token(id, secret string) string {
	e.t.Helper()
	tok, err := e.oauthConfig(id, secret).Token(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return tok.AccessToken
}

func (e *env) bearerGet(path, tok string) response {
	e.t.Helper()
	return e.do("GET", path, nil, "Accept", v2Accept, "Authorization", "Bearer "+tok)
}

// TestServiceAccount: the client credentials flow as the Atlas SDK runs
// it (golang.org/x/oauth2, Basic credentials), then the official client
// reading checkpoints with the token.
func TestServiceAccount(t *testing.T) {
	e := newEnv(t)
	id, secret := e.account(e.org(), projectRole(e.project(), backup.ProjectReadOnly))

	res := e.do("POST", "/api/oauth/token", strings.NewReader("grant_type=client_credentials"),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json",
		"Authorization", "Basic "+basic(id, secret))
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if res.status != 200 || json.Unmarshal([]byte(res.body), &body) != nil || body.ExpiresIn != 3600 || body.TokenType != "Bearer" || body.AccessToken == "" {
		t.Fatalf("token: %d %s", res.status, res.body)
	}

	hc := e.oauthConfig(id, secret).Client(context.Background())
	c, err := mongodbatlas.New(hc, mongodbatlas.SetBaseURL(e.srv.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := c.Checkpoints.List(context.Background(), e.project().Hex(), "Cluster1", &mongodbatlas.ListOptions{IncludeCount: true})
	if err != nil || l.TotalCount != e.ds.Checkpoints["Cluster1"] {
		t.Fatalf("list with a bearer token: %v %+v", err, l)
	}
	if res := e.bearerGet("/api/atlas/v2/groups/"+e.other.ID.Hex(), body.AccessToken); res.status != 404 {
		t.Errorf("other org's project: %d", res.status)
	}
}

func basic(id, secret string) string {
	return b64(url.QueryEscape(id) + ":" + url.QueryEscape(secret))
}

// TestTokenEndpointRefusals: every wrong token request gets the OAuth
// error body the service sends.
func TestTokenEndpointRefusals(t *testing.T) {
	e := newEnv(t)
	id, secret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	const invalidClient = `{"error_description":"Invalid credentials provided.","error":"invalid_client"}`
	form := "application/x-www-form-urlencoded"
	for _, tt := range []struct {
		name   string
		method string
		body   string
		hdr    []string
		status int
		want   string // substring of the body
	}{
		{"wrong secret", "POST", "grant_type=client_credentials", []string{"Content-Type", form, "Authorization", "Basic " + basic(id, "mdb_sa_sk_"+strings.Repeat("x", 40))}, 401, invalidClient},
		{"unknown client", "POST", "grant_type=client_credentials", []string{"Content-Type", form, "Authorization", "Basic " + basic("mdb_sa_id_"+strings.Repeat("0", 24), secret)}, 401, invalidClient},
		{"no credentials", "POST", "grant_type=client_credentials", []string{"Content-Type", form}, 401, invalidClient},
		{"malformed basic", "POST", "grant_type=client_credentials", []string{"Content-Type", form, "Authorization", "Basic !!!"}, 401, invalidClient},
		{"other grant", "POST", "grant_type=password", []string{"Content-Type", form, "Authorization", "Basic " + basic(id, secret)}, 400, `"unsupported_grant_type"`},
		{"no grant", "POST", "", []string{"Content-Type", form, "Authorization", "Basic " + basic(id, secret)}, 400, `"invalid_request"`},
		{"json body", "POST", `{"grant_type":"client_credentials"}`, []string{"Content-Type", "application/json", "Authorization", "Basic " + basic(id, secret)}, 400, `"invalid_request"`},
		{"oversized body", "POST", "grant_type=client_credentials&x=" + strings.Repeat("a", 9000), []string{"Content-Type", form, "Authorization", "Basic " + basic(id, secret)}, 400, `"invalid_request"`},
		{"GET", "GET", "", []string{"Authorization", "Basic " + basic(id, secret)}, 405, `"invalid_request"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.do(tt.method, "/api/oauth/token", strings.NewReader(tt.body), tt.hdr...)
			if res.status != tt.status || !strings.Contains(res.body, tt.want) || res.header.Get("Content-Type") != "application/json" {
				t.Errorf("%d %s", res.status, res.body)
			}
		})
	}
	t.Run("expired secret", func(t *testing.T) {
		e.clk.Advance(366 * 24 * time.Hour)
		res := e.do("POST", "/api/oauth/token", strings.NewReader("grant_type=client_credentials"),
			"Content-Type", form, "Authorization", "Basic "+basic(id, secret))
		if res.status != 401 || res.body != invalidClient {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
}

// TestTokenLifecycle: expiry, revocation (of one's own tokens only) and a
// deleted service account end a token's use.
func TestTokenLifecycle(t *testing.T) {
	e := newEnv(t)
	id, secret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	otherID, otherSecret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	refused := func(t *testing.T, res response) {
		t.Helper()
		if res.status != 401 || res.body != challengeBody {
			t.Errorf("%d %.300s, want the 401 challenge", res.status, res.body)
		}
	}
	revoke := func(cid, csecret, tok string) response {
		return e.do("POST", "/api/oauth/revoke", strings.NewReader("token="+tok+"&token_type_hint=access_token"),
			"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic "+basic(cid, csecret))
	}

	t.Run("expired", func(t *testing.T) {
		tok := e.token(id, secret)
		// Twice: the second time the token is one verified before, whose
		// times alone are checked again.
		for range 2 {
			if res := e.bearerGet(e.v2(), tok); res.status != 200 {
				t.Fatal(res.status)
			}
		}
		e.clk.Advance(time.Hour + time.Minute)
		refused(t, e.bearerGet(e.v2(), tok))
	})
	t.Run("revoked", func(t *testing.T) {
		tok := e.token(id, secret)
		if res := e.bearerGet(e.v2(), tok); res.status != 200 {
			t.Fatal(res.status)
		}
		// Another client's revoke is answered 200 and changes nothing.
		if res := revoke(otherID, otherSecret, tok); res.status != 200 || res.body != "" {
			t.Fatalf("foreign revoke: %d %q", res.status, res.body)
		}
		if res := e.bearerGet(e.v2(), tok); res.status != 200 {
			t.Fatalf("token revoked by another client: %d", res.status)
		}
		if res := revoke(id, secret, tok); res.status != 200 || res.body != "" {
			t.Fatalf("revoke: %d %q", res.status, res.body)
		}
		refused(t, e.bearerGet(e.v2(), tok))
		// A revoke with a wrong secret is refused.
		if res := revoke(id, "mdb_sa_sk_"+strings.Repeat("y", 40), e.token(id, secret)); res.status != 401 {
			t.Errorf("revoke with a wrong secret: %d", res.status)
		}
		// Junk tokens are "revoked" too (RFC 7009).
		if res := revoke(id, secret, "abc"); res.status != 200 {
			t.Errorf("revoke junk: %d", res.status)
		}
	})
	t.Run("tampered", func(t *testing.T) {
		tok := e.token(id, secret)
		i := strings.LastIndexByte(tok, '.')
		bad := tok[:i+1] + strings.Repeat("A", len(tok)-i-1)
		refused(t, e.bearerGet(e.v2(), bad))
	})
	t.Run("deleted account", func(t *testing.T) {
		tok := e.token(otherID, otherSecret)
		if err := e.db.DeleteServiceAccount(backup.WithPrincipal(context.Background(), backup.System), otherID); err != nil {
			t.Fatal(err)
		}
		refused(t, e.bearerGet(e.v2(), tok))
	})
	t.Run("access list applies to tokens", func(t *testing.T) {
		fid, fsecret := e.account(e.org(), orgRole(backup.OrgReadOnly), "192.0.2.0/24")
		tok := e.token(fid, fsecret) // minting is not restricted
		if res := e.bearerGet(e.v2(), tok); res.status != 403 || !strings.Contains(res.body, "IP_ADDRESS_NOT_ON_ACCESS_LIST") {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
}

// TestTokenRateLimit: the token endpoint limits per address and client,
// with the ApiError body captured from the service.
func TestTokenRateLimit(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.TokenRateLimit = auth.Limit{Requests: 2, Window: time.Minute} })
	id, secret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	for i := 0; i < 2; i++ {
		e.token(id, secret)
	}
	res := e.do("POST", "/api/oauth/token", strings.NewReader("grant_type=client_credentials"),
		"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic "+basic(id, secret))
	const want = `{"detail":"Resource /api/oauth/token is limited to 2 requests every 1 minutes.","error":429,"errorCode":"RATE_LIMITED","parameters":["/api/oauth/token",2,1],"reason":"Too Many Requests"}`
	if res.status != 429 || res.body != want {
		t.Errorf("%d %s", res.status, res.body)
	}
}

// TestSharedData: a second instance over the same file accepts the first
// one's nonces and tokens and sees its revocations.
func TestSharedData(t *testing.T) {
	e := newEnv(t)
	pub, key := e.key(e.org(), orgRole(backup.OrgReadOnly))
	id, secret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	second, err := auth.New(context.Background(), auth.Config{Store: e.db, Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	nonce := e.challenge()
	req := func(h string) *httpRequest { return newRequest(e.v2(), h) }
	if p, err := second.Authenticate(req(digestAuth("MD5", pub, key, "GET", e.v2(), nonce, 1)).r); err != nil || p.ID != pub {
		t.Fatalf("nonce of the first instance: %v", err)
	}
	tok := e.token(id, secret)
	if p, err := second.Authenticate(req("Bearer " + tok).r); err != nil || p.ID != id {
		t.Fatalf("token of the first instance: %v", err)
	}
	if err := e.db.RevokeToken(backup.WithPrincipal(context.Background(), backup.System), mustJTI(t, tok), e.clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Authenticate(req("Bearer " + tok).r); err == nil {
		t.Fatal("revoked token accepted")
	}
}

// TestRefresh: with Config.Refresh, changes made elsewhere take effect
// within Refresh, and a revoke through this instance at once.
func TestRefresh(t *testing.T) {
	e := newEnv(t, func(c *auth.Config) { c.Refresh = time.Second })
	id, secret := e.account(e.org(), orgRole(backup.OrgReadOnly))
	tok := e.token(id, secret)
	if res := e.bearerGet(e.v2(), tok); res.status != 200 {
		t.Fatal(res.status)
	}
	// Revoked by another instance (straight in the store): still accepted
	// here until Refresh has passed, then refused.
	if err := e.db.RevokeToken(backup.WithPrincipal(context.Background(), backup.System), mustJTI(t, tok), e.clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if res := e.bearerGet(e.v2(), tok); res.status != 200 {
		t.Errorf("within Refresh: %d", res.status)
	}
	e.clk.Advance(time.Second)
	if res := e.bearerGet(e.v2(), tok); res.status != 401 {
		t.Errorf("after Refresh: %d", res.status)
	}
	// Revoked through this instance: refused by the next request.
	tok2 := e.token(id, secret)
	if res := e.bearerGet(e.v2(), tok2); res.status != 200 {
		t.Fatal(res.status)
	}
	res := e.do("POST", "/api/oauth/revoke", strings.NewReader("token="+tok2),
		"Content-Type", "application/x-www-form-urlencoded", "Authorization", "Basic "+basic(id, secret))
	if res.status != 200 {
		t.Fatal(res.status)
	}
	if res := e.bearerGet(e.v2(), tok2); res.status != 401 {
		t.Errorf("after a local revoke: %d", res.status)
	}
	// A clock that steps back does not extend trust.
	pub, key := e.key(e.org(), orgRole(backup.OrgReadOnly))
	if res := e.digestGet(e.v2(), "MD5", pub, key, e.challenge(), 1); res.status != 200 {
		t.Fatal(res.status)
	}
	keys, _ := e.db.APIKeys(backup.WithPrincipal(context.Background(), backup.System), e.org())
	for _, k := range keys {
		if err := e.db.DeleteAPIKey(backup.WithPrincipal(context.Background(), backup.System), k.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.clk.Set(e.clk.Now().Add(-time.Hour))
	if res := e.digestGet(e.v2(), "MD5", pub, key, e.challenge(), 1); res.status != 401 {
		t.Errorf("deleted key after the clock stepped back: %d", res.status)
	}
}
