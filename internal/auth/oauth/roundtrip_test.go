package oauth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// storeRevocations stands in for the store-backed RevocationChecker.
type storeRevocations struct {
	mu  sync.Mutex
	ids map[string]int64 // jti → exp, which is how long a store must keep it
}

func (s *storeRevocations) IsRevoked(_ context.Context, jti string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[jti]
	return ok, nil
}

// testServer wires the helpers the way the HTTP pipeline is expected to:
// the token and revoke endpoints, and one bearer-protected resource.
func testServer(t *testing.T, clients map[string]string) (*httptest.Server, *storeRevocations) {
	rev := &storeRevocations{ids: map[string]int64{}}
	tk, err := NewTokens(Config{Keys: ring(t, GenerateKey()), Issuer: "https://checkpointd.test", Revocations: rev})
	if err != nil {
		t.Fatal(err)
	}
	authenticate := func(id, secret string) bool {
		ok, err := CompareSecret(clients[id], secret) // "" for unknown ids: same cost
		return err == nil && ok
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, err := ParseTokenRequest(r)
		var e *Error
		if errors.As(err, &e) {
			e.Write(w)
			return
		}
		if !authenticate(id, secret) {
			ErrInvalidClient.Write(w)
			return
		}
		tok, c, err := tk.Issue(id)
		if err != nil {
			WriteError(w, 500, CodeServerError, DescUnexpected)
			return
		}
		WriteToken(w, tok, c.ExpiresIn())
	})
	mux.HandleFunc("POST /api/oauth/revoke", func(w http.ResponseWriter, r *http.Request) {
		id, secret, tok, err := ParseRevokeRequest(r)
		var e *Error
		if errors.As(err, &e) {
			e.Write(w)
			return
		}
		if !authenticate(id, secret) {
			ErrInvalidClient.Write(w)
			return
		}
		if c, err := tk.Inspect(tok); err == nil && c.Subject == id {
			rev.mu.Lock()
			rev.ids[c.ID] = c.ExpiresAt
			rev.mu.Unlock()
		}
		WriteRevoked(w)
	})
	mux.HandleFunc("GET /api/atlas/v2/groups", func(w http.ResponseWriter, r *http.Request) {
		tok, ok := BearerToken(r.Header.Get("Authorization"))
		if !ok {
			w.WriteHeader(401)
			return
		}
		c, err := tk.Verify(r.Context(), tok)
		if err != nil {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(c.Subject))
	})
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv, rev
}

func TestClientCredentialsRoundTrip(t *testing.T) {
	id, secret := NewClientID(), NewClientSecret()
	srv, rev := testServer(t, map[string]string{id: HashSecret(secret)})
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server at %s", srv.URL)
	}
	ctx := context.Background()
	// Exactly the Atlas SDK's configuration (auth/clientcredentials.NewConfig).
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/api/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}

	tok, err := cfg.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.Extra("expires_in") != 3600.0 || time.Until(tok.Expiry) < 59*time.Minute || strings.Count(tok.AccessToken, ".") != 2 {
		t.Fatalf("token %+v", tok)
	}

	get := func(c *http.Client) int {
		resp, err := c.Get(srv.URL + "/api/atlas/v2/groups")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// The token source attaches "Authorization: Bearer <token>".
	if code := get(oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))); code != 200 {
		t.Fatalf("with token: %d", code)
	}
	if code := get(http.DefaultClient); code != 401 {
		t.Fatalf("without token: %d", code)
	}

	// Revoke as the SDK's RevokeToken does it.
	revoke := func(clientSecret string) int {
		v := url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/oauth/revoke", strings.NewReader(v.Encode()))
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(clientSecret))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := revoke(NewClientSecret()); code != 401 {
		t.Fatalf("revoke with a wrong secret: %d", code)
	}
	if code := get(oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))); code != 200 {
		t.Fatalf("revoked by a stranger: %d", code)
	}
	if code := revoke(secret); code != 200 {
		t.Fatalf("revoke: %d", code)
	}
	if len(rev.ids) != 1 {
		t.Fatalf("revocations %v", rev.ids)
	}
	if code := get(oauth2.NewClient(ctx, oauth2.StaticTokenSource(tok))); code != 401 {
		t.Fatalf("after revoke: %d", code)
	}
	// A new token works again.
	if code := get(cfg.Client(ctx)); code != 200 {
		t.Fatalf("fresh token: %d", code)
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	id, secret := NewClientID(), NewClientSecret()
	srv, _ := testServer(t, map[string]string{id: HashSecret(secret)})
	for name, cfg := range map[string]clientcredentials.Config{
		"wrong secret": {ClientID: id, ClientSecret: NewClientSecret()},
		"unknown id":   {ClientID: NewClientID(), ClientSecret: secret},
		"malformed id": {ClientID: "someone", ClientSecret: secret},
		"empty secret": {ClientID: id},
		"secret as id": {ClientID: secret, ClientSecret: id},
		"body instead": {ClientID: id, ClientSecret: NewClientSecret(), AuthStyle: oauth2.AuthStyleInParams},
	} {
		t.Run(name, func(t *testing.T) {
			cfg.TokenURL = srv.URL + "/api/oauth/token"
			if cfg.AuthStyle == 0 {
				cfg.AuthStyle = oauth2.AuthStyleInHeader
			}
			_, err := cfg.Token(context.Background())
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.Response.StatusCode != 401 || re.ErrorCode != "invalid_client" || re.ErrorDescription != DescInvalidCredentials {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// Credentials in the body are accepted (RFC 6749 §2.3.1).
	cfg := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: srv.URL + "/api/oauth/token", AuthStyle: oauth2.AuthStyleInParams}
	if _, err := cfg.Token(context.Background()); err != nil {
		t.Fatalf("in params: %v", err)
	}
	// x/oauth2 sends scope when asked; it is ignored, as no scope exists.
	cfg.Scopes = []string{"openid"}
	if _, err := cfg.Token(context.Background()); err != nil {
		t.Fatalf("with scope: %v", err)
	}
}
