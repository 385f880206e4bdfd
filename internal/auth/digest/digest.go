package digest

import (
	"crypto/md5" //nolint:gosec // RFC 7616's MD5 is what the official clients speak
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
)

// Algorithm is a Digest algorithm this package implements. The -sess
// variants and SHA-512-256 are left out: the official clients never use
// them.
type Algorithm uint8

const (
	// MD5 is RFC 7616's "MD5", the only algorithm the service offers and
	// the default of every client.
	MD5 Algorithm = iota + 1
	// SHA256 is RFC 7616's "SHA-256", offered only when configured.
	SHA256
)

// String returns the algorithm's name as it appears on the wire.
func (a Algorithm) String() string {
	switch a {
	case MD5:
		return "MD5"
	case SHA256:
		return "SHA-256"
	}
	return fmt.Sprintf("Algorithm(%d)", uint8(a))
}

// ParseAlgorithm reads an algorithm name as String writes it, in any
// case.
func ParseAlgorithm(name string) (Algorithm, bool) {
	switch strings.ToUpper(name) {
	case "MD5":
		return MD5, true
	case "SHA-256":
		return SHA256, true
	}
	return 0, false
}

// hexLen is the length of the algorithm's digests in hex.
func (a Algorithm) hexLen() int {
	if a == SHA256 {
		return 2 * sha256.Size
	}
	return 2 * md5.Size
}

// sum hashes b and writes the lowercase hex digest to dst, returning the
// written prefix. It takes concrete hash functions rather than a
// hash.Hash so that nothing escapes to the heap on the hot path.
func (a Algorithm) sum(dst *[2 * sha256.Size]byte, b []byte) []byte {
	raw, n := a.digest(b)
	hex.Encode(dst[:2*n], raw[:n])
	return dst[:2*n]
}

// digest hashes b, returning the digest in the first n bytes.
func (a Algorithm) digest(b []byte) (d [sha256.Size]byte, n int) {
	if a == SHA256 {
		return sha256.Sum256(b), sha256.Size
	}
	s := md5.Sum(b) //nolint:gosec // see import
	copy(d[:], s[:])
	return d, md5.Size
}

const (
	// DefaultRealm is the service's realm.
	DefaultRealm = "MMS Public API"
	// DefaultNonceTTL is how long a nonce stays fresh: Ops Manager's
	// MAX_AGE of 60 s (api-fidelity §6.1). Older nonces are answered with
	// stale=true.
	DefaultNonceTTL = 60 * time.Second
	// MinSecretLen is the shortest Config.Secret accepted: 128 bits, so
	// that the nonce HMAC key cannot be guessed.
	MinSecretLen = 16
)

// Config configures a Server.
type Config struct {
	// Secret keys the nonce HMAC. Every instance serving the same data set
	// must share it, so that a nonce issued by one verifies on another;
	// at least MinSecretLen bytes. Changing it makes every outstanding
	// nonce invalid (clients then get a fresh challenge, not stale=true).
	Secret []byte
	// Clock dates nonces and ages them. Required: the package never
	// reads the wall clock itself, so tests and callers control nonce
	// ageing.
	Clock clock.Clock
	// NonceTTL is the age after which a nonce is stale (default
	// DefaultNonceTTL). It also bounds accepted clock skew between
	// instances: a nonce issued more than NonceTTL in the future is
	// stale too.
	NonceTTL time.Duration
	// Realm is the protection space (default DefaultRealm). It is part of
	// every stored HA1, so changing it invalidates all of them. It may not
	// contain quotes, backslashes, control characters or ", ": the
	// official client does not unquote and splits the challenge on ", ".
	Realm string
	// Algorithms are the algorithms offered, in the order of the
	// WWW-Authenticate values, and the only ones Verify accepts. Default
	// [MD5], the service's exact challenge. [MD5, SHA256] adds a SHA-256
	// value after the MD5 one: the official client reads only the first
	// value and so keeps using MD5 (TestOfficialClientRoundTrip), while a
	// client that weighs every value may choose SHA-256. [SHA256] alone
	// disables MD5; the official client supports that too, but the 401 then
	// differs from the service's.
	Algorithms []Algorithm
	// Replay remembers the nc values used per nonce issued while this
	// instance was alone (default: a MemoryReplayGuard of
	// DefaultReplayCapacity entries).
	Replay ReplayGuard
	// Instance identifies this instance among those sharing the Secret:
	// its nonces carry it, and it accepts the unshared nonces of no other
	// (they answer stale=true). Instances sharing a data set need
	// distinct values; a lone server may leave it zero.
	Instance uint32
	// Shared is the replay memory of every instance sharing the Secret,
	// used for the nonces issued while SetShared(true). nil means this
	// server never shares (SetShared then panics).
	Shared SharedReplayGuard
}

// Server issues challenges and verifies Digest credentials. It is safe
// for concurrent use.
type Server struct {
	instance uint32
	seq      atomic.Uint32 // the nonce counter
	sharing  atomic.Bool   // issue shared nonces
	shared   SharedReplayGuard

	now    func() time.Time
	ttl    time.Duration
	realm  string
	algs   []Algorithm
	replay ReplayGuard
	mac    macKey
	// prefix is the challenge up to the nonce's value, the same for
	// every challenge: built once.
	prefix string
}

