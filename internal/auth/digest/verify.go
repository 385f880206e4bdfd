package digest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
)

// The reasons Verify refuses credentials. Each refusal matches exactly
// one of them with errors.Is (ErrUnsupported, from parse.go, is the
// other). The HTTP layer answers all of them alike, 401 with a fresh
// challenge, stale=true when Result.Stale is set; the distinction is for
// logs and metrics.
var (
	// ErrUnknownUser: lookup found no such username.
	ErrUnknownUser = errors.New("digest: unknown user")
	// ErrBadResponse: the response does not match; usually a wrong
	// password.
	ErrBadResponse = errors.New("digest: response mismatch")
	// ErrRealm: the realm parameter is not the server's.
	ErrRealm = errors.New("digest: wrong realm")
	// ErrURI: the uri parameter is not the request's target, so the
	// response signs another request.
	ErrURI = errors.New("digest: uri does not match the request")
	// ErrBadNonce: the nonce is not one this server (or another sharing
	// its Secret) issued.
	ErrBadNonce = errors.New("digest: invalid nonce")
	// ErrStaleNonce: the nonce was issued by us but is too old (or the
	// replay memory no longer covers it). The response was right, so the
	// caller answers with stale=true: the client need only retry with a
	// fresh nonce (RFC 7616 §3.3).
	ErrStaleNonce = errors.New("digest: stale nonce")
	// ErrReplay: this nonce count was already used with this nonce.
	ErrReplay = errors.New("digest: replayed nonce count")
)

// Result describes a verification, successful or not.
type Result struct {
	// Username is the username the client claimed; authenticated only if
	// Verify returned nil.
	Username string
	// Algorithm is the algorithm the client used.
	Algorithm Algorithm
	// Issued is when the nonce was issued, zero if it was not ours.
	Issued time.Time
	// Stale reports that the caller must answer 401 with stale=true.
	Stale bool
}

// Lookup finds the stored HA1 values of a user. found is false for an
// unknown user; err is for the store failing, and Verify returns it
// unchanged so that the caller can answer 500 rather than 401.
type Lookup func(username string) (h Hashes, found bool, err error)

// dummyHA1 stands in for the HA1 of an unknown user, so that a refusal
// costs the same hashing whether or not the user exists.
const dummyHA1 = "0000000000000000000000000000000000000000000000000000000000000000"

// Verify checks credentials parsed from a request's Authorization header.
// requestURI is the request-target exactly as received (http.Request's
// RequestURI field: path and query, as the official client signs it).
// It returns nil if the request is authenticated, or one of the errors
// above, or lookup's error. In the order they are checked:
//
//   - ErrUnsupported: an algorithm the server does not offer, or one the
//     user has no HA1 for;
//   - ErrRealm, ErrURI: the parameters do not describe this request
//     (ErrMalformed for a zero nc, which ParseAuthorization never returns);
//   - ErrBadNonce: the nonce was not issued with our Secret;
//   - ErrUnknownUser, ErrBadResponse: wrong credentials;
//   - ErrStaleNonce: right credentials, old nonce (Result.Stale);
//   - ErrReplay: this nc was used before with this nonce.
//
// Staleness comes after the response so that stale=true goes only to a
// client that knows the password (RFC 7616 §3.3), and the replay check
// comes last so that only such a client can spend a nonce count. A
// client may reuse a nonce, with growing nc, for as long as it is fresh,
// without another round trip.
func (s *Server) Verify(ctx context.Context, method, requestURI string, c Credentials, lookup Lookup) (Result, error) {
	r := Result{Username: c.Username, Algorithm: c.Algorithm}
	if !s.offers(c.Algorithm) {
		return r, fmt.Errorf("%w: algorithm %v not offered", ErrUnsupported, c.Algorithm)
	}
	// Realm and uri are public values, so plain comparisons are fine.
	if c.Realm != s.realm {
		return r, ErrRealm
	}
	if c.URI != requestURI {
		return r, ErrURI
	}
	if c.NC == 0 {
		return r, fmt.Errorf("%w: nc is zero", ErrMalformed)
	}
	n, ok := s.check(c.Nonce)
	if !ok {
		return r, ErrBadNonce
	}
	issued := n.issued
	r.Issued = time.UnixMilli(issued)

	h, found, err := lookup(c.Username)
	if err != nil {
		return r, err
	}
	ha1 := dummyHA1[:c.Algorithm.hexLen()]
	if found {
		ha1 = h.For(c.Algorithm)
		if ha1 == "" {
			return r, fmt.Errorf("%w: no %v HA1 stored for the user", ErrUnsupported, c.Algorithm)
		}
		if len(ha1) != c.Algorithm.hexLen() {
			return r, fmt.Errorf("digest: stored %v HA1 of %q is malformed", c.Algorithm, c.Username)
		}
	}
	good := s.responseOK(method, c, ha1)
	if !found {
		return r, ErrUnknownUser
	}
	if !good {
		return r, ErrBadResponse
	}

	now := s.now()
	if age := now.UnixMilli() - issued; age > s.ttl.Milliseconds() || age < -s.ttl.Milliseconds() {
		r.Stale = true
		return r, ErrStaleNonce
	}
	if err := s.use(ctx, n, c, now); err != nil {
		r.Stale = errors.Is(err, ErrStaleNonce)
		return r, err
	}
	return r, nil
}

