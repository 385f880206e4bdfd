package auth

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
)

// DefaultCacheSize bounds, in bytes, what a generation holds when
// Config.CacheSize is 0: some 4 000 bearer tokens, or 10 000 API keys.
// Unknown usernames are cached too (so that a client retrying a wrong key
// costs no store read), and the bound keeps a flood of made-up ones, or
// of tokens, from growing memory: past it, lookups go to the store
// uncached until the next generation.
const DefaultCacheSize = 2 << 20

// Sizes for the cost of entries (fits): a string header, and what a Go
// map spends on an entry beyond its key and value (its control byte and
// the slack of a table at most 7/8 full, rounded up).
const (
	stringSize = int64(unsafe.Sizeof(""))
	mapEntry   = 16
)

func principalCost(p *backup.Principal) int64 {
	if p == nil {
		return 0
	}
	return int64(unsafe.Sizeof(*p)) + int64(len(p.ID)) +
		int64(cap(p.Grants))*int64(unsafe.Sizeof(backup.Grant{})) +
		int64(cap(p.AccessList))*int64(unsafe.Sizeof(netip.Prefix{}))
}

func keyCost(publicKey string, e keyEntry) int64 {
	return mapEntry + stringSize + int64(len(publicKey)) + int64(unsafe.Sizeof(e)) +
		int64(len(e.hashes.MD5)+len(e.hashes.SHA256)) + principalCost(e.principal)
}

func accountCost(clientID string, e accountEntry) int64 {
	return mapEntry + stringSize + int64(len(clientID)) + int64(unsafe.Sizeof(e)) + principalCost(e.principal)
}

// tokenCost counts the principal's pointer, not the principal: the
// service account's entry holds it too, and counts it there.
func tokenCost(tok string, e tokenEntry) int64 {
	c := e.claims
	return mapEntry + stringSize + int64(len(tok)) + int64(unsafe.Sizeof(e)) +
		int64(len(c.Issuer)+len(c.Subject)+len(c.Audience)+len(c.ID))
}

func liveCost(jti string) int64 { return mapEntry + stringSize + int64(len(jti)) }

// fits reports whether an entry costing cost fits in the generation's
// bound max, and counts it if so. g.mu must be held for writing.
func (g *generation) fits(cost, max int64) bool {
	if g.bytes+cost > max {
		return false
	}
	g.bytes += cost
	return true
}

// generation is the credential cache for one value of the store's auth
// epoch. When the epoch moves, the next request starts a new, empty
// generation; the old one is dropped whole, so no entry can outlive a
// credential write.
type generation struct {
	epoch int64
	// checked is when the store last confirmed epoch (Unix nanoseconds of
	// the Authenticator's clock), for Config.Refresh.
	checked atomic.Int64

	mu       sync.RWMutex
	keys     map[string]keyEntry     // by public key
	accounts map[string]accountEntry // by client id
	live     map[string]struct{}     // token ids known not to be revoked
	tokens   map[string]tokenEntry   // bearer tokens that passed Verify, of an account that exists
	bytes    int64                   // what the maps' entries cost (fits)
}

// tokenEntry is a bearer token that passed verification, and its
// service account's principal: within a generation neither can change
// (deleting the account, like any credential write, starts a new one),
// so a request with a kept token needs only the token's times checked.
type tokenEntry struct {
	claims    oauth.Claims
	principal *backup.Principal // not nil
}

// verifiedToken returns a bearer token that passed verification in this
// generation.
func (g *generation) verifiedToken(tok string) (tokenEntry, bool) {
	g.mu.RLock()
	e, ok := g.tokens[tok]
	g.mu.RUnlock()
	return e, ok
}

// keepToken remembers a token that passed verification, of an account
// that exists, up to max bytes of entries per generation: past it,
// tokens are verified on every request.
func (g *generation) keepToken(tok string, e tokenEntry, max int64) {
	g.mu.Lock()
	if _, dup := g.tokens[tok]; !dup && g.fits(tokenCost(tok, e), max) {
		g.tokens[strings.Clone(tok)] = e // not the request's memory
	}
	g.mu.Unlock()
}

// keyEntry is an API key as authentication needs it; principal is nil
// for an unknown public key.
type keyEntry struct {
	principal *backup.Principal
	hashes    digest.Hashes
}

type accountEntry struct {
	principal *backup.Principal
}

