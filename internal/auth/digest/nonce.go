package digest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// A nonce is 24 bytes, 32 characters of standard base64 with no padding,
// the same length and alphabet as the service's (e.g.
// "+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6"), so clients that check it see
// nothing unusual:
//
//	bytes  0..5   issue time, Unix milliseconds, big endian (48 bits: year 10889)
//	bytes  6..11  random, so that nonces issued in the same millisecond differ
//	bytes 12..23  HMAC-SHA256(Secret, nonceLabel || bytes 0..11), first 12 bytes
//
// Why random bytes: the official client sends nc=00000001 on every
// request, each after a fresh challenge, so two clients handed the same
// nonce would look like a replay of each other. 48 bits make a collision
// between nonces of the same millisecond negligible (birthday bound: ~2^24
// challenges in one millisecond across all instances).
//
// Why a 96-bit tag is enough: it is checked online only, one guess per
// HTTP request, so forging a tag takes ~2^95 requests on average. And a
// forged nonce buys little: the response is still keyed by HA1, so a
// forger without the password gets nowhere. The tag exists so that nobody
// can mint nonces the server never issued, with an issue time of their
// choosing (a nonce dated in the future would stay fresh, and outlive the
// replay memory, for as long as its author liked).
const (
	nonceLen    = 32 // base64 characters
	nonceRawLen = 24 // bytes
	nonceTagLen = 12 // bytes of HMAC kept
	nonceBody   = nonceRawLen - nonceTagLen
)

// nonceLabel separates this use of the secret from any other use of the
// same key material.
const nonceLabel = "checkpointd digest nonce v1\x00"

// macKey is an HMAC-SHA256 key expanded into its inner and outer padded
// blocks (RFC 2104), computed once in New. Computing the HMAC from these
// with sha256.Sum256 over stack buffers costs no allocation, where
// crypto/hmac would allocate a hash state per nonce (or need a pool).
// TestMACMatchesCryptoHMAC checks it against crypto/hmac.
type macKey struct {
	ipad, opad [sha256.BlockSize]byte
}

func newMACKey(secret []byte) macKey {
	var k macKey
	key := secret
	if len(key) > sha256.BlockSize {
		s := sha256.Sum256(key)
		key = s[:]
	}
	copy(k.ipad[:], key)
	copy(k.opad[:], key)
	for i := range k.ipad {
		k.ipad[i] ^= 0x36
		k.opad[i] ^= 0x5c
	}
	return k
}

// sum returns HMAC-SHA256(key, nonceLabel || body).
func (k *macKey) sum(body []byte) [sha256.Size]byte {
	var in [sha256.BlockSize + len(nonceLabel) + nonceBody]byte
	n := copy(in[:], k.ipad[:])
	n += copy(in[n:], nonceLabel)
	copy(in[n:], body)
	inner := sha256.Sum256(in[:])
	var out [sha256.BlockSize + sha256.Size]byte
	n = copy(out[:], k.opad[:])
	copy(out[n:], inner[:])
	return sha256.Sum256(out[:])
}

// mint writes a fresh nonce issued at now into dst.
func (s *Server) mint(dst *[nonceLen]byte, now time.Time) {
	var raw [nonceRawLen]byte
	ms := uint64(now.UnixMilli())
	for i := 0; i < 6; i++ {
		raw[i] = byte(ms >> (8 * (5 - i)))
	}
	// crypto/rand.Read never fails (it crashes the program rather than
	// return short), so there is no error to handle.
	_, _ = rand.Read(raw[6:nonceBody])
	tag := s.mac.sum(raw[:nonceBody])
	copy(raw[nonceBody:], tag[:nonceTagLen])
	base64.StdEncoding.Encode(dst[:], raw[:])
}

// check decodes a nonce and verifies its tag, in constant time with
// respect to the tag. It returns the issue time in Unix milliseconds.
func (s *Server) check(nonce string) (int64, bool) {
	var raw [nonceRawLen]byte
	if !decodeNonce(&raw, nonce) {
		return 0, false
	}
	tag := s.mac.sum(raw[:nonceBody])
	if subtle.ConstantTimeCompare(tag[:nonceTagLen], raw[nonceBody:]) != 1 {
		return 0, false
	}
	var ms uint64
	for i := 0; i < 6; i++ {
		ms = ms<<8 | uint64(raw[i])
	}
	return int64(ms), true
}

// b64 maps a standard base64 character to its value, 0xff otherwise.
var b64 = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeNonce decodes exactly nonceLen base64 characters. It is written
// out rather than calling encoding/base64 so that a string decodes
// without being copied to a []byte first.
func decodeNonce(dst *[nonceRawLen]byte, s string) bool {
	if len(s) != nonceLen {
		return false
	}
	var bad byte
	for i, j := 0, 0; i < nonceLen; i, j = i+4, j+3 {
		a, b, c, d := b64[s[i]], b64[s[i+1]], b64[s[i+2]], b64[s[i+3]]
		bad |= (a | b | c | d) & 0xc0
		dst[j] = a<<2 | b>>4
		dst[j+1] = b<<4 | c>>2
		dst[j+2] = c<<6 | d
	}
	return bad == 0
}

// nonceKey is the replay memory's key for a nonce: its 24 raw bytes. It
// returns false for anything that is not a well-formed nonce.
func nonceKey(nonce string) ([nonceRawLen]byte, bool) {
	var raw [nonceRawLen]byte
	ok := decodeNonce(&raw, nonce)
	return raw, ok
}
