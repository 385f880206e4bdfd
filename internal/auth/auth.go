// Package auth authenticates API requests as MongoDB Cloud does: HTTP
// Digest with programmatic API keys, and OAuth 2.0 bearer tokens of
// service accounts (minted at /api/oauth/token), then the caller's API
// access list and a per-caller rate limit.
//
// Everything an instance needs to verify what another instance issued is
// in the store: the HA1 of every API key, the hashed secrets of service
// accounts, the revoked token ids, the two shared secrets (the digest
// nonce HMAC key and the token signing key) and, while several instances
// serve one data set, the Digest nonce counts spent. So any number of
// instances over one data set accept each other's nonces and tokens, a
// Digest response is accepted once by all of them together, and a key
// deleted or a token revoked through one is refused by all of them at
// once. Rate limits are shared out among the live instances
// (SetInstances).
//
// Credentials are cached per instance, and the cache is checked on every
// request against the store's auth epoch, a counter that every credential
// write moves: one small read per request instead of one per lookup, and
// never a stale answer.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/auth/ratelimit"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// Store is what authentication reads and writes. *sqlite.DB satisfies it.
type Store interface {
	APIKey(ctx context.Context, publicKey string) (backup.APIKey, backup.DigestHA1, error)
	ServiceAccount(ctx context.Context, clientID string) (backup.ServiceAccount, []backup.ServiceAccountSecret, error)
	RevokeToken(ctx context.Context, jti string, expires time.Time) error
	IsRevoked(ctx context.Context, jti string) (bool, error)
	AuthEpoch(ctx context.Context) (int64, error)
	SharedSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error)
	// UseNonce is the Digest replay memory the instances share while
	// there are several (SetInstances).
	UseNonce(ctx context.Context, nonce []byte, nc uint32, expires time.Time) (bool, error)
}

// Names of the shared secrets in the store.
const (
	secretDigestNonce = "digest-nonce-hmac"
	secretTokenKey    = "oauth-token-hs256"
)

// Issuer is the iss claim of the access tokens every instance mints. It
// is fixed rather than the server's URL, so that instances behind one load
// balancer with different local addresses accept each other's tokens; the
// signing key, random per data set, is what ties a token to a deployment.
const Issuer = "checkpointd"

// DefaultRefresh is serve's default for Config.Refresh: a credential
// change made elsewhere is in force on every instance within a quarter of
// a second, and a busy instance reads the auth epoch four times a second
// instead of once per request.
const DefaultRefresh = 250 * time.Millisecond

// Limit is a rate limit: Requests per Window. The zero value is no limit.
type Limit struct {
	Requests int
	Window   time.Duration
}

// Config configures an Authenticator.
type Config struct {
	Store Store
	// Algorithms are the Digest algorithms offered, in the order of the
	// WWW-Authenticate values (default MD5 then SHA-256: the official
	// client reads only the first value, so it keeps the service's MD5).
	Algorithms []digest.Algorithm
	// TrustForwardedFor makes the client address, for API access lists and
	// the token endpoint's rate limit, the last address of
	// X-Forwarded-For: the one a single reverse proxy in front of the
	// server appended. Off by default: without a proxy that overwrites the
	// header, any client could claim any address.
	TrustForwardedFor bool
	// RateLimit limits each API key and service account (zero: none).
	RateLimit Limit
	// TokenRateLimit limits token and revoke requests per client address
	// and client id (zero: none). The service allows 50 a minute.
	TokenRateLimit Limit
	// Instance identifies this instance among those serving the data set
	// (instance.NewID); its Digest nonces carry it.
	Instance uint32
	// Refresh is how long credentials are trusted without asking the store
	// whether any changed (one read of its auth epoch). 0 asks on every
	// request: a key deleted or a token revoked anywhere is refused by the
	// very next request on every instance, at the cost of a store read per
	// request. A positive value bounds that delay instead: changes made
	// through this instance (a revoke at /api/oauth/revoke) still take
	// effect at once here, and everywhere else within Refresh.
	Refresh time.Duration
	// Clock times digest nonces, tokens, the credential cache and the
	// rate limits; nil means clock.System.
	Clock clock.Clock
	// Logger receives authentication failures at debug level and store
	// failures at error level. Secrets are never logged.
	Logger *slog.Logger
	// CacheSize bounds, in bytes, the credentials remembered between two
	// changes of the store's auth epoch: API keys, service accounts,
	// verified tokens and tokens known not to be revoked. 0 means
	// DefaultCacheSize; a negative size remembers none.
	CacheSize int64
}