// New checks cfg, fills in its defaults and returns a Server.
func New(cfg Config) (*Server, error) {
	if len(cfg.Secret) < MinSecretLen {
		return nil, fmt.Errorf("digest: Config.Secret must be at least %d bytes", MinSecretLen)
	}
	if cfg.Clock == nil {
		return nil, errors.New("digest: Config.Clock is required")
	}
	if cfg.NonceTTL < 0 {
		return nil, errors.New("digest: Config.NonceTTL must not be negative")
	}
	if cfg.NonceTTL == 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.Realm == "" {
		cfg.Realm = DefaultRealm
	}
	if strings.Contains(cfg.Realm, ", ") {
		return nil, errors.New(`digest: Config.Realm must not contain ", "`)
	}
	for i := 0; i < len(cfg.Realm); i++ {
		if c := cfg.Realm[i]; c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			return nil, fmt.Errorf("digest: Config.Realm must not contain %q", c)
		}
	}
	algs := []Algorithm{MD5}
	if len(cfg.Algorithms) > 0 {
		algs = make([]Algorithm, 0, len(cfg.Algorithms))
		for _, a := range cfg.Algorithms {
			if a != MD5 && a != SHA256 {
				return nil, fmt.Errorf("digest: unsupported algorithm %v", a)
			}
			for _, b := range algs {
				if a == b {
					return nil, fmt.Errorf("digest: algorithm %v listed twice", a)
				}
			}
			algs = append(algs, a)
		}
	}
	if cfg.Replay == nil {
		cfg.Replay = NewMemoryReplayGuard(cfg.NonceTTL, DefaultReplayCapacity)
	}
	return &Server{
		instance: cfg.Instance,
		shared:   cfg.Shared,
		now:      cfg.Clock.Now,
		ttl:      cfg.NonceTTL,
		realm:    cfg.Realm,
		algs:     algs,
		replay:   cfg.Replay,
		mac:      newMACKey(cfg.Secret),
		prefix:   `Digest realm="` + cfg.Realm + `", domain="", nonce="`,
	}, nil
}

// SetShared sets whether the nonces issued from now on are shared: their
// counts are remembered through Config.Shared, a store round trip per
// request, and any instance sharing it accepts them. Set it while other
// instances serve the same data set, so that a client whose challenge
// came from one instance and whose response goes to another is served,
// and a response replayed to any instance is refused. Alone, an instance
// issues unshared nonces and remembers their counts in memory: only it
// accepts them, and no request waits on the store.
//
// Whichever way nonces were issued, they are verified that way, so
// turning sharing on or off opens no window: an unshared nonce is never
// accepted by another instance, even one that has since turned sharing
// on, and a shared nonce is always checked against the shared memory.
func (s *Server) SetShared(on bool) {
	if on && s.shared == nil {
		panic("digest: SetShared(true) without Config.Shared")
	}
	s.sharing.Store(on)
}

// Realm returns the realm the server challenges with, which stored HA1
// values must have been computed with.
func (s *Server) Realm() string { return s.realm }

// Challenge returns a WWW-Authenticate value with a fresh nonce for the
// first configured algorithm. With the default configuration it is the
// service's challenge byte for byte:
//
//	Digest realm="MMS Public API", domain="", nonce="…", algorithm=MD5, qop="auth", stale=false
//
// The parameter order and quoting (algorithm and stale bare, qop quoted,
// no opaque) are the service's; the official client rejects the challenge
// if any parameter it does not know appears. stale=true tells the client
// its credentials were right but its nonce too old (Result.Stale).
func (s *Server) Challenge(stale bool) string {
	var n [nonceLen]byte
	s.mint(&n, s.now())
	return s.challenge(s.algs[0], n[:], stale)
}

// Challenges returns one WWW-Authenticate value per configured algorithm,
// in the configured order, all carrying the same fresh nonce (as in RFC
// 7616 §3.9.1: a nonce is not tied to an algorithm). Send them as separate
// header values, never joined into one: the official client parses the
// first value only and would reject a second "Digest" inside it.
func (s *Server) Challenges(stale bool) []string {
	var n [nonceLen]byte
	s.mint(&n, s.now())
	out := make([]string, len(s.algs))
	for i, a := range s.algs {
		out[i] = s.challenge(a, n[:], stale)
	}
	return out
}

func (s *Server) challenge(a Algorithm, nonce []byte, stale bool) string {
	tail := `", algorithm=` + a.String() + `, qop="auth", stale=false`
	if stale {
		tail = `", algorithm=` + a.String() + `, qop="auth", stale=true`
	}
	return s.prefix + string(nonce) + tail
}

// Hashes are the HA1 values stored for one user, lowercase hex, one per
// algorithm; an empty field means the user cannot authenticate with that
// algorithm. They are password equivalent for this realm (whoever holds
// one can answer any challenge), so store them like secrets.
type Hashes struct {
	MD5    string
	SHA256 string
}

// For returns the HA1 for an algorithm.
func (h Hashes) For(a Algorithm) string {
	if a == SHA256 {
		return h.SHA256
	}
	if a == MD5 {
		return h.MD5
	}
	return ""
}

// NewHashes computes the HA1 of every algorithm for a user, which is
// what the store keeps instead of the password.
func NewHashes(username, realm, password string) Hashes {
	return Hashes{
		MD5:    HA1(MD5, username, realm, password),
		SHA256: HA1(SHA256, username, realm, password),
	}
}

// HA1 returns H(username:realm:password) in lowercase hex for an
// algorithm (RFC 7616 §3.4.2), or "" for an unknown one.
func HA1(alg Algorithm, username, realm, password string) string {
	if alg != MD5 && alg != SHA256 {
		return ""
	}
	b := make([]byte, 0, len(username)+len(realm)+len(password)+2)
	b = append(b, username...)
	b = append(b, ':')
	b = append(b, realm...)
	b = append(b, ':')
	b = append(b, password...)
	var dst [2 * sha256.Size]byte
	return string(alg.sum(&dst, b))
}
