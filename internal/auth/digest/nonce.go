package digest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// A nonce is 24 bytes, 32 characters of standard base64 with no padding,
// the same length and alphabet as the service's (e.g.
// "+4YICU5YLx6mQEzmVhx1G5ySQVrufjv6"), so clients that check it see
// nothing unusual:
//
//	bytes  0..5   issue time, Unix milliseconds, big endian (48 bits: year 10889)
//	bytes  6..9   the issuing instance (Config.Instance)
//	bytes 10..11  bit 15: shared; bits 0..14: the instance's nonce counter
//	bytes 12..23  HMAC-SHA256(Secret, nonceLabel || bytes 0..11), first 12 bytes
//
// Why a counter: the official client sends nc=00000001 on every request,
// each after a fresh challenge, so two clients handed the same nonce
// would look like a replay of each other. Time, instance and counter make
// every nonce of an instance distinct (the counter would have to wrap
// within one millisecond, 32,768 challenges, to repeat one), and nonces
// of instances with distinct ids distinct too.
//
// Why the instance and the shared bit: replay memory. A nonce issued
// while its instance was alone on the data set is remembered by that
// instance only, so only that instance may accept it; another answers it
// with stale=true and a nonce of its own. A shared nonce, issued while
// several instances were alive, is remembered in the store (Config.Shared)
// and any instance may accept it. See Server.SetShared.
//
// Why a 96-bit tag is enough: it is checked online only, one guess per
// HTTP request, so forging a tag takes ~2^95 requests on average. And a
// forged nonce buys little: the response is still keyed by HA1, so a
// forger without the password gets nowhere. The tag exists so that nobody
// can mint nonces the server never issued, with an issue time, an
// instance or a shared bit of their choosing (a nonce dated in the future
// would stay fresh, and outlive the replay memory, for as long as its
// author liked).
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

// sharedBit marks a shared nonce in bytes 10..11.
const sharedBit = 1 << 15

// nonceInfo is what a verified nonce says.
type nonceInfo struct {
	issued   int64 // Unix milliseconds
	instance uint32
	shared   bool
	raw      [nonceRawLen]byte
}

// mint writes a fresh nonce issued at now into dst.
func (s *Server) mint(dst *[nonceLen]byte, now time.Time) {
	var raw [nonceRawLen]byte
	ms := uint64(now.UnixMilli())
	for i := 0; i < 6; i++ {
		raw[i] = byte(ms >> (8 * (5 - i)))
	}
	binary.BigEndian.PutUint32(raw[6:10], s.instance)
	seq := uint16(s.seq.Add(1)) &^ sharedBit
	if s.sharing.Load() {
		seq |= sharedBit
	}
	binary.BigEndian.PutUint16(raw[10:12], seq)
	tag := s.mac.sum(raw[:nonceBody])
	copy(raw[nonceBody:], tag[:nonceTagLen])
	base64.StdEncoding.Encode(dst[:], raw[:])
}

// check decodes a nonce and verifies its tag, in constant time with
// respect to the tag.
func (s *Server) check(nonce string) (nonceInfo, bool) {
	var n nonceInfo
	if !decodeNonce(&n.raw, nonce) {
		return n, false
	}
	tag := s.mac.sum(n.raw[:nonceBody])
	if subtle.ConstantTimeCompare(tag[:nonceTagLen], n.raw[nonceBody:]) != 1 {
		return n, false
	}
	var ms uint64
	for i := 0; i < 6; i++ {
		ms = ms<<8 | uint64(n.raw[i])
	}
	n.issued = int64(ms)
	n.instance = binary.BigEndian.Uint32(n.raw[6:10])
	n.shared = binary.BigEndian.Uint16(n.raw[10:12])&sharedBit != 0
	return n, true
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