// Authenticator implements the HTTP API's Authenticator and the OAuth token and
// revoke endpoints. It is safe for concurrent use.
type Authenticator struct {
	st        Store
	digest    *digest.Server
	tokens    *oauth.Tokens
	trustXFF  bool
	limit     *ratelimit.Limiter
	tokLimit  *ratelimit.Limiter
	now       func() time.Time
	log       *slog.Logger
	cache     atomic.Pointer[generation]
	cacheSize int64 // bytes of a generation; 0 keeps none
	refresh   time.Duration
}

// New loads (or, on a new data set, creates) the shared secrets and
// returns an Authenticator.
func New(ctx context.Context, cfg Config) (*Authenticator, error) {
	if cfg.Store == nil {
		return nil, errors.New("auth: Config.Store is required")
	}
	if cfg.Refresh < 0 {
		return nil, errors.New("auth: Config.Refresh must not be negative")
	}
	a := &Authenticator{st: cfg.Store, trustXFF: cfg.TrustForwardedFor, log: cfg.Logger, cacheSize: max(cfg.CacheSize, 0), refresh: cfg.Refresh}
	if cfg.CacheSize == 0 {
		a.cacheSize = DefaultCacheSize
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.System
	}
	a.now = clk.Now
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	ctx = asServer(ctx)
	random32 := func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	}
	nonceKey, err := cfg.Store.SharedSecret(ctx, secretDigestNonce, random32)
	if err != nil {
		return nil, fmt.Errorf("auth: digest nonce secret: %w", err)
	}
	algs := cfg.Algorithms
	if len(algs) == 0 {
		algs = []digest.Algorithm{digest.MD5, digest.SHA256}
	}
	dcfg := digest.Config{Secret: nonceKey, Clock: clk, Algorithms: algs, Instance: cfg.Instance, Shared: sharedNonces{cfg.Store}}
	if a.digest, err = digest.New(dcfg); err != nil {
		return nil, err
	}
	tokenKey, err := cfg.Store.SharedSecret(ctx, secretTokenKey, random32)
	if err != nil {
		return nil, fmt.Errorf("auth: token signing secret: %w", err)
	}
	ring, err := oauth.NewKeyRing(oauth.Key{ID: keyID(tokenKey), Secret: tokenKey})
	if err != nil {
		return nil, err
	}
	if a.tokens, err = oauth.NewTokens(oauth.Config{Keys: ring, Issuer: Issuer, Clock: clk, Revocations: revocations{a}}); err != nil {
		return nil, err
	}
	if a.limit, err = newLimiter(cfg.RateLimit, clk); err != nil {
		return nil, fmt.Errorf("auth: rate limit: %w", err)
	}
	if a.tokLimit, err = newLimiter(cfg.TokenRateLimit, clk); err != nil {
		return nil, fmt.Errorf("auth: token rate limit: %w", err)
	}
	a.cache.Store(&generation{epoch: -1})
	return a, nil
}

// SetInstances tells the Authenticator how many instances, itself
// included, serve the data set (instance.Member's OnChange), so that
// they behave as one:
//
//   - the rate limits are shared: each instance allows its 1/n of them
//     (ratelimit.Limiter.SetInstances), and a caller whose requests a
//     load balancer spreads over the instances gets the configured
//     limit from all of them together, with no store access per request;
//   - with more than one, Digest nonces are issued shared: any instance
//     accepts a nonce another issued, and each nonce count is spent once
//     across all of them, through the store's UseNonce (one insert per
//     Digest request). Alone, an instance remembers its nonces' counts
//     in memory (digest.Server.SetShared).
//
// Until it is called, the Authenticator acts as the only instance.
func (a *Authenticator) SetInstances(n int) {
	a.digest.SetShared(n > 1)
	for _, l := range []*ratelimit.Limiter{a.limit, a.tokLimit} {
		if l != nil {
			l.SetInstances(n)
		}
	}
}

func newLimiter(l Limit, clk clock.Clock) (*ratelimit.Limiter, error) {
	if l.Requests == 0 {
		return nil, nil
	}
	return ratelimit.New(ratelimit.Config{Requests: l.Requests, Window: l.Window, Clock: clk})
}

