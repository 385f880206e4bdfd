package digest

import (
	"errors"
	"fmt"
	"strings"
)

// MaxAuthorizationLength bounds the Authorization values ParseAuthorization
// looks at. The official client's headers are about 250 bytes plus the
// request URI; 8 KiB leaves room for long query strings while keeping the
// cost of hostile input fixed.
const MaxAuthorizationLength = 8 << 10

// The errors of ParseAuthorization. Each rejection matches exactly one of
// them with errors.Is; the text adds the detail, for logs.
var (
	// ErrNotDigest: the header is absent or uses another scheme (e.g.
	// Bearer), which the caller may handle itself.
	ErrNotDigest = errors.New("digest: not a Digest authorization")
	// ErrMalformed: the header does not follow RFC 7235/7616 syntax, lacks
	// a required parameter, repeats one, or is longer than
	// MaxAuthorizationLength.
	ErrMalformed = errors.New("digest: malformed authorization")
	// ErrUnsupported: well formed, but asks for something this server does
	// not do (an -sess algorithm, qop=auth-int, userhash, username*), or,
	// from Verify, an algorithm not configured or without a stored HA1.
	ErrUnsupported = errors.New("digest: unsupported")
)

// Credentials are the parameters of a Digest Authorization header. Quoted
// values are unquoted; without escapes they share the header's memory.
type Credentials struct {
	Username string
	Realm    string
	Nonce    string
	// URI is the uri parameter, the request-target the client signed.
	URI string
	// Response is the client's digest, hex.
	Response string
	// Algorithm defaults to MD5 when the header has none (RFC 7616 §3.4).
	Algorithm Algorithm
	// NC is the nonce count, nc=00000001 being 1. Never zero.
	NC     uint32
	CNonce string
	// qop is always "auth": ParseAuthorization rejects anything else, so
	// there is no field for it.
}

// Parameter slots, for duplicate detection with a bit set.
const (
	pUsername = iota
	pRealm
	pNonce
	pURI
	pResponse
	pAlgorithm
	pQop
	pNC
	pCNonce
	pOpaque
	pUserhash
	pUsernameExt
)

// required are the parameters a qop=auth response must carry.
const required = 1<<pUsername | 1<<pRealm | 1<<pNonce | 1<<pURI | 1<<pResponse | 1<<pQop | 1<<pNC | 1<<pCNonce

var paramNames = [...]string{
	pUsername: "username", pRealm: "realm", pNonce: "nonce", pURI: "uri",
	pResponse: "response", pAlgorithm: "algorithm", pQop: "qop", pNC: "nc",
	pCNonce: "cnonce", pOpaque: "opaque", pUserhash: "userhash", pUsernameExt: "username*",
}

