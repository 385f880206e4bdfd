package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
)

// Access tokens are JWTs signed with HMAC-SHA256 (alg HS256), not with the
// ES512 the service uses:
//   - on the service, other components verify tokens with only a public
//     key; here every instance both mints and verifies, and all of them
//     read the same key ring from the shared data set, so an asymmetric key
//     pair would protect nothing that the shared private key does not
//     already expose;
//   - verification runs on every API request, and an HMAC costs about a
//     microsecond where Ed25519 costs tens and ECDSA P-256/P-521 hundreds;
//   - the standard library alone does it, with no encoding subtleties
//     (ECDSA's raw r||s signatures, curve checks) to get wrong.
//
// Clients treat the token as opaque, so the different alg is invisible to
// them; the header still carries typ and kid like the service's.
const (
	// Algorithm is the JWT alg of every token this package issues or accepts.
	Algorithm = "HS256"

	// DefaultAudience is the aud claim of the service's tokens.
	DefaultAudience = "api://admin"
	// DefaultTTL is the lifetime of a token: one hour, as on the service
	// (expires_in 3600).
	DefaultTTL = time.Hour
	// DefaultLeeway absorbs clock skew between server instances.
	DefaultLeeway = 30 * time.Second
	// MaxTTL bounds the lifetime a verifier accepts, whatever a token says.
	MaxTTL = 24 * time.Hour

	// MaxTokenLen bounds the tokens Verify will look at. Ours are about
	// 330 bytes; the bound keeps hostile input from costing more than a
	// fixed amount of decoding.
	MaxTokenLen = 4096

	// MinKeyLen is the shortest HMAC key accepted: RFC 7518 §3.2 requires
	// a key at least as long as the hash output.
	MinKeyLen   = 32
	maxKeyIDLen = 64
)

// The errors of Verify and Inspect. Every rejected token matches exactly
// one of them with errors.Is; the text says why, for logs only (clients
// get the same 401 either way). Any other error (from the
// RevocationChecker) is a server fault, not a bad token.
var (
	// ErrInvalidToken: malformed, forged, signed with an unknown or
	// retired key, with the wrong alg, or with claims not ours.
	ErrInvalidToken = errors.New("oauth: invalid token")
	// ErrExpiredToken: a genuine token past its expiry (plus leeway).
	ErrExpiredToken = errors.New("oauth: token expired")
	// ErrRevokedToken: a genuine, unexpired token whose jti was revoked.
	ErrRevokedToken = errors.New("oauth: token revoked")
)

// tokenError is a rejection with a reason. The reasons are allocated once,
// here, so that rejecting a flood of forged tokens allocates nothing.
type tokenError struct {
	kind   error
	reason string
}

func (e *tokenError) Error() string { return e.kind.Error() + ": " + e.reason }
func (e *tokenError) Unwrap() error { return e.kind }

func invalid(reason string) error { return &tokenError{ErrInvalidToken, reason} }

var (
	errTooLong           = invalid("too long")
	errEmpty             = invalid("empty")
	errSegments          = invalid("not three dot-separated segments")
	errHeader            = invalid("malformed header")
	errAlgNone           = invalid(`alg "none" is never accepted`)
	errAlg               = invalid("alg does not match the key's")
	errUnknownKey        = invalid("unknown or retired key id")
	errCanonical         = invalid("header not as issued")
	errSigEncoding       = invalid("malformed signature")
	errSignature         = invalid("signature mismatch")
	errPayload           = invalid("malformed claims")
	errIssuer            = invalid("wrong issuer")
	errAudience          = invalid("wrong audience")
	errSubject           = invalid("subject is not a client id")
	errJTI               = invalid("malformed token id")
	errTimes             = invalid("bad iat/exp")
	errFuture            = invalid("issued in the future")
	errNotYet            = invalid("not valid yet (nbf)")
	errExpired     error = &tokenError{ErrExpiredToken, "past exp"}
	errRevoked     error = &tokenError{ErrRevokedToken, "jti revoked"}
)

