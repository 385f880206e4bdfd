package oauth

import (
	"errors"
	"strings"
	"testing"
)

func TestSecretHashRoundTrip(t *testing.T) {
	sk := NewClientSecret()
	h := HashSecret(sk)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q: not the expected PHC string", h)
	}
	if strings.Contains(h, sk[10:]) {
		t.Fatal("hash contains the secret")
	}
	if ok, err := CompareSecret(h, sk); !ok || err != nil {
		t.Fatalf("right secret: %v %v", ok, err)
	}
	if ok, err := CompareSecret(h, NewClientSecret()); ok || err != nil {
		t.Fatalf("wrong secret: %v %v", ok, err)
	}
	if h2 := HashSecret(sk); h2 == h {
		t.Fatal("two hashes of one secret are equal: salt not random")
	}
	if SecretNeedsRehash(h) {
		t.Fatal("fresh hash needs rehash")
	}
	// Unknown client: compared against the dummy, never matches.
	if ok, err := CompareSecret("", sk); ok || err != nil {
		t.Fatalf("dummy: %v %v", ok, err)
	}
}

func TestSecretOlderParameters(t *testing.T) {
	// A hash made with other (cheaper) parameters still verifies, because
	// they are read from the string, and is flagged for rehashing.
	p := argonParams{memory: 64, time: 1, threads: 1, salt: []byte("0123456789abcdef")}
	p.key = p.derive("s3cret", 16)
	h := p.encode()
	if ok, err := CompareSecret(h, "s3cret"); !ok || err != nil {
		t.Fatalf("old params: %v %v", ok, err)
	}
	if !SecretNeedsRehash(h) {
		t.Fatal("old params not flagged for rehash")
	}
}

func TestSecretMalformedHash(t *testing.T) {
	const salt, key = "MDEyMzQ1Njc4OWFiY2RlZg", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY"
	for _, h := range []string{
		"x",
		"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1$" + salt + "$" + key,
		"$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=0,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + key, // 4 GiB
		"$argon2id$v=19$m=64,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=255$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$",
		"$argon2id$v=19$m=64,t=1,p=1$$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$",
		"$argon2id$v=19$m=-1,t=1,p=1$" + salt + "$" + key,
	} {
		if ok, err := CompareSecret(h, "s"); ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%q: %v %v", h, ok, err)
		}
		if !SecretNeedsRehash(h) {
			t.Errorf("%q: no rehash", h)
		}
	}
}
