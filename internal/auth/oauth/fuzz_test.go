package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
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

// FuzzParsePHC: any stored hash string is parsed without panicking; what
// it accepts is within the bounds that keep verification cheap, and
// written back in the PHC form it parses to the same parameters.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=0,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5")
	f.Add("$argon2id$v=19$m=4294967295,t=4294967295,p=255$$")
	f.Add("$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$a2V5")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			if p != nil || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("parsePHC(%q) = %v, %v", s, p, err)
			}
			return
		}
		if p.memory == 0 || p.memory > maxArgonMemory || p.time == 0 || p.time > maxArgonTime ||
			p.threads == 0 || p.threads > maxArgonThreads || len(p.salt) < 8 || len(p.key) < 16 {
			t.Fatalf("parsePHC(%q) accepted %+v", s, p)
		}
		again := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
			base64.RawStdEncoding.EncodeToString(p.salt), base64.RawStdEncoding.EncodeToString(p.key))
		q, err := parsePHC(again)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("%q parsed to %+v; written back as %q it parses to %+v, %v", s, p, again, q, err)
		}
	})
}
