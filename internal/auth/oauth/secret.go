package oauth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Secrets are hashed with argon2id rather than bcrypt:
//   - argon2id is memory-hard, so a stolen data set costs an attacker GPU
//     memory, not just cycles; bcrypt's 4 KiB state does not;
//   - bcrypt reads at most 72 bytes, a limit that is harmless for today's
//     50-byte secrets but a trap if the format ever grows;
//   - the PHC string records m, t and p, so SecretNeedsRehash can spot old
//     hashes and the server can upgrade them at the next successful login.
//
// The secrets are random with 240 bits of entropy, so the hash is defence
// in depth, not what stands between an attacker and a guessable password.
// The cost is set accordingly: OWASP's first argon2id recommendation
// (19 MiB, 2 passes, 1 lane) takes a few tens of milliseconds on one core.
// A client mints a token about once an hour, so that is invisible to it.
// What matters on a 2-core machine is the worst case, many token requests
// at once: hashSlots bounds the hashes running at the same time, which
// bounds the memory to GOMAXPROCS × 19 MiB and leaves the other requests
// queued instead of the process swapping.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32

	// Bounds on what a stored string may ask for, so that a corrupted or
	// hostile row cannot make one verification allocate gigabytes.
	maxArgonMemory  = 1 << 20 // KiB, 1 GiB
	maxArgonTime    = 64
	maxArgonThreads = 16
)

// ErrMalformedHash reports a stored secret hash that is not an argon2id PHC
// string this package can verify.
var ErrMalformedHash = errors.New("oauth: malformed secret hash")

var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

// argonParams are the parameters recorded in a PHC string.
type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

func (p *argonParams) derive(secret string, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(secret), p.salt, p.time, p.memory, p.threads, keyLen)
}

// HashSecret returns the argon2id hash of a client secret in the PHC string
// format, e.g. $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> with unpadded
// standard base64 for salt and hash. Only the hash is stored: the secret is
// shown to the user once, when it is created.
func HashSecret(secret string) string {
	p := argonParams{memory: argonMemory, time: argonTime, threads: argonThreads, salt: make([]byte, argonSaltLen)}
	_, _ = rand.Read(p.salt)
	p.key = p.derive(secret, argonKeyLen)
	return p.encode()
}

func (p *argonParams) encode() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(p.salt), base64.RawStdEncoding.EncodeToString(p.key))
}

// CompareSecret reports whether secret matches the stored hash encoded.
// The comparison is constant-time. An error means the stored hash itself is
// unusable, which the caller should treat as a server error, not as wrong
// credentials.
//
// Pass encoded == "" when the client id is unknown: the secret is then
// hashed against a fixed dummy hash with the current parameters and the
// result is false, so an unknown id costs as long as a wrong secret and the
// response time does not reveal which ids exist.
func CompareSecret(encoded, secret string) (bool, error) {
	if encoded == "" {
		encoded = dummyHash()
		p, _ := parsePHC(encoded)
		p.derive(secret, uint32(len(p.key)))
		return false, nil
	}
	p, err := parsePHC(encoded)
	if err != nil {
		return false, err
	}
	got := p.derive(secret, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1, nil
}

// SecretNeedsRehash reports whether a stored hash was made with other
// parameters than HashSecret uses now (or cannot be read), so that the
// server can store a fresh hash after the next successful comparison. That
// is how the cost is raised later without asking users for new secrets.
func SecretNeedsRehash(encoded string) bool {
	p, err := parsePHC(encoded)
	return err != nil || p.memory != argonMemory || p.time != argonTime || p.threads != argonThreads ||
		len(p.salt) != argonSaltLen || len(p.key) != argonKeyLen
}

var dummyHash = sync.OnceValue(func() string { return HashSecret(NewClientSecret()) })

// parsePHC reads $argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash>, strictly.
func parsePHC(s string) (*argonParams, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, ErrMalformedHash
	}
	var p argonParams
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return nil, ErrMalformedHash
	}
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok {
			return nil, ErrMalformedHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return nil, ErrMalformedHash
		}
		switch i {
		case 0:
			p.memory = uint32(n)
		case 1:
			p.time = uint32(n)
		case 2:
			if n > maxArgonThreads {
				return nil, ErrMalformedHash
			}
			p.threads = uint8(n)
		}
	}
	if p.memory > maxArgonMemory || p.time > maxArgonTime || p.memory < 8*uint32(p.threads) {
		return nil, ErrMalformedHash
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil || len(p.salt) < 8 || len(p.salt) > 64 {
		return nil, ErrMalformedHash
	}
	if p.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return nil, ErrMalformedHash
	}
	return &p, nil
}
