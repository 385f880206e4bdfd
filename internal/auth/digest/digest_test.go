package digest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
)

// TestChallengeExact pins the challenge to the service's, byte for byte
// but for the nonce (api-fidelity §6.1).
func TestChallengeExact(t *testing.T) {
	s, _ := newTestServer(t, nil)
	for _, tt := range []struct {
		stale bool
		want  string
	}{
		{false, `Digest realm="MMS Public API", domain="", nonce="NONCE", algorithm=MD5, qop="auth", stale=false`},
		{true, `Digest realm="MMS Public API", domain="", nonce="NONCE", algorithm=MD5, qop="auth", stale=true`},
	} {
		got := s.Challenge(tt.stale)
		n := nonceOf(t, got)
		if !regexp.MustCompile(`^[A-Za-z0-9+/]{32}$`).MatchString(n) {
			t.Errorf("nonce %q is not 32 base64 characters", n)
		}
		if got = strings.Replace(got, n, "NONCE", 1); got != tt.want {
			t.Errorf("Challenge(%v)\n got %s\nwant %s", tt.stale, got, tt.want)
		}
		cs := s.Challenges(tt.stale)
		if len(cs) != 1 || strings.Replace(cs[0], nonceOf(t, cs[0]), "NONCE", 1) != tt.want {
			t.Errorf("Challenges(%v) = %q", tt.stale, cs)
		}
	}
}

func TestChallengesBothAlgorithms(t *testing.T) {
	for _, tt := range []struct {
		algs []Algorithm
		want []string
	}{
		{[]Algorithm{MD5, SHA256}, []string{"MD5", "SHA-256"}},
		{[]Algorithm{SHA256, MD5}, []string{"SHA-256", "MD5"}},
		{[]Algorithm{SHA256}, []string{"SHA-256"}},
	} {
		s, _ := newTestServer(t, func(c *Config) { c.Algorithms = tt.algs })
		cs := s.Challenges(false)
		if len(cs) != len(tt.want) {
			t.Fatalf("%v: %q", tt.algs, cs)
		}
		n := nonceOf(t, cs[0])
		for i, c := range cs {
			want := `Digest realm="MMS Public API", domain="", nonce="` + n + `", algorithm=` + tt.want[i] + `, qop="auth", stale=false`
			if c != want {
				t.Errorf("%v[%d]\n got %s\nwant %s", tt.algs, i, c, want)
			}
		}
		if s.Challenge(false) == cs[0] {
			t.Error("nonce reused across challenges")
		}
		if !strings.Contains(s.Challenge(false), "algorithm="+tt.want[0]+",") {
			t.Error("Challenge does not use the first algorithm")
		}
	}
}

func TestNoncesUnique(t *testing.T) {
	s, _ := newTestServer(t, nil) // frozen clock: every nonce in the same millisecond
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		n := nonceOf(t, s.Challenge(false))
		if seen[n] {
			t.Fatalf("nonce %q issued twice", n)
		}
		seen[n] = true
	}
}

func TestNonceLayout(t *testing.T) {
	s, clk := newTestServer(t, func(c *Config) { c.Instance = 0x0a0b0c0d; c.Shared = newSharedGuard() })
	n := nonceOf(t, s.Challenge(false))
	raw, err := base64.StdEncoding.DecodeString(n)
	if err != nil || len(raw) != 24 {
		t.Fatalf("%q: %v", n, err)
	}
	info, ok := s.check(n)
	if !ok || info.issued != clk.Now().UnixMilli() || info.instance != 0x0a0b0c0d || info.shared {
		t.Fatalf("check = %+v %v, want issued %d, instance 0x0a0b0c0d, unshared", info, ok, clk.Now().UnixMilli())
	}
	s.SetShared(true)
	if info, ok := s.check(nonceOf(t, s.Challenge(false))); !ok || !info.shared || info.instance != 0x0a0b0c0d {
		t.Fatalf("after SetShared(true): check = %+v %v, want a shared nonce of the instance", info, ok)
	}
	// Another instance with the same secret accepts it; one with another
	// secret does not.
	other, _ := newTestServer(t, nil)
	if _, ok := other.check(n); !ok {
		t.Error("instance with the same secret refused the nonce")
	}
	third, _ := newTestServer(t, func(c *Config) { c.Secret = []byte("another secret, sixteen+ bytes") })
	if _, ok := third.check(n); ok {
		t.Error("instance with another secret accepted the nonce")
	}
}

