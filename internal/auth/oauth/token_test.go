package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
)

// revocations is the tests' RevocationChecker: a set of revoked ids and an
// optional failure.
type revocations struct {
	ids map[string]bool
	err error
}

func (r *revocations) IsRevoked(_ context.Context, jti string) (bool, error) {
	return r.ids[jti], r.err
}

var (
	keyA = Key{ID: "key-a", Secret: []byte(strings.Repeat("A", 32))}
	keyB = Key{ID: "key-b", Secret: []byte(strings.Repeat("B", 32))}
	keyC = Key{ID: "key-c", Secret: []byte(strings.Repeat("C", 32))}
	t0   = time.Unix(1_750_000_000, 0)
)

const testClient = "mdb_sa_id_0123456789abcdef01234567"

// fixture returns Tokens over ring with a clock the test can move.
func fixture(t testing.TB, ring *KeyRing) (*Tokens, *clock.Virtual, *revocations) {
	t.Helper()
	now := clock.NewVirtual(t0)
	rev := &revocations{ids: map[string]bool{}}
	tk, err := NewTokens(Config{Keys: ring, Issuer: "https://checkpointd.test", Clock: now, Revocations: rev})
	if err != nil {
		t.Fatal(err)
	}
	return tk, now, rev
}

func ring(t testing.TB, active Key, old ...Key) *KeyRing {
	t.Helper()
	kr, err := NewKeyRing(active, old...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// forge builds a token from raw header and claims JSON, MACed with the
// given hash and secret (nil secret: no signature at all).
func forge(header, claims string, h func() hash.Hash, secret []byte) string {
	in := b64(header) + "." + b64(claims)
	if secret == nil {
		return in + "."
	}
	m := hmac.New(h, secret)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

const (
	goodHeaderA = `{"alg":"HS256","typ":"JWT","kid":"key-a"}`
	goodClaims  = `{"iss":"https://checkpointd.test","sub":"` + testClient + `","aud":"api://admin","jti":"0123456789abcdef0123456789abcdef","iat":1750000000,"exp":1750003600}`
)

func TestIssueVerify(t *testing.T) {
	tk, now, _ := fixture(t, ring(t, keyA))
	tok, c, err := tk.Issue(testClient)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != testClient || c.IssuedAt != t0.Unix() || c.ExpiresIn() != 3600 || c.Audience != DefaultAudience || !validJTI(c.ID) {
		t.Fatalf("claims %+v", c)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != b64(goodHeaderA) {
		t.Fatalf("token %s", tok)
	}
	if _, ok := BearerToken("Bearer " + tok); !ok {
		t.Fatal("issued token is not a valid bearer token")
	}
	got, err := tk.Verify(context.Background(), tok)
	if err != nil || got != c {
		t.Fatalf("Verify: %+v %v", got, err)
	}
	// Still good until exp + leeway, expired from then on.
	now.Set(t0.Add(time.Hour + DefaultLeeway - time.Second))
	if _, err := tk.Verify(context.Background(), tok); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	now.Set(t0.Add(time.Hour + DefaultLeeway))
	if _, err := tk.Verify(context.Background(), tok); !errors.Is(err, ErrExpiredToken) || errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired: %v", err)
	}
	// The hand-built good token passes: the forge helper is faithful, so
	// the rejections below are for the reason each case names.
	now.Set(t0)
	if _, err := tk.Verify(context.Background(), forge(goodHeaderA, goodClaims, sha256.New, keyA.Secret)); err != nil {
		t.Fatalf("forge helper: %v", err)
	}
	// Another issuer's Tokens on the same key rejects it.
	other, _ := NewTokens(Config{Keys: ring(t, keyA), Issuer: "https://elsewhere", Revocations: &revocations{}, Clock: clock.NewVirtual(t0)})
	if _, err := other.Verify(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("other issuer: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	tk, _, rev := fixture(t, ring(t, keyA, keyB))
	// A token whose signature has a character that base64url and standard
	// base64 spell differently, for the "std base64" case.
	var good string
	for !strings.ContainsAny(good[strings.LastIndexByte(good, '.')+1:], "-_") {
		good, _, _ = tk.Issue(testClient)
	}
	gp := strings.Split(good, ".")
	claims := func(old, new string) string { return strings.Replace(goodClaims, old, new, 1) }
	rev.ids["ffffffffffffffffffffffffffffffff"] = true

	for _, tt := range []struct {
		name, token string
		want        error
	}{
		{"empty", "", ErrInvalidToken},
		{"too long", good + strings.Repeat("a", MaxTokenLen), ErrInvalidToken},
		{"one segment", gp[0], ErrInvalidToken},
		{"two segments", gp[0] + "." + gp[1], ErrInvalidToken},
		{"four segments", good + ".x", ErrInvalidToken},
		{"empty signature", gp[0] + "." + gp[1] + ".", ErrInvalidToken},
		{"tampered claims", gp[0] + "." + b64(claims(testClient, "mdb_sa_id_ffffffffffffffffffffffff")) + "." + gp[2], ErrInvalidToken},
		{"tampered signature", gp[0] + "." + gp[1] + "." + flip(gp[2]), ErrInvalidToken},
		{"padded signature", good + "=", ErrInvalidToken},
		{"non-canonical signature bits", gp[0] + "." + gp[1] + "." + gp[2][:42] + nonCanonical(gp[2][42]), ErrInvalidToken},
		{"signature in std base64", gp[0] + "." + gp[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(gp[2]), ErrInvalidToken},
		{"forged with unknown secret", forge(goodHeaderA, goodClaims, sha256.New, []byte(strings.Repeat("X", 32))), ErrInvalidToken},
		{"alg none", forge(`{"alg":"none","typ":"JWT","kid":"key-a"}`, goodClaims, nil, nil), ErrInvalidToken},
		{"alg None", forge(`{"alg":"None","typ":"JWT","kid":"key-a"}`, goodClaims, nil, nil), ErrInvalidToken},
		{"alg none, no kid", forge(`{"alg":"none","typ":"JWT"}`, goodClaims, nil, nil), ErrInvalidToken},
		{"alg HS512 with the right key", forge(`{"alg":"HS512","typ":"JWT","kid":"key-a"}`, goodClaims, sha512.New, keyA.Secret), ErrInvalidToken},
		{"alg RS256 (confusion)", forge(`{"alg":"RS256","typ":"JWT","kid":"key-a"}`, goodClaims, sha256.New, keyA.Secret), ErrInvalidToken},
		{"alg ES512 like the service", forge(`{"alg":"ES512","typ":"JWT","kid":"key-a"}`, goodClaims, sha256.New, keyA.Secret), ErrInvalidToken},
		{"rotated out key", forge(`{"alg":"HS256","typ":"JWT","kid":"key-c"}`, goodClaims, sha256.New, keyC.Secret), ErrInvalidToken},
		{"kid of one key, signed with another", forge(goodHeaderA, goodClaims, sha256.New, keyB.Secret), ErrInvalidToken},
		{"no kid", forge(`{"alg":"HS256","typ":"JWT"}`, goodClaims, sha256.New, keyA.Secret), ErrInvalidToken},
		{"extra header field", forge(`{"alg":"HS256","typ":"JWT","kid":"key-a","jku":"https://evil"}`, goodClaims, sha256.New, keyA.Secret), ErrInvalidToken},
		{"reordered header", forge(`{"typ":"JWT","alg":"HS256","kid":"key-a"}`, goodClaims, sha256.New, keyA.Secret), ErrInvalidToken},
		{"header not JSON", forge(`not json`, goodClaims, sha256.New, keyA.Secret), ErrInvalidToken},
		{"header not base64", "!!!." + gp[1] + "." + gp[2], ErrInvalidToken},
		{"claims not JSON", forge(goodHeaderA, `{"iss":`, sha256.New, keyA.Secret), ErrInvalidToken},
		{"claims with string exp", forge(goodHeaderA, claims(`"exp":1750003600`, `"exp":"1750003600"`), sha256.New, keyA.Secret), ErrInvalidToken},
		{"claims with float exp", forge(goodHeaderA, claims(`"exp":1750003600`, `"exp":1750003600.5`), sha256.New, keyA.Secret), ErrInvalidToken},
		{"wrong issuer", forge(goodHeaderA, claims("checkpointd.test", "evil.test"), sha256.New, keyA.Secret), ErrInvalidToken},
		{"wrong audience", forge(goodHeaderA, claims("api://admin", "api://other"), sha256.New, keyA.Secret), ErrInvalidToken},
		{"audience array", forge(goodHeaderA, claims(`"api://admin"`, `["api://admin"]`), sha256.New, keyA.Secret), ErrInvalidToken},
		{"subject not a client id", forge(goodHeaderA, claims(testClient, "admin"), sha256.New, keyA.Secret), ErrInvalidToken},
		{"no jti", forge(goodHeaderA, claims(`"jti":"0123456789abcdef0123456789abcdef",`, ""), sha256.New, keyA.Secret), ErrInvalidToken},
		{"no exp", forge(goodHeaderA, claims(`,"exp":1750003600`, ""), sha256.New, keyA.Secret), ErrInvalidToken},
		{"exp before iat", forge(goodHeaderA, claims(`"exp":1750003600`, `"exp":1749999999`), sha256.New, keyA.Secret), ErrInvalidToken},
		{"lifetime over MaxTTL", forge(goodHeaderA, claims(`"exp":1750003600`, `"exp":1760000000`), sha256.New, keyA.Secret), ErrInvalidToken},
		{"issued in the future", forge(goodHeaderA, claims(`"iat":1750000000,"exp":1750003600`, `"iat":1750000100,"exp":1750003700`), sha256.New, keyA.Secret), ErrInvalidToken},
		{"not before in the future", forge(goodHeaderA, claims(`"iat":1750000000`, `"iat":1750000000,"nbf":1750000100`), sha256.New, keyA.Secret), ErrInvalidToken},
		{"expired", forge(goodHeaderA, claims(`"iat":1750000000,"exp":1750003600`, `"iat":1749990000,"exp":1749999970`), sha256.New, keyA.Secret), ErrExpiredToken},
		{"revoked jti", forge(goodHeaderA, claims("0123456789abcdef0123456789abcdef", "ffffffffffffffffffffffffffffffff"), sha256.New, keyA.Secret), ErrRevokedToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := tk.Verify(context.Background(), tt.token)
			t.Log(err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			for _, other := range []error{ErrInvalidToken, ErrExpiredToken, ErrRevokedToken} {
				if other != tt.want && errors.Is(err, other) {
					t.Fatalf("err %v also matches %v", err, other)
				}
			}
			if c != (Claims{}) {
				t.Fatalf("claims returned with error: %+v", c)
			}
		})
	}
}

// flip changes the signature's first character.
func flip(sig string) string {
	if sig[0] == 'A' {
		return "B" + sig[1:]
	}
	return "A" + sig[1:]
}

// nonCanonical returns another spelling of a final base64url character
// that differs only in the two bits that 32 bytes leave unused.
func nonCanonical(c byte) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alpha, c)
	return string(alpha[i^1])
}

func TestVerifyRevocationFailureIsNotABadToken(t *testing.T) {
	tk, _, rev := fixture(t, ring(t, keyA))
	tok, c, _ := tk.Issue(testClient)
	rev.ids[c.ID] = true
	if _, err := tk.Verify(context.Background(), tok); !errors.Is(err, ErrRevokedToken) {
		t.Fatalf("revoked: %v", err)
	}
	// Inspect (for the revoke endpoint) does not consult revocation.
	if _, err := tk.Inspect(tok); err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	boom := errors.New("store down")
	rev.err = boom
	_, err := tk.Verify(context.Background(), tok)
	if !errors.Is(err, boom) || errors.Is(err, ErrInvalidToken) || errors.Is(err, ErrRevokedToken) {
		t.Fatalf("store failure: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	// Generation 1 signs with A.
	tk1, _, _ := fixture(t, ring(t, keyA))
	old, _, _ := tk1.Issue(testClient)
	// Generation 2 signs with B and still verifies A's tokens.
	tk2, _, _ := fixture(t, ring(t, keyB, keyA))
	if tk2.keys.ActiveKeyID() != "key-b" {
		t.Fatal("active key")
	}
	fresh, _, _ := tk2.Issue(testClient)
	if !strings.HasPrefix(fresh, b64(`{"alg":"HS256","typ":"JWT","kid":"key-b"}`)+".") {
		t.Fatalf("fresh token not signed with B: %s", fresh)
	}
	for _, tok := range []string{old, fresh} {
		if _, err := tk2.Verify(context.Background(), tok); err != nil {
			t.Fatalf("generation 2: %v", err)
		}
	}
	// Generation 3 drops A: its tokens are invalid.
	tk3, _, _ := fixture(t, ring(t, keyB))
	if _, err := tk3.Verify(context.Background(), old); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("retired key: %v", err)
	}
	if _, err := tk3.Verify(context.Background(), fresh); err != nil {
		t.Fatalf("generation 3: %v", err)
	}
}

func TestKeyRingRejects(t *testing.T) {
	short := Key{ID: "k", Secret: make([]byte, MinKeyLen-1)}
	for name, f := range map[string]func() error{
		"short secret": func() error { _, err := NewKeyRing(short); return err },
		"empty id":     func() error { _, err := NewKeyRing(Key{Secret: keyA.Secret}); return err },
		"quote in id":  func() error { _, err := NewKeyRing(Key{ID: `a"b`, Secret: keyA.Secret}); return err },
		"long id":      func() error { _, err := NewKeyRing(Key{ID: strings.Repeat("a", 65), Secret: keyA.Secret}); return err },
		"duplicate id": func() error { _, err := NewKeyRing(keyA, Key{ID: "key-a", Secret: keyB.Secret}); return err },
		"no keys":      func() error { _, err := NewTokens(Config{Issuer: "x", Revocations: &revocations{}}); return err },
		"no issuer": func() error {
			_, err := NewTokens(Config{Keys: ring(t, keyA), Revocations: &revocations{}})
			return err
		},
		"no revocation": func() error {
			_, err := NewTokens(Config{Keys: ring(t, keyA), Issuer: "x"})
			return err
		},
		"fractional ttl": func() error {
			_, err := NewTokens(Config{Keys: ring(t, keyA), Issuer: "x", Revocations: &revocations{}, TTL: 1500 * time.Millisecond})
			return err
		},
		"ttl over max": func() error {
			_, err := NewTokens(Config{Keys: ring(t, keyA), Issuer: "x", Revocations: &revocations{}, TTL: MaxTTL + time.Second})
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	k := GenerateKey()
	if _, err := NewKeyRing(k); err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	tk, _, _ := fixture(t, ring(t, keyA))
	if _, _, err := tk.Issue("nobody"); err == nil {
		t.Fatal("issued for a non-client id")
	}
}

func TestKeyRingCopiesSecret(t *testing.T) {
	secret := []byte(strings.Repeat("S", 32))
	tk, _, _ := fixture(t, ring(t, Key{ID: "s", Secret: secret}))
	tok, _, _ := tk.Issue(testClient)
	secret[0] = 'X'
	if _, err := tk.Verify(context.Background(), tok); err != nil {
		t.Fatalf("mutating the caller's slice changed the key: %v", err)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	tk, _, _ := fixture(t, ring(t, keyA, keyB))
	tok, _, _ := tk.Issue(testClient)
	done := make(chan error)
	for range 8 {
		go func() {
			for range 200 {
				if _, err := tk.Verify(context.Background(), tok); err != nil {
					done <- err
					return
				}
				if _, err := tk.Verify(context.Background(), tok[:len(tok)-2]+"AA"); err == nil {
					done <- errors.New("forged accepted")
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestDecodeClaimsFastPath(t *testing.T) {
	tk, _, _ := fixture(t, ring(t, keyA))
	if c, ok := tk.decodeClaims([]byte(goodClaims)); !ok || c.Subject != testClient || c.ID != "0123456789abcdef0123456789abcdef" || c.IssuedAt != 1750000000 || c.ExpiresAt != 1750003600 {
		t.Fatalf("%+v %v", c, ok)
	}
	// Issuers and audiences that JSON escapes still take the fast path.
	odd, _ := NewTokens(Config{Keys: ring(t, keyA), Issuer: `https://a.test/<x>&"y"`, Audience: "ü\u2028", Revocations: &revocations{}})
	tok, want, _ := odd.Issue(testClient)
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if c, ok := odd.decodeClaims(payload); !ok || c != want {
		t.Fatalf("%+v %v, want %+v", c, ok, want)
	}
	if c, err := odd.Verify(context.Background(), tok); err != nil || c != want {
		t.Fatalf("Verify: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(goodClaims, `"iat":1750000000`, `"iat":01750000000`, 1),
		strings.Replace(goodClaims, `"iat":1750000000`, `"iat":-1`, 1),
		strings.Replace(goodClaims, `"iat":1750000000`, `"iat":1750000000.0`, 1),
		strings.Replace(goodClaims, `}`, ` }`, 1),
		strings.Replace(goodClaims, `"iat":1750000000`, `"iat":1750000000,"nbf":1`, 1),
		goodClaims[:len(goodClaims)-1],
	} {
		if _, ok := tk.decodeClaims([]byte(bad)); ok {
			t.Errorf("fast path took %s", bad)
		}
	}
}
