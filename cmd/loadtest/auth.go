package main

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// Kinds of credentials (-auth).
const (
	authNone   = "none"
	authBearer = "bearer"
	authDigest = "digest"
)

// credentials are how the load test authenticates its requests: none, a
// service account's bearer token, or an API key over HTTP Digest.
type credentials struct {
	kind string

	// bearer: the service account, to mint tokens with.
	tokenURL, clientID, secret string
	mu                         sync.Mutex
	token                      string
	expires                    time.Time

	// digest: the API key.
	user, pass string
}

var noCredentials = &credentials{kind: authNone}

// credentialStore is where newCredentials creates them.
type credentialStore interface {
	admin.ServiceAccountCreator
	admin.APIKeyCreator
}

// newCredentials creates, in the seeded organization, a service account
// (bearer) or an API key (digest) with ORG_READ_ONLY. apiURL is the
// server whose token endpoint mints the tokens.
func newCredentials(ctx context.Context, kind string, db credentialStore, apiURL string) (*credentials, error) {
	grants := []backup.Grant{{Role: backup.OrgReadOnly}}
	switch kind {
	case authNone:
		return noCredentials, nil
	case authBearer:
		// Named by the time: a kept database gains one account a run.
		sa, secret, err := admin.CreateServiceAccount(ctx, db, orgID, "loadtest-"+strconv.FormatInt(time.Now().Unix(), 10), "load test", grants, nil, admin.MinSecretTTL, clock.System)
		if err != nil {
			return nil, err
		}
		c := &credentials{kind: kind, tokenURL: apiURL + "/api/oauth/token", clientID: sa.ClientID, secret: secret}
		if _, err := c.bearer(ctx, 0); err != nil {
			return nil, err
		}
		return c, nil
	case authDigest:
		k, private, err := admin.CreateAPIKey(ctx, db, orgID, "load test", grants, nil, clock.System)
		if err != nil {
			return nil, err
		}
		return &credentials{kind: kind, user: k.PublicKey, pass: private}, nil
	}
	return nil, fmt.Errorf("-auth: %q is none of bearer, digest or none", kind)
}

// newCredentialsLater creates a service account as newCredentials does,
// its token to be minted by the server at(…) names.
func newCredentialsLater(ctx context.Context, db credentialStore) (*credentials, error) {
	sa, secret, err := admin.CreateServiceAccount(ctx, db, orgID, "loadtest-"+strconv.FormatInt(time.Now().Unix(), 10), "load test",
		[]backup.Grant{{Role: backup.OrgReadOnly}}, nil, admin.MinSecretTTL, clock.System)
	if err != nil {
		return nil, err
	}
	return &credentials{kind: authBearer, clientID: sa.ClientID, secret: secret}, nil
}

// at returns the service account's credentials with tokens minted by the
// server at apiURL.
func (c *credentials) at(apiURL string) *credentials {
	return &credentials{kind: c.kind, tokenURL: apiURL + "/api/oauth/token", clientID: c.clientID, secret: c.secret, user: c.user, pass: c.pass}
}

// bearer returns the Authorization value of the current access token,
// minting a new one through the token endpoint when the current one would
// expire within d (tokens live an hour; a target lasts -duration).
func (c *credentials) bearer(ctx context.Context, d time.Duration) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Until(c.expires) > d+time.Minute {
		return "Bearer " + c.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tokenURL, strings.NewReader("grant_type=client_credentials"))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(url.QueryEscape(c.clientID), url.QueryEscape(c.secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	t0 := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if res.StatusCode != 200 || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" || !strings.EqualFold(tok.TokenType, "Bearer") {
		return "", fmt.Errorf("POST %s: %d %s", c.tokenURL, res.StatusCode, b)
	}
	c.token, c.expires = tok.AccessToken, t0.Add(time.Duration(tok.ExpiresIn)*time.Second)
	return "Bearer " + c.token, nil
}

// describe says what the credentials are, for the report.
func (c *credentials) describe() string {
	switch c.kind {
	case authBearer:
		return fmt.Sprintf("bearer: service account %s (ORG_READ_ONLY), one token from POST /api/oauth/token on every request", c.clientID)
	case authDigest:
		return fmt.Sprintf("digest: API key %s (ORG_READ_ONLY), MD5, qop=auth; each connection reuses one nonce with a growing nc", c.user)
	}
	return "none"
}

// signer sets the credentials of each request of one connection.
type signer func(*http.Request) error

// conn returns the signer of one connection that loads target for d.
// Digest takes its nonce from target's challenge (a request without
// credentials) and reuses it, as a client that avoids the second round
// trip does.
func (c *credentials) conn(ctx context.Context, client *http.Client, target string, d time.Duration) (signer, error) {
	switch c.kind {
	case authBearer:
		h, err := c.bearer(ctx, d)
		if err != nil {
			return nil, err
		}
		return func(r *http.Request) error { r.Header.Set("Authorization", h); return nil }, nil
	case authDigest:
		return c.digestConn(ctx, client, target).sign, nil
	}
	return func(*http.Request) error { return nil }, nil
}

