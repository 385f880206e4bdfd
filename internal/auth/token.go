package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
)

// Token serves POST /api/oauth/token: OAuth 2.0 client credentials, as
// the Atlas SDK asks for a service account's access token. The API access
// list is not checked here but when the token is used, as on the service.
func (a *Authenticator) Token(w http.ResponseWriter, r *http.Request) error {
	id, secret, err := oauth.ParseTokenRequest(r)
	if err != nil {
		return err
	}
	if err := a.limitToken(r, id); err != nil {
		return err
	}
	if err := a.checkClient(r.Context(), id, secret); err != nil {
		return err
	}
	tok, claims, err := a.tokens.Issue(id)
	if err != nil {
		return err
	}
	oauth.WriteToken(w, tok, claims.ExpiresIn())
	return nil
}

// Revoke serves POST /api/oauth/revoke (RFC 7009). A client may revoke
// only its own tokens; anything else it sends is answered 200 as if
// revoked, as RFC 7009 asks, so that the endpoint tells nothing about
// other clients' tokens.
func (a *Authenticator) Revoke(w http.ResponseWriter, r *http.Request) error {
	id, secret, tok, err := oauth.ParseRevokeRequest(r)
	if err != nil {
		return err
	}
	if err := a.limitToken(r, id); err != nil {
		return err
	}
	if err := a.checkClient(r.Context(), id, secret); err != nil {
		return err
	}
	claims, err := a.tokens.Inspect(tok)
	if err == nil && claims.Subject == id && a.now().Unix() < claims.ExpiresAt+int64(oauth.DefaultLeeway/time.Second) {
		// Keep the revocation a little past exp: a verifier tolerates that
		// much clock skew on exp.
		until := time.Unix(claims.ExpiresAt, 0).Add(oauth.DefaultLeeway)
		if err := a.st.RevokeToken(asServer(r.Context()), claims.ID, until); err != nil {
			return err
		}
		a.invalidate()
	}
	oauth.WriteRevoked(w)
	return nil
}

// limitToken applies the token endpoints' limit, per client address and
// client id as on the service; its 429 is the service's ApiError body
// (the form captured in production, not the OAuth-style one its
// documentation shows).
func (a *Authenticator) limitToken(r *http.Request, clientID string) error {
	if a.tokLimit == nil {
		return nil
	}
	_, addr, _ := a.clientAddr(r)
	if ok, _ := a.tokLimit.Allow(addr + " " + clientID); !ok {
		return backup.ErrRateLimited(r.URL.Path, a.tokLimit.Requests(), minutes(a.tokLimit.Window()))
	}
	return nil
}

// checkClient verifies a client id and secret against the service
// account's unexpired secrets. Every refusal costs one secret hash, known
// id or not, so timing does not reveal which ids exist.
func (a *Authenticator) checkClient(ctx context.Context, id, secret string) error {
	_, secrets, err := a.st.ServiceAccount(asServer(ctx), id)
	if err != nil && !backup.IsCode(err, backup.CodeServiceAccountNotFound) {
		return err
	}
	now := a.now()
	compared := false
	for _, s := range secrets {
		if !now.Before(s.Expires) {
			continue
		}
		compared = true
		ok, err := oauth.CompareSecret(s.Hash, secret)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	if !compared {
		_, _ = oauth.CompareSecret("", secret)
	}
	a.log.Debug("auth: token request refused", "client_id", truncate(id, 40))
	return oauth.ErrInvalidClient
}