// generation returns the cache for the store's current auth epoch, or,
// with Config.Refresh, for the epoch the store confirmed less than Refresh
// before at (a reading of the Authenticator's clock).
func (a *Authenticator) generation(ctx context.Context, at time.Time) (*generation, error) {
	g := a.cache.Load()
	now := at.UnixNano()
	if a.refresh > 0 && g.epoch >= 0 {
		// A clock that went backwards counts as stale, not as fresh.
		if age := now - g.checked.Load(); age >= 0 && age < int64(a.refresh) {
			return g, nil
		}
	}
	epoch, err := a.st.AuthEpoch(asServer(ctx))
	if err != nil {
		return nil, fmt.Errorf("auth: epoch: %w", err)
	}
	if g.epoch == epoch {
		g.checked.Store(now)
		return g, nil
	}
	ng := &generation{epoch: epoch, keys: map[string]keyEntry{}, accounts: map[string]accountEntry{}, live: map[string]struct{}{}, tokens: map[string]tokenEntry{}}
	ng.checked.Store(now)
	// Another request may have swapped in the same epoch meanwhile; either
	// generation is right, and the loser's entries are merely refetched.
	a.cache.CompareAndSwap(g, ng)
	return ng, nil
}

func (a *Authenticator) apiKey(ctx context.Context, g *generation, publicKey string) (keyEntry, error) {
	g.mu.RLock()
	e, ok := g.keys[publicKey]
	g.mu.RUnlock()
	if ok {
		return e, nil
	}
	k, ha1, err := a.st.APIKey(asServer(ctx), publicKey)
	switch {
	case backup.IsCode(err, backup.CodeAPIKeyNotFound):
		e = keyEntry{}
	case err != nil:
		return keyEntry{}, err
	default:
		e = keyEntry{principal: k.Principal(), hashes: digest.Hashes{MD5: ha1.MD5, SHA256: ha1.SHA256}}
	}
	g.mu.Lock()
	if _, dup := g.keys[publicKey]; !dup && g.fits(keyCost(publicKey, e), a.cacheSize) {
		g.keys[strings.Clone(publicKey)] = e
	}
	g.mu.Unlock()
	return e, nil
}

func (a *Authenticator) serviceAccount(ctx context.Context, g *generation, clientID string) (accountEntry, error) {
	g.mu.RLock()
	e, ok := g.accounts[clientID]
	g.mu.RUnlock()
	if ok {
		return e, nil
	}
	sa, _, err := a.st.ServiceAccount(asServer(ctx), clientID)
	switch {
	case backup.IsCode(err, backup.CodeServiceAccountNotFound):
		e = accountEntry{}
	case err != nil:
		return accountEntry{}, err
	default:
		e = accountEntry{principal: sa.Principal()}
	}
	g.mu.Lock()
	if _, dup := g.accounts[clientID]; !dup && g.fits(accountCost(clientID, e), a.cacheSize) {
		g.accounts[strings.Clone(clientID)] = e
	}
	g.mu.Unlock()
	return e, nil
}

// invalidate drops the cache, so that the next request asks the store:
// after a credential write through this instance, which must take effect
// here at once whatever Config.Refresh says.
func (a *Authenticator) invalidate() {
	a.cache.Store(&generation{epoch: -1})
}

// revocations is the token verifier's RevocationChecker: a token id found
// unrevoked stays so for the rest of its generation (a revocation moves
// the epoch), so a token costs one store read per generation, not one per
// request.
type revocations struct{ a *Authenticator }

type generationKey struct{}

func withGeneration(ctx context.Context, g *generation) context.Context {
	return context.WithValue(ctx, generationKey{}, g)
}

func (r revocations) IsRevoked(ctx context.Context, jti string) (bool, error) {
	g, _ := ctx.Value(generationKey{}).(*generation)
	if g != nil {
		g.mu.RLock()
		_, live := g.live[jti]
		g.mu.RUnlock()
		if live {
			return false, nil
		}
	}
	revoked, err := r.a.st.IsRevoked(asServer(ctx), jti)
	if err != nil || revoked || g == nil {
		return revoked, err
	}
	g.mu.Lock()
	if _, dup := g.live[jti]; !dup && g.fits(liveCost(jti), r.a.cacheSize) {
		g.live[strings.Clone(jti)] = struct{}{}
	}
	g.mu.Unlock()
	return false, nil
}