// sharedNonces is the store's nonce memory as the digest package uses
// it, called as the server (asServer) only when a shared nonce is spent.
type sharedNonces struct{ st Store }

func (s sharedNonces) UseNonce(ctx context.Context, nonce []byte, nc uint32, expires time.Time) (bool, error) {
	return s.st.UseNonce(asServer(ctx), nonce, nc, expires)
}

// keyID names the signing key by a hash of it, so that every instance
// derives the same kid from the shared secret and a rotated key gets a
// new one.
func keyID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return base64.RawURLEncoding.EncodeToString(sum[:8])
}

// asServer is ctx for the store reads and writes authentication makes:
// credentials are looked up before there is a caller, by the server
// itself (backup.System). It is applied at each store call rather than
// once per request, so that a request answered from the caches pays
// nothing for it.
func asServer(ctx context.Context) context.Context {
	return backup.WithPrincipal(ctx, backup.System)
}

// Authenticate implements the HTTP API's Authenticator.
func (a *Authenticator) Authenticate(r *http.Request) (*backup.Principal, error) {
	hdr := r.Header["Authorization"]
	if len(hdr) != 1 {
		// None, or several: ambiguous, so refuse rather than pick one.
		if len(hdr) == 0 {
			return nil, a.challenge(MissingCredentials)
		}
		return nil, a.challenge(MalformedCredentials)
	}
	ctx := r.Context()
	// One reading of the clock for the credential cache's age and the
	// token's times. The rate limit reads its own, under its lock
	// (ratelimit.Limiter.Allow).
	now := a.now()
	gen, err := a.generation(ctx, now)
	if err != nil {
		return nil, err
	}
	var p *backup.Principal
	switch scheme, _, _ := strings.Cut(hdr[0], " "); {
	case strings.EqualFold(scheme, "Digest"):
		p, err = a.verifyDigest(ctx, gen, r, hdr[0])
	case strings.EqualFold(scheme, "Bearer"):
		p, err = a.verifyBearer(ctx, gen, hdr[0], now)
	default:
		a.log.Debug("auth: unsupported scheme", "scheme", truncate(scheme, 16))
		err = a.challenge(MalformedCredentials)
	}
	if err != nil {
		return nil, err
	}
	if len(p.AccessList) > 0 {
		addr, raw, ok := a.clientAddr(r)
		if !ok || !p.AllowsAddr(addr) {
			return nil, backup.ErrIPNotOnAccessList(raw)
		}
	}
	if a.limit != nil {
		if ok, _ := a.limit.Allow(p.ID); !ok {
			return nil, backup.ErrRateLimited(r.URL.Path, a.limit.Requests(), minutes(a.limit.Window()))
		}
	}
	return p, nil
}

// minutes is a window in whole minutes for the 429 detail, at least 1.
func minutes(d time.Duration) int { return max(1, int(d/time.Minute)) }

// challenge asks for credentials; reason (one of Reasons) says
// why, for metrics, and StaleNonce makes the challenge
// stale=true.
func (a *Authenticator) challenge(reason string) error {
	return &Unauthorized{Challenges: a.digest.Challenges(reason == StaleNonce), Reason: reason}
}

func (a *Authenticator) verifyDigest(ctx context.Context, gen *generation, r *http.Request, hdr string) (*backup.Principal, error) {
	c, err := digest.ParseAuthorization(hdr)
	if err != nil {
		a.log.Debug("auth: malformed digest credentials", "err", err)
		return nil, a.challenge(MalformedCredentials)
	}
	var p *backup.Principal
	lookup := func(user string) (digest.Hashes, bool, error) {
		e, err := a.apiKey(ctx, gen, user)
		if err != nil || e.principal == nil {
			return digest.Hashes{}, false, err
		}
		p = e.principal
		return e.hashes, true, nil
	}
	res, err := a.digest.Verify(ctx, r.Method, r.RequestURI, c, lookup)
	switch {
	case err == nil:
		return p, nil
	case res.Stale:
		return nil, a.challenge(StaleNonce)
	case isDigestRefusal(err):
		a.log.Debug("auth: digest refused", "user", truncate(c.Username, 32), "err", err)
		return nil, a.challenge(digestRefusalReason(err))
	default:
		return nil, fmt.Errorf("auth: digest: %w", err)
	}
}