// TestMACMatchesCryptoHMAC checks the hand-expanded HMAC against
// crypto/hmac, for keys shorter than, equal to and longer than a block.
func TestMACMatchesCryptoHMAC(t *testing.T) {
	body := []byte("0123456789ab")
	for _, n := range []int{16, 32, 63, 64, 65, 200} {
		key := []byte(strings.Repeat("k", n))
		k := newMACKey(key)
		got := k.sum(body)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(nonceLabel))
		m.Write(body)
		if want := m.Sum(nil); !hmac.Equal(got[:], want) {
			t.Errorf("key length %d: %x, want %x", n, got, want)
		}
	}
}

func TestHA1(t *testing.T) {
	h := NewHashes("Mufasa", "http-auth@example.org", "Circle of Life")
	if h.MD5 != HA1(MD5, "Mufasa", "http-auth@example.org", "Circle of Life") || len(h.MD5) != 32 || len(h.SHA256) != 64 {
		t.Fatalf("%+v", h)
	}
	if HA1(0, "a", "b", "c") != "" || h.For(0) != "" || h.For(MD5) != h.MD5 || h.For(SHA256) != h.SHA256 {
		t.Error("unknown algorithm not empty")
	}
	// RFC 7616 §3.9.1's worked example, both algorithms: the responses
	// printed in the RFC.
	for _, tt := range []struct {
		alg  Algorithm
		want string
	}{
		{MD5, "8ca523f5e9506fed4657c9700eebdbec"},
		{SHA256, "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"},
	} {
		c := sign(Credentials{
			Username: "Mufasa", Realm: "http-auth@example.org",
			Nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", URI: "/dir/index.html",
			Algorithm: tt.alg, NC: 1, CNonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
		}, "GET", "Circle of Life")
		if c.Response != tt.want {
			t.Errorf("%v: test signer gives %s, RFC says %s", tt.alg, c.Response, tt.want)
		}
		if !(&Server{}).responseOK("GET", c, HA1(tt.alg, "Mufasa", "http-auth@example.org", "Circle of Life")) {
			t.Errorf("%v: responseOK refuses the RFC's example", tt.alg)
		}
	}
}

func TestNewConfig(t *testing.T) {
	now := clock.NewVirtual(time.Time{})
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{Secret: testSecret, Clock: now}, true},
		{"short secret", Config{Secret: []byte("short"), Clock: now}, false},
		{"no clock", Config{Secret: testSecret}, false},
		{"negative ttl", Config{Secret: testSecret, Clock: now, NonceTTL: -time.Second}, false},
		{"realm with quote", Config{Secret: testSecret, Clock: now, Realm: `a"b`}, false},
		{"realm with comma space", Config{Secret: testSecret, Clock: now, Realm: "a, b"}, false},
		{"realm with newline", Config{Secret: testSecret, Clock: now, Realm: "a\nb"}, false},
		{"custom realm", Config{Secret: testSecret, Clock: now, Realm: "checkpointd"}, true},
		{"unknown algorithm", Config{Secret: testSecret, Clock: now, Algorithms: []Algorithm{3}}, false},
		{"duplicate algorithm", Config{Secret: testSecret, Clock: now, Algorithms: []Algorithm{MD5, MD5}}, false},
	} {
		s, err := New(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v", tt.name, err)
		}
		if err == nil && tt.cfg.Realm == "" && (s.Realm() != DefaultRealm || s.ttl != DefaultNonceTTL) {
			t.Errorf("%s: defaults not applied", tt.name)
		}
	}
}

func TestAlgorithmString(t *testing.T) {
	if MD5.String() != "MD5" || SHA256.String() != "SHA-256" || Algorithm(9).String() != "Algorithm(9)" {
		t.Error(MD5, SHA256, Algorithm(9))
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Algorithm
		ok   bool
	}{
		{"MD5", MD5, true}, {"md5", MD5, true}, {"SHA-256", SHA256, true}, {"sha-256", SHA256, true},
		{"SHA256", 0, false}, {"MD5-sess", 0, false}, {"", 0, false},
	} {
		got, ok := ParseAlgorithm(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", tt.in, got, ok)
		}
		if ok && !strings.EqualFold(got.String(), tt.in) {
			t.Errorf("%v does not print as %q", got, tt.in)
		}
	}
}