// RevocationChecker tells whether a token id has been revoked. The
// production implementation is backed by the shared store, so that a
// revoke on one instance takes effect on all of them; it only needs to
// remember a jti until the token's expiry. An error fails the request
// (closed), it does not let the token through.
type RevocationChecker interface {
	IsRevoked(ctx context.Context, jti string) (bool, error)
}

// Key is one HMAC signing key. ID becomes the token header's kid, so that
// a verifier knows which key of the ring to use without trying them all.
type Key struct {
	ID     string // 1–64 characters of [A-Za-z0-9_-]
	Secret []byte // at least MinKeyLen bytes
}

// GenerateKey returns a fresh random key (a 32-byte secret and an 11
// character id), for seeding a data set or rotating.
func GenerateKey() Key {
	var id [8]byte
	secret := make([]byte, MinKeyLen)
	_, _ = rand.Read(id[:])
	_, _ = rand.Read(secret)
	return Key{ID: base64.RawURLEncoding.EncodeToString(id[:]), Secret: secret}
}

// KeyRing holds the active signing key and older keys that still verify.
// Rotation: add a new active key and keep the previous one as verify-only
// for at least the token lifetime, then drop it; tokens signed with a
// dropped key are rejected as invalid.
type KeyRing struct {
	active   *ringKey
	byHeader map[string]*ringKey // the encoded header segment → key
}

type ringKey struct {
	id     string
	header string // base64url of the exact header JSON we issue
	pool   sync.Pool
}

// scratch is what one verification needs: a keyed HMAC and buffers for
// the token's bytes and its decoded claims. Pooled per key, so a
// verification allocates only the claims it returns.
type scratch struct {
	mac hash.Hash
	raw []byte
	dec []byte
	sum []byte
}

// NewKeyRing returns a key ring that signs with active and verifies with
// active and every verifyOnly key. Key ids must be unique.
func NewKeyRing(active Key, verifyOnly ...Key) (*KeyRing, error) {
	kr := &KeyRing{byHeader: make(map[string]*ringKey, 1+len(verifyOnly))}
	seen := make(map[string]bool)
	for i, k := range append([]Key{active}, verifyOnly...) {
		if !validKeyID(k.ID) {
			return nil, fmt.Errorf("oauth: key id %q: want 1-%d characters of [A-Za-z0-9_-]", k.ID, maxKeyIDLen)
		}
		if len(k.Secret) < MinKeyLen {
			return nil, fmt.Errorf("oauth: key %q: secret shorter than %d bytes", k.ID, MinKeyLen)
		}
		if seen[k.ID] {
			return nil, fmt.Errorf("oauth: key id %q used twice", k.ID)
		}
		seen[k.ID] = true
		secret := append([]byte(nil), k.Secret...) // the caller may reuse its slice
		rk := &ringKey{
			id:     k.ID,
			header: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + Algorithm + `","typ":"JWT","kid":"` + k.ID + `"}`)),
		}
		rk.pool.New = func() any {
			return &scratch{mac: hmac.New(sha256.New, secret), raw: make([]byte, MaxTokenLen), dec: make([]byte, MaxTokenLen), sum: make([]byte, 0, sha256.Size)}
		}
		kr.byHeader[rk.header] = rk
		if i == 0 {
			kr.active = rk
		}
	}
	return kr, nil
}

// ActiveKeyID returns the kid new tokens are signed with.
func (kr *KeyRing) ActiveKeyID() string { return kr.active.id }

func validKeyID(s string) bool {
	if len(s) == 0 || len(s) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isB64URL(s[i]) {
			return false
		}
	}
	return true
}

// Claims are the claims of an access token. Times are Unix seconds
// (JWT NumericDate).
type Claims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"` // the client id
	Audience  string `json:"aud"`
	ID        string `json:"jti"` // what revocation records
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf,omitempty"`
	ExpiresAt int64  `json:"exp"`
}

// ExpiresIn returns the token's lifetime in seconds, the expires_in of the
// token response.
func (c Claims) ExpiresIn() int { return int(c.ExpiresAt - c.IssuedAt) }

