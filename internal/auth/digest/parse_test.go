package digest

import (
	"errors"
	"strings"
	"testing"
)

// official is a header exactly as mongodb-forks/digest writes it (note the
// quoted algorithm, which RFC 7616 says not to send).
const official = `Digest username="nmtxqlkl", realm="MMS Public API", nonce="+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6", uri="/api/atlas/v1.0/groups/x/clusters?pageNum=1", response="0123456789abcdef0123456789abcdef", algorithm="MD5", qop=auth, nc=00000001, cnonce="0a4f113b2c7d9e81"`

var officialCreds = Credentials{
	Username: "nmtxqlkl", Realm: "MMS Public API", Nonce: "+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6",
	URI: "/api/atlas/v1.0/groups/x/clusters?pageNum=1", Response: "0123456789abcdef0123456789abcdef",
	Algorithm: MD5, NC: 1, CNonce: "0a4f113b2c7d9e81",
}

func TestParseAuthorizationAccepts(t *testing.T) {
	rest := `, realm="MMS Public API", nonce="+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6", uri="/api/atlas/v1.0/groups/x/clusters?pageNum=1", response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="0a4f113b2c7d9e81"`
	for _, tt := range []struct {
		name, header string
		edit         func(*Credentials)
	}{
		{"official client", official, nil},
		{"String's own form", officialCreds.String(), nil},
		{"no algorithm: MD5", `Digest username="nmtxqlkl"` + rest, nil},
		{"sha-256 bare", `Digest username="nmtxqlkl", algorithm=SHA-256` + rest, func(c *Credentials) { c.Algorithm = SHA256 }},
		{"algorithm case-insensitive", `Digest username="nmtxqlkl", algorithm="sha-256"` + rest, func(c *Credentials) { c.Algorithm = SHA256 }},
		{"scheme and names case-insensitive", `dIGEST USERNAME="nmtxqlkl", QOP=AUTH` + strings.Replace(rest, ", qop=auth", "", 1), nil},
		{"token values", `Digest username=nmtxqlkl, realm="MMS Public API", nonce="+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6", uri="/api/atlas/v1.0/groups/x/clusters?pageNum=1", response=0123456789abcdef0123456789abcdef, qop="auth", nc="00000001", cnonce=0a4f113b2c7d9e81`, nil},
		{"whitespace and empty elements", "Digest  ,username = \"nmtxqlkl\"\t,, " + rest[2:] + " , ", nil},
		{"escaped quote and backslash", `Digest username="nm\"tx\\ql\kl"` + rest, func(c *Credentials) { c.Username = `nm"tx\qlkl` }},
		{"unknown and opaque ignored", `Digest foo=bar, username="nmtxqlkl", opaque="xyz", baz="q\"x"` + rest, nil},
		{"userhash=false", `Digest userhash=false, username="nmtxqlkl"` + rest, nil},
		{"large nc", strings.Replace(official, "nc=00000001", "nc=ffffffff", 1), func(c *Credentials) { c.NC = 0xffffffff }},
		{"obs-text in quoted string", `Digest username="caf` + "\xc3\xa9" + `"` + rest, func(c *Credentials) { c.Username = "caf\xc3\xa9" }},
		{"empty realm", strings.Replace(official, `realm="MMS Public API"`, `realm=""`, 1), func(c *Credentials) { c.Realm = "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorization(tt.header)
			if err != nil {
				t.Fatal(err)
			}
			want := officialCreds
			if tt.edit != nil {
				tt.edit(&want)
			}
			if got != want {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
			again, err := ParseAuthorization(got.String())
			if err != nil || again != got {
				t.Fatalf("String does not round-trip: %q: %+v %v", got.String(), again, err)
			}
		})
	}
}

func TestParseAuthorizationRefuses(t *testing.T) {
	without := func(name string) string {
		parts := strings.Split(official[len("Digest "):], ", ")
		var keep []string
		for _, p := range parts {
			if !strings.HasPrefix(p, name+"=") {
				keep = append(keep, p)
			}
		}
		return "Digest " + strings.Join(keep, ", ")
	}
	replace := func(old, new string) string { return strings.Replace(official, old, new, 1) }
	for _, tt := range []struct {
		name, header string
		want         error
	}{
		{"empty", "", ErrNotDigest},
		{"basic", "Basic bm10eHFsa2w6cGFzcw==", ErrNotDigest},
		{"bearer", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", ErrNotDigest},
		{"scheme prefix only", "Digestx username=\"a\"", ErrNotDigest},
		{"leading space", " " + official, ErrNotDigest},
		{"scheme alone", "Digest", ErrMalformed},
		{"scheme and space", "Digest ", ErrMalformed},
		{"no space after scheme", "Digest\tusername=\"a\"", ErrMalformed},
		{"token68", "Digest abc==", ErrMalformed},
		{"missing username", without("username"), ErrMalformed},
		{"missing realm", without("realm"), ErrMalformed},
		{"missing nonce", without("nonce"), ErrMalformed},
		{"missing uri", without("uri"), ErrMalformed},
		{"missing response", without("response"), ErrMalformed},
		{"missing qop", without("qop"), ErrMalformed},
		{"missing nc", without("nc"), ErrMalformed},
		{"missing cnonce", without("cnonce"), ErrMalformed},
		{"empty username", replace(`username="nmtxqlkl"`, `username=""`), ErrMalformed},
		{"empty nonce", replace(`nonce="+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6"`, `nonce=""`), ErrMalformed},
		{"duplicate username", official + `, username="other"`, ErrMalformed},
		{"duplicate in another case", official + `, Response="0123456789abcdef0123456789abcdef"`, ErrMalformed},
		{"duplicate algorithm", official + `, algorithm=MD5`, ErrMalformed},
		{"duplicate opaque", official + `, opaque="a", opaque="b"`, ErrMalformed},
		{"unterminated quote", official[:len(official)-1], ErrMalformed},
		{"escape at the end", `Digest username="a\`, ErrMalformed},
		{"escaped control", replace(`username="nmtxqlkl"`, "username=\"nm\\\x01\""), ErrMalformed},
		{"control in quoted string", replace(`username="nmtxqlkl"`, "username=\"nm\nx\""), ErrMalformed},
		{"DEL in quoted string", replace(`username="nmtxqlkl"`, "username=\"nm\x7fx\""), ErrMalformed},
		{"quote inside a token", replace(`qop=auth`, `qop=au"th"`), ErrMalformed},
		{"no comma", replace(`qop=auth, nc`, `qop=auth nc`), ErrMalformed},
		{"semicolon separator", replace(`qop=auth, nc`, `qop=auth; nc`), ErrMalformed},
		{"missing equals", replace(`qop=auth`, `qop auth`), ErrMalformed},
		{"missing value", replace(`qop=auth`, `qop=`), ErrMalformed},
		{"trailing garbage", official + ` "x"`, ErrMalformed},
		{"trailing equals", official + `=`, ErrMalformed},
		{"nc too short", replace(`nc=00000001`, `nc=0000001`), ErrMalformed},
		{"nc too long", replace(`nc=00000001`, `nc=000000001`), ErrMalformed},
		{"nc uppercase", replace(`nc=00000001`, `nc=0000000A`), ErrMalformed},
		{"nc not hex", replace(`nc=00000001`, `nc=0000000g`), ErrMalformed},
		{"nc zero", replace(`nc=00000001`, `nc=00000000`), ErrMalformed},
		{"userhash junk", official + `, userhash=maybe`, ErrMalformed},
		{"huge", official + `, pad="` + strings.Repeat("x", MaxAuthorizationLength) + `"`, ErrMalformed},
		{"md5-sess", replace(`algorithm="MD5"`, `algorithm=MD5-sess`), ErrUnsupported},
		{"sha-512-256", replace(`algorithm="MD5"`, `algorithm=SHA-512-256`), ErrUnsupported},
		{"auth-int", replace(`qop=auth`, `qop=auth-int`), ErrUnsupported},
		{"qop list", replace(`qop=auth`, `qop="auth,auth-int"`), ErrUnsupported},
		{"userhash", official + `, userhash=true`, ErrUnsupported},
		{"username*", official + `, username*=UTF-8''n%C3%A4`, ErrUnsupported},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseAuthorization(tt.header)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v (parsed %+v)", err, tt.want, c)
			}
			for _, other := range []error{ErrNotDigest, ErrMalformed, ErrUnsupported} {
				if other != tt.want && errors.Is(err, other) {
					t.Errorf("err %v also matches %v", err, other)
				}
			}
		})
	}
}

// TestParseAuthorizationAllocs: the official client's header parses
// without allocating (values point into the header).
func TestParseAuthorizationAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseAuthorization(official) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