// digestRefusalReason names a refusal isDigestRefusal accepts, for
// metrics: a stale nonce with wrong credentials is a wrong password.
func digestRefusalReason(err error) string {
	switch {
	case errors.Is(err, digest.ErrReplay):
		return ReplayedNonce
	case errors.Is(err, digest.ErrUnknownUser), errors.Is(err, digest.ErrBadResponse), errors.Is(err, digest.ErrBadNonce):
		return BadCredentials
	}
	return MalformedCredentials
}

func isDigestRefusal(err error) bool {
	for _, e := range []error{digest.ErrMalformed, digest.ErrUnsupported, digest.ErrRealm, digest.ErrURI,
		digest.ErrBadNonce, digest.ErrUnknownUser, digest.ErrBadResponse, digest.ErrStaleNonce, digest.ErrReplay} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// verifyBearer authenticates a service account's access token. A refused
// token gets the same 401 as missing credentials, challenge included: the
// service's answer to a bad bearer token is not known
// (api-fidelity §10 question 6), and this one is what every official
// client already handles.
func (a *Authenticator) verifyBearer(ctx context.Context, gen *generation, hdr string, now time.Time) (*backup.Principal, error) {
	// A token verified before in this generation needs only its times
	// checked again: its signature and claims cannot have changed, and a
	// revocation, like any credential write, starts a new generation; nor
	// can its account, which the entry holds. It is looked up before its
	// form is checked: only a token BearerToken accepted is kept, so one
	// found is well-formed (and a long token's form is a scan of every
	// byte).
	if tok, ok := bearerPart(hdr); ok {
		if e, known := gen.verifiedToken(tok); known {
			if err := a.tokens.CheckTimeAt(e.claims, now); err != nil {
				return nil, a.tokenRefused(err)
			}
			return e.principal, nil
		}
	}
	tok, ok := oauth.BearerToken(hdr)
	if !ok {
		a.log.Debug("auth: malformed bearer credentials")
		return nil, a.challenge(MalformedCredentials)
	}
	claims, err := a.tokens.Verify(withGeneration(ctx, gen), tok)
	if err != nil {
		return nil, a.tokenRefused(err)
	}
	e, err := a.serviceAccount(ctx, gen, claims.Subject)
	if err != nil {
		return nil, err
	}
	if e.principal == nil {
		// The account was deleted after the token was issued.
		a.log.Debug("auth: token of a deleted service account")
		return nil, a.challenge(BadCredentials)
	}
	gen.keepToken(tok, tokenEntry{claims: claims, principal: e.principal}, a.cacheSize)
	return e.principal, nil
}

// tokenRefused is the answer to a bearer token the verifier refused: the
// challenge, or, for a failure that is no refusal (a store's), an error.
func (a *Authenticator) tokenRefused(err error) error {
	if reason, ok := tokenRefusalReason(err); ok {
		a.log.Debug("auth: bearer token refused", "err", err)
		return a.challenge(reason)
	}
	return fmt.Errorf("auth: bearer: %w", err)
}

// bearerPart is what follows the Bearer scheme in hdr, the token if
// oauth.BearerToken accepts hdr.
func bearerPart(hdr string) (string, bool) {
	const scheme = "Bearer "
	if len(hdr) <= len(scheme) || !strings.EqualFold(hdr[:len(scheme)], scheme) {
		return "", false
	}
	return hdr[len(scheme):], true
}

// tokenRefusalReason names a refused bearer token for metrics, and
// reports false for errors that are not refusals (a store failure).
func tokenRefusalReason(err error) (string, bool) {
	switch {
	case errors.Is(err, oauth.ErrExpiredToken):
		return ExpiredToken, true
	case errors.Is(err, oauth.ErrRevokedToken):
		return RevokedToken, true
	case errors.Is(err, oauth.ErrInvalidToken):
		return BadCredentials, true
	}
	return "", false
}

// clientAddr is the address access lists apply to, and its text for the
// 403 detail.
func (a *Authenticator) clientAddr(r *http.Request) (netip.Addr, string, bool) {
	raw := r.RemoteAddr
	if a.trustXFF {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			raw = strings.TrimSpace(last)
			addr, err := netip.ParseAddr(raw)
			return addr.Unmap(), truncate(raw, 64), err == nil
		}
	}
	if ap, err := netip.ParseAddrPort(raw); err == nil {
		return ap.Addr().Unmap(), ap.Addr().Unmap().String(), true
	}
	addr, err := netip.ParseAddr(raw)
	return addr.Unmap(), truncate(raw, 64), err == nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