// use spends the nonce count in the replay memory the nonce belongs to:
// the shared one for a shared nonce; this instance's for its own
// unshared nonces; none for another instance's unshared nonce, which only
// its issuer can tell fresh from replayed (stale: the client gets a nonce
// of ours and retries).
func (s *Server) use(ctx context.Context, n nonceInfo, c Credentials, now time.Time) error {
	switch {
	case n.shared:
		if s.shared == nil {
			return fmt.Errorf("%w: a shared nonce, and this server shares no replay memory", ErrStaleNonce)
		}
		// Kept for twice the TTL past the issue time: a nonce is fresh
		// from TTL before to TTL after it on the verifier's clock, and
		// whoever deletes the record may run ahead of the issuer's.
		// A copy, declared here: the slice escapes through the
		// interface, and only this branch should pay the allocation.
		raw := n.raw
		fresh, err := s.shared.UseNonce(ctx, raw[:], c.NC, time.UnixMilli(n.issued).Add(2*s.ttl))
		if err != nil {
			return fmt.Errorf("digest: shared replay memory: %w", err)
		}
		if !fresh {
			return ErrReplay
		}
		return nil
	case n.instance != s.instance:
		return fmt.Errorf("%w: issued by another instance", ErrStaleNonce)
	}
	return s.replay.Use(c.Nonce, time.UnixMilli(n.issued), c.NC, now)
}

func (s *Server) offers(a Algorithm) bool {
	for _, b := range s.algs {
		if a == b {
			return true
		}
	}
	return false
}

// responseOK computes RFC 7616's response for qop=auth,
//
//	KD(HA1, nonce:nc:cnonce:auth:H(method:uri))
//
// and compares it with the client's in constant time. The inputs are
// built in a stack buffer, which spills to the heap only for very long
// URIs or cnonces.
func (s *Server) responseOK(method string, c Credentials, ha1 string) bool {
	var response [sha256.Size]byte // the client's
	n := c.Algorithm.hexLen() / 2
	if !decodeHex(response[:n], c.Response) {
		return false
	}
	var stack [384]byte
	b := append(stack[:0], method...)
	b = append(b, ':')
	b = append(b, c.URI...)
	var ha2 [2 * sha256.Size]byte
	h2 := c.Algorithm.sum(&ha2, b)

	b = append(b[:0], ha1...)
	b = append(b, ':')
	b = append(b, c.Nonce...)
	b = append(b, ':')
	const hexdig = "0123456789abcdef"
	for sh := 28; sh >= 0; sh -= 4 {
		b = append(b, hexdig[c.NC>>sh&0xf])
	}
	b = append(b, ':')
	b = append(b, c.CNonce...)
	b = append(b, ":auth:"...)
	b = append(b, h2...)
	expected, _ := c.Algorithm.digest(b)
	return subtle.ConstantTimeCompare(expected[:n], response[:n]) == 1
}

// decodeHex decodes exactly 2*len(dst) hex digits of either case.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	for i := range dst {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