// presigned is conn for a client that sends n GET requests to target:
// a digest client computes their responses now (nc 1 to n of its nonce)
// and then only writes them into its headers, as long as its nonce
// lasts.
func (c *credentials) presigned(ctx context.Context, client *http.Client, target string, d time.Duration, n int) (signer, error) {
	if c.kind != authDigest {
		return c.conn(ctx, client, target, d)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	dc := c.digestConn(ctx, client, target)
	if err := dc.challenge(); err != nil {
		return nil, err
	}
	uri := req.URL.RequestURI()
	dc.presigned = make([][md5.Size]byte, 0, n)
	dc.presignedURI = uri
	for nc := uint32(1); nc <= uint32(n); nc++ {
		dc.presigned = append(dc.presigned, dc.response(http.MethodGet, uri, nc))
	}
	return dc.sign, nil
}

// digestConn returns a new Digest client of the API key, whose first
// request fetches a nonce from target.
func (c *credentials) digestConn(ctx context.Context, client *http.Client, target string) *digestConn {
	dc := &digestConn{ctx: ctx, client: client, url: target, user: c.user, ha1: md5hex(c.user + ":" + digest.DefaultRealm + ":" + c.pass)}
	var b [8]byte
	_, _ = rand.Read(b[:])
	dc.cnonce = hex.EncodeToString(b[:])
	return dc
}

// digestConn is one connection's Digest client state.
type digestConn struct {
	ctx         context.Context
	client      *http.Client
	url         string
	user, ha1   string
	cnonce      string
	nonce       string
	nonceIssued time.Time
	nc          uint32
	buf         []byte

	// presigned[i] is the response for nc i+1 of the current nonce to a
	// GET of presignedURI.
	presigned    [][md5.Size]byte
	presignedURI string
}

// nonceRefresh is how long a connection reuses a nonce: under the
// server's nonce lifetime (digest.DefaultNonceTTL, 60 s), so that no
// request of the run is refused as stale.
const nonceRefresh = digest.DefaultNonceTTL - 15*time.Second

var challengeNonce = regexp.MustCompile(`(?i)^Digest .*\bnonce="([^"]+)".*\balgorithm=MD5\b`)

func (d *digestConn) sign(r *http.Request) error {
	if d.nonce == "" || time.Since(d.nonceIssued) > nonceRefresh {
		if err := d.challenge(); err != nil {
			return err
		}
	}
	d.nc++
	uri := r.URL.RequestURI()
	var resp [md5.Size]byte
	if i := int(d.nc) - 1; i < len(d.presigned) && r.Method == http.MethodGet && uri == d.presignedURI {
		resp = d.presigned[i]
	} else {
		resp = d.response(r.Method, uri, d.nc)
	}
	// Appended into one buffer rather than formatted: the generator
	// shares the machine with the server, and its cost per request
	// should be as close to bearer's as a digest client's can be.
	nc := ncHex(d.nc)
	b := append(d.buf[:0], `Digest username="`...)
	b = append(b, d.user...)
	b = append(b, `", realm="`...)
	b = append(b, digest.DefaultRealm...)
	b = append(b, `", nonce="`...)
	b = append(b, d.nonce...)
	b = append(b, `", uri="`...)
	b = append(b, uri...)
	b = append(b, `", response="`...)
	b = hex.AppendEncode(b, resp[:])
	b = append(b, `", algorithm=MD5, qop=auth, nc=`...)
	b = append(b, nc[:]...)
	b = append(b, `, cnonce="`...)
	b = append(b, d.cnonce...)
	b = append(b, '"')
	d.buf = b
	r.Header["Authorization"] = []string{string(b)}
	return nil
}

// response is the Digest response (qop=auth, MD5) for a request with
// this nonce count.
func (d *digestConn) response(method, uri string, count uint32) [md5.Size]byte {
	nc := ncHex(count)
	b := append(d.buf[:0], method...)
	b = append(b, ':')
	b = append(b, uri...)
	ha2 := md5.Sum(b)
	b = append(b[:0], d.ha1...)
	b = append(b, ':')
	b = append(b, d.nonce...)
	b = append(b, ':')
	b = append(b, nc[:]...)
	b = append(b, ':')
	b = append(b, d.cnonce...)
	b = append(b, ":auth:"...)
	b = hex.AppendEncode(b, ha2[:])
	d.buf = b
	return md5.Sum(b)
}

// ncHex is a nonce count as Digest writes it: 8 hex digits.
func ncHex(v uint32) [8]byte {
	var nc [8]byte
	for i := 7; i >= 0; i, v = i-1, v>>4 {
		nc[i] = "0123456789abcdef"[v&0xf]
	}
	return nc
}

// challenge fetches a fresh nonce: the MD5 challenge of a 401.
func (d *digestConn) challenge() error {
	req, err := http.NewRequestWithContext(d.ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", accept)
	t0 := time.Now()
	res, err := d.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("GET %s without credentials: %d, want 401", d.url, res.StatusCode)
	}
	for _, v := range res.Header.Values("Www-Authenticate") {
		if m := challengeNonce.FindStringSubmatch(v); m != nil {
			d.nonce, d.nonceIssued, d.nc = m[1], t0, 0
			d.presigned = nil // they were for the old nonce
			return nil
		}
	}
	return fmt.Errorf("GET %s: no MD5 digest challenge in %q", d.url, res.Header.Values("Www-Authenticate"))
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
