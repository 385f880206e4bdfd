package oauth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const (
	tID     = "mdb_sa_id_0123456789abcdef01234567"
	tSecret = "mdb_sa_sk_0123456789abcdefghijklmnopqrstuvwxyz-_AB"
	form    = "application/x-www-form-urlencoded"
)

// basic is the Authorization value x/oauth2 sends with AuthStyleInHeader.
func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func request(ct, auth, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/oauth/token", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func TestParseTokenRequest(t *testing.T) {
	good := basic(tID, tSecret)
	for _, tt := range []struct {
		name, ct, auth, body string
		status               int
		code                 string
	}{
		{"sdk form", form, good, "grant_type=client_credentials", 200, ""},
		{"charset parameter", form + "; charset=utf-8", good, "grant_type=client_credentials", 200, ""},
		{"upper-case media type", "Application/X-WWW-Form-Urlencoded", good, "grant_type=client_credentials", 200, ""},
		{"lower-case basic scheme", form, "basic" + good[5:], "grant_type=client_credentials", 200, ""},
		{"credentials in body", form, "", "grant_type=client_credentials&client_id=" + tID + "&client_secret=" + tSecret, 200, ""},
		{"extra scope ignored", form, good, "grant_type=client_credentials&scope=x", 200, ""},

		{"no content type", "", good, "grant_type=client_credentials", 400, CodeInvalidRequest},
		{"json content type", "application/json", good, `{"grant_type":"client_credentials"}`, 400, CodeInvalidRequest},
		{"multipart", "multipart/form-data; boundary=x", good, "grant_type=client_credentials", 400, CodeInvalidRequest},
		{"malformed content type", "application/x-www-form-urlencoded; =", good, "grant_type=client_credentials", 400, CodeInvalidRequest},
		{"oversized body", form, good, "grant_type=client_credentials&pad=" + strings.Repeat("a", MaxFormBytes), 400, CodeInvalidRequest},
		{"malformed body escape", form, good, "grant_type=client_credentials&x=%zz", 400, CodeInvalidRequest},
		{"semicolon separator", form, good, "grant_type=client_credentials;x=y", 400, CodeInvalidRequest},
		{"repeated grant_type", form, good, "grant_type=client_credentials&grant_type=client_credentials", 400, CodeInvalidRequest},
		{"missing grant_type", form, good, "", 400, CodeInvalidRequest},
		{"password grant", form, good, "grant_type=password&username=a&password=b", 400, CodeUnsupportedGrantType},
		{"refresh grant", form, good, "grant_type=refresh_token&refresh_token=x", 400, CodeUnsupportedGrantType},
		{"grant in upper case", form, good, "grant_type=CLIENT_CREDENTIALS", 400, CodeUnsupportedGrantType},
		{"both header and body credentials", form, good, "grant_type=client_credentials&client_id=" + tID, 400, CodeInvalidRequest},

		{"missing auth", form, "", "grant_type=client_credentials", 401, CodeInvalidClient},
		{"bearer instead of basic", form, "Bearer abc", "grant_type=client_credentials", 401, CodeInvalidClient},
		{"digest instead of basic", form, `Digest username="x"`, "grant_type=client_credentials", 401, CodeInvalidClient},
		{"basic not base64", form, "Basic !!!", "grant_type=client_credentials", 401, CodeInvalidClient},
		{"basic without colon", form, "Basic " + base64.StdEncoding.EncodeToString([]byte(tID)), "grant_type=client_credentials", 401, CodeInvalidClient},
		{"basic bad escape", form, "Basic " + base64.StdEncoding.EncodeToString([]byte(tID+":%zz")), "grant_type=client_credentials", 401, CodeInvalidClient},
		{"basic empty", form, "Basic ", "grant_type=client_credentials", 401, CodeInvalidClient},
		{"basic malformed id", form, basic("admin", tSecret), "grant_type=client_credentials", 401, CodeInvalidClient},
		{"basic malformed secret", form, basic(tID, "hunter2"), "grant_type=client_credentials", 401, CodeInvalidClient},
		{"basic swapped", form, basic(tSecret, tID), "grant_type=client_credentials", 401, CodeInvalidClient},
		{"body id without secret", form, "", "grant_type=client_credentials&client_id=" + tID, 401, CodeInvalidClient},
		{"body secret without id", form, "", "grant_type=client_credentials&client_secret=" + tSecret, 401, CodeInvalidClient},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, err := ParseTokenRequest(request(tt.ct, tt.auth, tt.body))
			if tt.status == 200 {
				if err != nil || id != tID || secret != tSecret {
					t.Fatalf("got %q %q %v", id, secret, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.status || e.Code != tt.code {
				t.Fatalf("err = %v, want %d %s", err, tt.status, tt.code)
			}
			if id != "" || secret != "" {
				t.Fatal("credentials returned with an error")
			}
			if e.Code == CodeInvalidClient && e.Description != DescInvalidCredentials {
				t.Fatalf("description %q", e.Description)
			}
		})
	}
}

func TestParseTokenRequestTwoAuthorizationHeaders(t *testing.T) {
	r := request(form, basic(tID, tSecret), "grant_type=client_credentials")
	r.Header.Add("Authorization", basic(tID, tSecret))
	if _, _, err := ParseTokenRequest(r); !errors.Is(err, error(ErrInvalidClient)) {
		t.Fatalf("err = %v", err)
	}
}

func TestParseTokenRequestIgnoresQuery(t *testing.T) {
	r := request(form, "", "")
	r.URL.RawQuery = "grant_type=client_credentials&client_id=" + tID + "&client_secret=" + tSecret
	if _, _, err := ParseTokenRequest(r); err == nil {
		t.Fatal("credentials in the query string accepted")
	}
}

// A body that claims to be small but is not is still cut off.
func TestParseTokenRequestLyingLength(t *testing.T) {
	r := request(form, basic(tID, tSecret), "grant_type=client_credentials&pad="+strings.Repeat("a", 3*MaxFormBytes))
	r.ContentLength = -1
	var e *Error
	if _, _, err := ParseTokenRequest(r); !errors.As(err, &e) || e.Description != descBodyTooLarge {
		t.Fatalf("err = %v", err)
	}
}

func TestParseRevokeRequest(t *testing.T) {
	good := basic(tID, tSecret)
	for _, tt := range []struct {
		name, ct, auth, body string
		status               int
		code                 string
	}{
		{"sdk form", form, good, "token=a.b.c&token_type_hint=access_token", 200, ""},
		{"no hint", form, good, "token=a.b.c", 200, ""},
		{"other hint", form, good, "token=a.b.c&token_type_hint=refresh_token", 200, ""},
		{"no token", form, good, "token_type_hint=access_token", 400, CodeInvalidRequest},
		{"repeated token", form, good, "token=a.b.c&token=d.e.f", 400, CodeInvalidRequest},
		{"wrong content type", "text/plain", good, "token=a.b.c", 400, CodeInvalidRequest},
		{"oversized", form, good, "token=" + strings.Repeat("a", MaxFormBytes), 400, CodeInvalidRequest},
		{"missing auth", form, "", "token=a.b.c", 401, CodeInvalidClient},
		{"malformed basic", form, "Basic %%%", "token=a.b.c", 401, CodeInvalidClient},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id, secret, tok, err := ParseRevokeRequest(request(tt.ct, tt.auth, tt.body))
			if tt.status == 200 {
				if err != nil || id != tID || secret != tSecret || tok != "a.b.c" {
					t.Fatalf("got %q %q %q %v", id, secret, tok, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tt.status || e.Code != tt.code {
				t.Fatalf("err = %v, want %d %s", err, tt.status, tt.code)
			}
		})
	}
}

func checkNoStore(t *testing.T, h http.Header) {
	t.Helper()
	if h.Get("Cache-Control") != "no-store" || h.Get("Pragma") != "no-cache" {
		t.Fatalf("cache headers %v", h)
	}
}

func TestWriteToken(t *testing.T) {
	w := httptest.NewRecorder()
	WriteToken(w, "h.p.s", 3600)
	if w.Code != 200 || w.Body.String() != `{"access_token":"h.p.s","expires_in":3600,"token_type":"Bearer"}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Content-Length") != "64" {
		t.Fatalf("headers %v", w.Header())
	}
	checkNoStore(t, w.Header())
}

func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	ErrInvalidClient.Write(w)
	if w.Code != 401 || w.Body.String() != `{"error_description":"Invalid credentials provided.","error":"invalid_client"}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", w.Header())
	}
	checkNoStore(t, w.Header())
	w = httptest.NewRecorder()
	WriteError(w, 500, CodeServerError, DescUnexpected)
	if w.Code != 500 || w.Body.String() != `{"error_description":"Unexpected error.","error":"server_error"}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = httptest.NewRecorder()
	WriteError(w, 400, CodeInvalidRequest, `quote " and <tag>`)
	if w.Body.String() != `{"error_description":"quote \" and \u003ctag\u003e","error":"invalid_request"}` {
		t.Fatalf("escaping: %s", w.Body)
	}
}

func TestWriteRevoked(t *testing.T) {
	w := httptest.NewRecorder()
	WriteRevoked(w)
	if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "0" {
		t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
	}
	checkNoStore(t, w.Header())
}

func TestBearerToken(t *testing.T) {
	long := strings.Repeat("a", MaxTokenLen)
	for _, tt := range []struct {
		header, tok string
		ok          bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"BeArEr a-b_c.d~e+f/g==", "a-b_c.d~e+f/g==", true},
		{"Bearer " + long, long, true},
		{"Bearer " + long + "a", "", false},
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"", "", false},
		{"Bearer  abc", "", false},
		{"Bearer\tabc", "", false},
		{"Bearer abc def", "", false},
		{"Bearer abc ", "", false},
		{" Bearer abc", "", false},
		{"Bearer =abc", "", false},
		{"Bearer ==", "", false},
		{"Bearer ab=c", "", false},
		{"Bearer abc\x00", "", false},
		{"Bearer abç", "", false},
		{"Bearerabc", "", false},
		{"Basic abc", "", false},
		{"Bearer, abc", "", false},
		{`Bearer "abc"`, "", false},
	} {
		tok, ok := BearerToken(tt.header)
		if tok != tt.tok || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v", tt.header, tok, ok)
		}
	}
}
