package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary strings to Verify. Nothing may panic, every
// rejection must match exactly one sentinel, and nothing but the exact
// tokens that were issued may pass: a mutation that still verifies would
// be a malleable or forgeable token.
func FuzzVerify(f *testing.F) {
	tk, _, _ := fixture(f, ring(f, keyA, keyB))
	// Deterministic tokens: the fuzzing workers are other processes, which
	// must agree on what was issued.
	issued := map[string]bool{}
	for _, k := range []Key{keyA, keyB} {
		tok := forge(`{"alg":"HS256","typ":"JWT","kid":"`+k.ID+`"}`, goodClaims, sha256.New, k.Secret)
		issued[tok] = true
		f.Add(tok)
		f.Add(tok + "=")
		f.Add(strings.Replace(tok, ".", "..", 1))
	}
	f.Add(forge(`{"alg":"none","typ":"JWT","kid":"key-a"}`, goodClaims, nil, nil))
	f.Add(forge(`{"alg":"HS256","typ":"JWT","kid":"key-c"}`, goodClaims, sha256.New, keyC.Secret))
	f.Add(forge(goodHeaderA, `{"iss":1}`, sha256.New, keyA.Secret))
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := tk.Verify(context.Background(), tok)
		if err == nil {
			if !issued[tok] {
				t.Fatalf("accepted a token never issued: %q", tok)
			}
			if c.Subject != testClient {
				t.Fatalf("claims %+v", c)
			}
			return
		}
		n := 0
		for _, s := range []error{ErrInvalidToken, ErrExpiredToken, ErrRevokedToken} {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error %v matches %d sentinels", err, n)
		}
	})
}

// FuzzBearerToken checks BearerToken's contract on arbitrary headers.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b.c", "Bearer  x", "Bearer a=b", "Bearer ==", "Basic YTpi", "Bearer " + strings.Repeat("x", MaxTokenLen)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := BearerToken(h)
		if !ok {
			if tok != "" {
				t.Fatal("token returned with !ok")
			}
			return
		}
		if tok == "" || len(tok) > MaxTokenLen || !strings.EqualFold(h, "Bearer "+tok) || strings.ContainsAny(tok, " \t\r\n,\"") {
			t.Fatalf("BearerToken(%q) = %q", h, tok)
		}
		if again, ok := BearerToken("Bearer " + tok); !ok || again != tok {
			t.Fatalf("not idempotent: %q", tok)
		}
		if strings.TrimRight(tok, "=") == "" {
			t.Fatalf("only padding: %q", tok)
		}
	})
}

// FuzzParseTokenRequest checks that any request yields either valid
// credentials or an *Error with a status and code the endpoint may send.
func FuzzParseTokenRequest(f *testing.F) {
	f.Add(form, basic(tID, tSecret), "grant_type=client_credentials")
	f.Add(form, "", "grant_type=client_credentials&client_id="+tID+"&client_secret="+tSecret)
	f.Add("text/plain", "Basic !!", "grant_type=x")
	f.Fuzz(func(t *testing.T, ct, auth, body string) {
		defer func(start time.Time) {
			if time.Since(start) > time.Second {
				t.Fatal("slow")
			}
		}(time.Now())
		r := request("", "", body)
		r.Header["Content-Type"] = []string{ct}
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		id, secret, err := ParseTokenRequest(r)
		if err == nil {
			if !ValidClientID(id) || !ValidClientSecret(secret) {
				t.Fatalf("accepted %q %q", id, secret)
			}
			return
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("not an *Error: %v", err)
		}
		switch {
		case e.Status == 400 && (e.Code == CodeInvalidRequest || e.Code == CodeUnsupportedGrantType):
		case e.Status == 401 && e.Code == CodeInvalidClient:
		default:
			t.Fatalf("unexpected %+v", e)
		}
	})
}

// FuzzDecodeClaims checks the claims fast path against encoding/json: when
// the fast path accepts a payload, encoding/json must read the same claims
// from it.
func FuzzDecodeClaims(f *testing.F) {
	tk, _, _ := fixture(f, ring(f, keyA))
	f.Add([]byte(goodClaims))
	f.Add([]byte(strings.Replace(goodClaims, `"iat":1750000000`, `"iat":01750000000`, 1)))
	f.Add([]byte(strings.Replace(goodClaims, `}`, `,"x":1}`, 1)))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, ok := tk.decodeClaims(b)
		if !ok {
			return
		}
		var want Claims
		if err := json.Unmarshal(b, &want); err != nil || c != want {
			t.Fatalf("fast path %+v, encoding/json %+v %v", c, want, err)
		}
	})
}