// param returns the slot of a parameter name, case-insensitively, or -1
// for one this package ignores.
func param(name string) int {
	for i, n := range paramNames {
		if len(n) == len(name) && strings.EqualFold(n, name) {
			return i
		}
	}
	return -1
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// ParseAuthorization parses the value of an Authorization header holding
// Digest credentials (RFC 7616 §3.4, in RFC 7235's syntax):
//
//	Digest username="…", realm="…", nonce="…", uri="…", response="…", algorithm=MD5, qop=auth, nc=00000001, cnonce="…"
//
// It is strict where laxness could hide an attack and liberal where the
// RFCs require it:
//   - the scheme is matched case-insensitively and must be followed by a
//     space; parameter names are case-insensitive;
//   - every value may be a token or a quoted-string (RFC 7235 §2.1 makes
//     them equivalent, and the official client quotes algorithm, which
//     RFC 7616 says not to); quoted-strings may contain quoted-pairs;
//   - optional whitespace around "=" and "," and empty list elements are
//     accepted (RFC 7230 §7);
//   - username, realm, nonce, uri, response, qop, nc and cnonce are
//     required, the non-empty ones non-empty; a parameter given twice is
//     an error, whichever it is; unknown parameters (and opaque, which we
//     never send) are ignored;
//   - algorithm must be MD5 or SHA-256, qop must be auth, nc must be
//     exactly 8 lowercase hex digits (RFC 7616's 8LHEX) and not zero;
//     userhash=true and username* are refused as unsupported;
//   - control characters anywhere, and values longer than
//     MaxAuthorizationLength in total, are refused.
//
// Values without escapes are substrings of header: parsing allocates
// nothing unless a quoted-string holds a backslash.
func ParseAuthorization(header string) (Credentials, error) {
	var c Credentials
	if len(header) > MaxAuthorizationLength {
		return Credentials{}, malformed("longer than %d bytes", MaxAuthorizationLength)
	}
	i := 0
	for i < len(header) && isTchar(header[i]) {
		i++
	}
	if i != len("Digest") || !strings.EqualFold(header[:i], "Digest") {
		return Credentials{}, ErrNotDigest
	}
	if i == len(header) || header[i] != ' ' {
		return Credentials{}, malformed("no parameters after the scheme")
	}
	var (
		seen uint32
		// valErr is the first value refused; it is reported only once the
		// whole header has parsed, so that a syntax error always wins.
		valErr error
	)
	for {
		i = skipOWS(header, i)
		if i == len(header) {
			break
		}
		if header[i] == ',' { // an empty list element
			i++
			continue
		}
		start := i
		for i < len(header) && isTchar(header[i]) {
			i++
		}
		if i == start {
			return Credentials{}, malformed("unexpected %q at %d", header[i], i)
		}
		name := header[start:i]
		i = skipOWS(header, i)
		if i == len(header) || header[i] != '=' {
			return Credentials{}, malformed("parameter %q has no value", name)
		}
		i = skipOWS(header, i+1)
		var (
			val string
			err error
		)
		if i < len(header) && header[i] == '"' {
			val, i, err = quotedString(header, i)
			if err != nil {
				return Credentials{}, err
			}
		} else {
			start := i
			for i < len(header) && isTchar(header[i]) {
				i++
			}
			if i == start {
				return Credentials{}, malformed("parameter %q has no value", name)
			}
			val = header[start:i]
		}
		if p := param(name); p >= 0 {
			if seen&(1<<p) != 0 {
				return Credentials{}, malformed("parameter %q given twice", paramNames[p])
			}
			seen |= 1 << p
			if err := c.set(p, val); err != nil && valErr == nil {
				valErr = err
			}
		}
		i = skipOWS(header, i)
		if i == len(header) {
			break
		}
		if header[i] != ',' {
			return Credentials{}, malformed("expected ',' at %d", i)
		}
		i++
	}
	if valErr != nil {
		return Credentials{}, valErr
	}
	if missing := required &^ seen; missing != 0 {
		for p := range paramNames {
			if missing&(1<<p) != 0 {
				return Credentials{}, malformed("parameter %q missing", paramNames[p])
			}
		}
	}
	if c.Algorithm == 0 {
		c.Algorithm = MD5
	}
	return c, nil
}

// set stores one known parameter's value.
func (c *Credentials) set(p int, v string) error {
	switch p {
	case pUsername, pNonce, pURI, pResponse, pCNonce:
		if v == "" {
			return malformed("parameter %q is empty", paramNames[p])
		}
	}
	switch p {
	case pUsername:
		c.Username = v
	case pRealm:
		c.Realm = v
	case pNonce:
		c.Nonce = v
	case pURI:
		c.URI = v
	case pResponse:
		c.Response = v
	case pCNonce:
		c.CNonce = v
	case pAlgorithm:
		switch {
		case strings.EqualFold(v, "MD5"):
			c.Algorithm = MD5
		case strings.EqualFold(v, "SHA-256"):
			c.Algorithm = SHA256
		default:
			return fmt.Errorf("%w: algorithm %q", ErrUnsupported, v)
		}
	case pQop:
		if !strings.EqualFold(v, "auth") {
			return fmt.Errorf("%w: qop %q", ErrUnsupported, v)
		}
	case pNC:
		if len(v) != 8 {
			return malformed("nc %q is not 8 hex digits", v)
		}
		var n uint32
		for i := 0; i < len(v); i++ {
			d := v[i]
			switch {
			case '0' <= d && d <= '9':
				d -= '0'
			case 'a' <= d && d <= 'f':
				d -= 'a' - 10
			default:
				return malformed("nc %q is not 8 lowercase hex digits", v)
			}
			n = n<<4 | uint32(d)
		}
		if n == 0 {
			return malformed("nc is zero")
		}
		c.NC = n
	case pUserhash:
		if strings.EqualFold(v, "true") {
			return fmt.Errorf("%w: userhash", ErrUnsupported)
		}
		if !strings.EqualFold(v, "false") {
			return malformed("userhash %q", v)
		}
	case pUsernameExt:
		return fmt.Errorf("%w: username*", ErrUnsupported)
	}
	return nil
}

// quotedString reads the quoted-string starting at s[i] (a '"') and
// returns its unquoted value and the index after the closing quote.
func quotedString(s string, i int) (string, int, error) {
	i++
	start := i
	escaped := false
	for ; i < len(s); i++ {
		switch b := s[i]; {
		case b == '"':
			if !escaped {
				return s[start:i], i + 1, nil
			}
			return unescape(s[start:i]), i + 1, nil
		case b == '\\':
			i++
			if i == len(s) || !isQuotedPairChar(s[i]) {
				return "", i, malformed("bad escape in quoted string")
			}
			escaped = true
		case !isQdtext(b):
			return "", i, malformed("byte %#x in quoted string", b)
		}
	}
	return "", i, malformed("unterminated quoted string")
}

// unescape removes the backslashes of quoted-pairs from a validated
// quoted-string body.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTchar reports whether b may appear in an RFC 7230 token.
func isTchar(b byte) bool {
	return tchar[b]
}

var tchar = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isQdtext: HTAB, SP, VCHAR except '"' and '\', obs-text.
func isQdtext(b byte) bool {
	return b == '\t' || b == ' ' || b == 0x21 || (b >= 0x23 && b <= 0x5b) || (b >= 0x5d && b <= 0x7e) || b >= 0x80
}

// isQuotedPairChar: what may follow a backslash (HTAB, SP, VCHAR, obs-text).
func isQuotedPairChar(b byte) bool {
	return b == '\t' || (b >= 0x20 && b <= 0x7e) || b >= 0x80
}

// String formats the credentials as an Authorization value that
// ParseAuthorization reads back unchanged: the RFC 7616 form, with
// username, realm, nonce, uri, response and cnonce quoted (and their
// quotes and backslashes escaped) and algorithm, qop and nc bare. It is
// for tests and clients; a server never sends it.
func (c Credentials) String() string {
	alg := c.Algorithm
	if alg == 0 {
		alg = MD5
	}
	var b strings.Builder
	b.Grow(128 + len(c.Username) + len(c.Realm) + len(c.Nonce) + len(c.URI) + len(c.Response) + len(c.CNonce))
	b.WriteString("Digest ")
	quoted(&b, "username", c.Username)
	b.WriteString(", ")
	quoted(&b, "realm", c.Realm)
	b.WriteString(", ")
	quoted(&b, "nonce", c.Nonce)
	b.WriteString(", ")
	quoted(&b, "uri", c.URI)
	b.WriteString(", ")
	quoted(&b, "response", c.Response)
	b.WriteString(", algorithm=")
	b.WriteString(alg.String())
	b.WriteString(", qop=auth, nc=")
	const hexdig = "0123456789abcdef"
	for sh := 28; sh >= 0; sh -= 4 {
		b.WriteByte(hexdig[c.NC>>sh&0xf])
	}
	b.WriteString(", ")
	quoted(&b, "cnonce", c.CNonce)
	return b.String()
}

func quoted(b *strings.Builder, name, v string) {
	b.WriteString(name)
	b.WriteString(`="`)
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
}
