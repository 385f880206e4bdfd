package auth

import (
	"fmt"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestGenerationBound fills a generation with tokens, API keys, service
// accounts and live token ids past its byte bound: what it counts never
// exceeds the bound, matches the entries it holds, and an entry already
// held is not counted twice.
func TestGenerationBound(t *testing.T) {
	const bound = 64 << 10
	g := &generation{keys: map[string]keyEntry{}, accounts: map[string]accountEntry{}, live: map[string]struct{}{}, tokens: map[string]tokenEntry{}}
	p := &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "abcdefgh", Grants: []backup.Grant{{Role: backup.OrgReadOnly}}}
	for i := range 2000 {
		tok := fmt.Sprintf("eyJ%0400d", i)
		c := oauth.Claims{Issuer: "checkpointd", Subject: "mdb_sa_id_0123", Audience: "api", ID: fmt.Sprint(i)}
		g.keepToken(tok, tokenEntry{claims: c, principal: p}, bound)
		g.keepToken(tok, tokenEntry{claims: c, principal: p}, bound) // again: held once, counted once
		g.mu.Lock()
		for _, k := range []string{fmt.Sprintf("key%d", i), fmt.Sprintf("acct%d", i), fmt.Sprintf("jti%d", i)} {
			switch {
			case strings.HasPrefix(k, "key"):
				if e := (keyEntry{principal: p}); g.fits(keyCost(k, e), bound) {
					g.keys[k] = e
				}
			case strings.HasPrefix(k, "acct"):
				if e := (accountEntry{principal: p}); g.fits(accountCost(k, e), bound) {
					g.accounts[k] = e
				}
			default:
				if g.fits(liveCost(k), bound) {
					g.live[k] = struct{}{}
				}
			}
		}
		g.mu.Unlock()
		if g.bytes > bound {
			t.Fatalf("%d bytes counted after %d rounds, bound %d", g.bytes, i+1, bound)
		}
	}
	var sum int64
	for tok, e := range g.tokens {
		sum += tokenCost(tok, e)
	}
	for k, e := range g.keys {
		sum += keyCost(k, e)
	}
	for k, e := range g.accounts {
		sum += accountCost(k, e)
	}
	for k := range g.live {
		sum += liveCost(k)
	}
	if sum != g.bytes || len(g.tokens) == 0 || len(g.tokens) >= 2000 {
		t.Fatalf("entries cost %d, counted %d; %d tokens kept", sum, g.bytes, len(g.tokens))
	}
}