// Config configures Tokens.
type Config struct {
	// Keys signs and verifies. Required.
	Keys *KeyRing
	// Issuer is the iss claim, e.g. the server's external base URL.
	// Required: tokens from another deployment sharing a key by accident
	// are still rejected.
	Issuer string
	// Audience is the aud claim; "" means DefaultAudience.
	Audience string
	// TTL is the token lifetime, whole seconds, at most MaxTTL; 0 means
	// DefaultTTL.
	TTL time.Duration
	// Leeway is the clock skew tolerated on iat, nbf and exp; 0 means
	// DefaultLeeway, a negative value none.
	Leeway time.Duration
	// Clock times issue and expiry; nil means clock.System.
	Clock clock.Clock
	// Revocations is consulted by Verify. Required, so that a deployment
	// cannot forget to wire revocation.
	Revocations RevocationChecker
}

// Tokens issues and verifies access tokens. It is safe for concurrent use.
type Tokens struct {
	keys     *KeyRing
	issuer   string
	audience string
	ttl      int64
	leeway   int64
	now      func() time.Time
	revoked  RevocationChecker

	// The fixed parts of the claims JSON that Issue produces, for
	// decodeClaims' fast path.
	claimsPrefix, claimsMid []byte
}

// NewTokens checks cfg and returns Tokens for it.
func NewTokens(cfg Config) (*Tokens, error) {
	t := &Tokens{keys: cfg.Keys, issuer: cfg.Issuer, audience: cfg.Audience, revoked: cfg.Revocations}
	switch {
	case cfg.Keys == nil:
		return nil, errors.New("oauth: Config.Keys is required")
	case cfg.Issuer == "":
		return nil, errors.New("oauth: Config.Issuer is required")
	case cfg.Revocations == nil:
		return nil, errors.New("oauth: Config.Revocations is required")
	case cfg.TTL < 0 || cfg.TTL > MaxTTL || cfg.TTL%time.Second != 0:
		return nil, fmt.Errorf("oauth: Config.TTL %v: want whole seconds up to %v", cfg.TTL, MaxTTL)
	}
	if t.audience == "" {
		t.audience = DefaultAudience
	}
	t.ttl = int64(cfg.TTL / time.Second)
	if t.ttl == 0 {
		t.ttl = int64(DefaultTTL / time.Second)
	}
	switch {
	case cfg.Leeway == 0:
		t.leeway = int64(DefaultLeeway / time.Second)
	case cfg.Leeway > 0:
		t.leeway = int64((cfg.Leeway + time.Second - 1) / time.Second)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	t.now = cfg.Clock.Now
	iss, _ := json.Marshal(t.issuer)
	aud, _ := json.Marshal(t.audience)
	t.claimsPrefix = []byte(`{"iss":` + string(iss) + `,"sub":"`)
	t.claimsMid = []byte(`","aud":` + string(aud) + `,"jti":"`)
	return t, nil
}

// Issue mints a token for a client whose credentials the caller has
// already checked, signed with the ring's active key. It returns the
// token and its claims (for the response's expires_in and for logging the
// jti).
func (t *Tokens) Issue(clientID string) (string, Claims, error) {
	if !ValidClientID(clientID) {
		return "", Claims{}, fmt.Errorf("oauth: issue: %q is not a client id", clientID)
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	now := t.now().Unix()
	c := Claims{Issuer: t.issuer, Subject: clientID, Audience: t.audience, ID: hex.EncodeToString(jti[:]), IssuedAt: now, ExpiresAt: now + t.ttl}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", Claims{}, err
	}
	k := t.keys.active
	var b strings.Builder
	b.Grow(len(k.header) + 1 + base64.RawURLEncoding.EncodedLen(len(payload)) + 1 + 43)
	b.WriteString(k.header)
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(payload))
	s := k.pool.Get().(*scratch)
	s.mac.Reset()
	s.mac.Write([]byte(b.String()))
	s.sum = s.mac.Sum(s.sum[:0])
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(s.sum))
	k.pool.Put(s)
	tok := b.String()
	if len(tok) > MaxTokenLen {
		return "", Claims{}, errors.New("oauth: issue: token longer than MaxTokenLen")
	}
	return tok, c, nil
}

