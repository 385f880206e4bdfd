package digest

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseAuthorization feeds arbitrary headers to the parser. It must
// never panic, every refusal must match exactly one of its sentinels, and
// whatever it accepts must satisfy its own rules and survive a round trip
// through Credentials.String.
func FuzzParseAuthorization(f *testing.F) {
	f.Add(official)
	f.Add(officialCreds.String())
	f.Add(`Digest username="a\"b", realm="", nonce=x, uri="/", response=ab, algorithm=SHA-256, qop=auth, nc=0000000f, cnonce=c, foo="\\"`)
	f.Add("Digest ,,, username = \"x\" ,")
	f.Add(official + `, username="dup"`)
	f.Add("Basic Zm9vOmJhcg==")
	f.Add("Digest")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		c, err := ParseAuthorization(h)
		if err != nil {
			n := 0
			for _, e := range []error{ErrNotDigest, ErrMalformed, ErrUnsupported} {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%q: error %v matches %d sentinels", h, err, n)
			}
			if c != (Credentials{}) {
				t.Fatalf("%q: refused but returned %+v", h, c)
			}
			return
		}
		if len(h) > MaxAuthorizationLength || !strings.EqualFold(h[:7], "Digest ") {
			t.Fatalf("%q accepted", h)
		}
		if c.Username == "" || c.Nonce == "" || c.URI == "" || c.Response == "" || c.CNonce == "" || c.NC == 0 ||
			(c.Algorithm != MD5 && c.Algorithm != SHA256) {
			t.Fatalf("%q accepted as %+v", h, c)
		}
		s := c.String()
		again, err := ParseAuthorization(s)
		if err != nil {
			if len(s) > MaxAuthorizationLength && errors.Is(err, ErrMalformed) {
				return // escaping can push an accepted value over the bound
			}
			t.Fatalf("%q: String %q does not parse: %v", h, s, err)
		}
		if again != c {
			t.Fatalf("%q: round trip\n got %+v\nwant %+v", h, again, c)
		}
	})
}