// Verify checks a bearer token completely: its form, its signature with
// the key its kid names (whose alg must be the header's), its issuer,
// audience and subject, iat/nbf/exp against the clock with the leeway, and
// last (the only step that may cost a store round trip) revocation. It
// returns the claims of a token that passes, or an error matching
// ErrInvalidToken, ErrExpiredToken or ErrRevokedToken, or the
// RevocationChecker's error wrapped.
func (t *Tokens) Verify(ctx context.Context, token string) (Claims, error) {
	c, err := t.Inspect(token)
	if err != nil {
		return Claims{}, err
	}
	if err := t.CheckTime(c); err != nil {
		return Claims{}, err
	}
	revoked, err := t.revoked.IsRevoked(ctx, c.ID)
	if err != nil {
		return Claims{}, fmt.Errorf("oauth: revocation check: %w", err)
	}
	if revoked {
		return Claims{}, errRevoked
	}
	return c, nil
}

// CheckTime checks the claims' iat, nbf and exp against the clock, with
// the leeway: the part of Verify that a token which passed it once may
// fail later. It returns nil, or an error matching ErrInvalidToken or
// ErrExpiredToken.
func (t *Tokens) CheckTime(c Claims) error {
	return t.CheckTimeAt(c, t.now())
}

// CheckTimeAt is CheckTime at at, a reading of the Tokens' clock the
// caller already has.
func (t *Tokens) CheckTimeAt(c Claims, at time.Time) error {
	now := at.Unix()
	switch {
	case c.IssuedAt > now+t.leeway:
		return errFuture
	case c.NotBefore != 0 && c.NotBefore > now+t.leeway:
		return errNotYet
	case now >= c.ExpiresAt+t.leeway:
		return errExpired
	}
	return nil
}

// Inspect checks everything about a token that does not depend on the
// clock or the store: form, key, alg, signature and claims. The revoke
// endpoint uses it to find the jti and expiry of a token to revoke (an
// expired token needs no revocation, but is not an error there either).
// Authentication must use Verify.
func (t *Tokens) Inspect(token string) (Claims, error) {
	switch {
	case len(token) > MaxTokenLen:
		return Claims{}, errTooLong
	case token == "":
		return Claims{}, errEmpty
	}
	h := strings.IndexByte(token, '.')
	if h < 0 {
		return Claims{}, errSegments
	}
	p := strings.IndexByte(token[h+1:], '.')
	if p < 0 {
		return Claims{}, errSegments
	}
	p += h + 1
	sig := token[p+1:]
	if strings.IndexByte(sig, '.') >= 0 {
		return Claims{}, errSegments
	}
	// The header must be byte for byte the one we issue for some key of
	// the ring. That one map lookup rules out alg "none", alg confusion,
	// unknown kids, duplicate or extra header fields (crit, jku, …) at
	// once, and costs no JSON decoding on the hot path.
	k, ok := t.keys.byHeader[token[:h]]
	if !ok {
		return Claims{}, t.diagnoseHeader(token[:h])
	}
	// A SHA-256 MAC is 32 bytes: exactly 43 unpadded base64url characters.
	if len(sig) != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return Claims{}, errSigEncoding
	}
	s := k.pool.Get().(*scratch)
	defer k.pool.Put(s)
	raw := s.raw[:copy(s.raw, token)]
	var mac [sha256.Size]byte
	// Strict decoding rejects non-zero padding bits, so a signature has a
	// single accepted spelling and tokens are not malleable.
	if n, err := strictB64.Decode(mac[:], raw[p+1:]); err != nil || n != sha256.Size {
		return Claims{}, errSigEncoding
	}
	s.mac.Reset()
	s.mac.Write(raw[:p])
	s.sum = s.mac.Sum(s.sum[:0])
	if !hmac.Equal(s.sum, mac[:]) {
		return Claims{}, errSignature
	}
	// Only now, with the signature good, are the claims decoded: they are
	// ours, and untrusted JSON never reaches the decoder.
	n, err := strictB64.Decode(s.dec, raw[h+1:p])
	if err != nil {
		return Claims{}, errPayload
	}
	c, ok := t.decodeClaims(s.dec[:n])
	if !ok {
		if err := json.Unmarshal(s.dec[:n], &c); err != nil {
			return Claims{}, errPayload
		}
	}
	switch {
	case c.Issuer != t.issuer:
		return Claims{}, errIssuer
	case c.Audience != t.audience:
		return Claims{}, errAudience
	case !ValidClientID(c.Subject):
		return Claims{}, errSubject
	case !validJTI(c.ID):
		return Claims{}, errJTI
	case c.IssuedAt <= 0 || c.ExpiresAt <= c.IssuedAt || c.ExpiresAt-c.IssuedAt > int64(MaxTTL/time.Second):
		return Claims{}, errTimes
	}
	return c, nil
}

var strictB64 = base64.RawURLEncoding.Strict()

// diagnoseHeader explains why a header is not one of ours. It runs only
// for rejected tokens, and only for the log line: every answer is
// ErrInvalidToken.
func (t *Tokens) diagnoseHeader(seg string) error {
	b, err := strictB64.DecodeString(seg)
	if err != nil {
		return errHeader
	}
	var hdr struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &hdr) != nil {
		return errHeader
	}
	switch {
	case strings.EqualFold(hdr.Alg, "none"):
		return errAlgNone
	case hdr.Alg != Algorithm:
		return errAlg
	}
	for _, k := range t.keys.byHeader {
		if k.id == hdr.Kid {
			return errCanonical
		}
	}
	return errUnknownKey
}

// validJTI reports whether s is a token id as Issue makes them: 32
// lowercase hex digits.
func validJTI[T string | []byte](s T) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// decodeClaims is the fast path for claims exactly as Issue writes them
// (encoding/json's output for Claims with this Tokens' issuer and
// audience): a few prefix comparisons and one allocation, instead of
// encoding/json's reflection, which was most of Verify's cost. It runs only
// on authenticated payloads; anything else it reports !ok and leaves to
// encoding/json, so it is an optimisation, never a second grammar to trust.
func (t *Tokens) decodeClaims(b []byte) (Claims, bool) {
	const subLen, jtiLen = ClientIDLen, 32
	var (
		buf [subLen + jtiLen]byte
		c   Claims
		ok  bool
	)
	if b, ok = cut(b, t.claimsPrefix); !ok || len(b) < subLen {
		return Claims{}, false
	}
	copy(buf[:subLen], b)
	if b, ok = cut(b[subLen:], t.claimsMid); !ok || len(b) < jtiLen {
		return Claims{}, false
	}
	copy(buf[subLen:], b)
	if b, ok = cut(b[jtiLen:], []byte(`","iat":`)); !ok {
		return Claims{}, false
	}
	if c.IssuedAt, b, ok = number(b); !ok {
		return Claims{}, false
	}
	if b, ok = cut(b, []byte(`,"exp":`)); !ok {
		return Claims{}, false
	}
	if c.ExpiresAt, b, ok = number(b); !ok || string(b) != "}" {
		return Claims{}, false
	}
	// Only the characters Issue writes there: no quote or backslash can
	// then end or escape the strings early, so what was read is what
	// encoding/json would read.
	if !validClientID(buf[:subLen]) || !validJTI(buf[subLen:]) {
		return Claims{}, false
	}
	both := string(buf[:])
	c.Issuer, c.Audience, c.Subject, c.ID = t.issuer, t.audience, both[:subLen], both[subLen:]
	return c, true
}

func cut(b, prefix []byte) ([]byte, bool) {
	if len(b) < len(prefix) || string(b[:len(prefix)]) != string(prefix) {
		return b, false
	}
	return b[len(prefix):], true
}

// number reads 1 to 18 decimal digits, without a leading zero, as
// encoding/json writes a positive int64 of that size.
func number(b []byte) (int64, []byte, bool) {
	var n int64
	i := 0
	for ; i < len(b) && i < 19 && '0' <= b[i] && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	if i == 0 || i > 18 || b[0] == '0' {
		return 0, b, false
	}
	return n, b[i:], true
}
