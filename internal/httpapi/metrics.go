package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
)

// Metrics receives what the pipeline measures. Every label it is given
// comes from a small fixed set, so that a client cannot grow the number of
// series: routes are route names, never paths; methods outside the
// standard ones are "other"; reasons are the AuthFailure constants.
// Both methods run on every request and must be safe for concurrent use.
type Metrics interface {
	// ObserveRequest is called once per request when its response has
	// been written: route names the route (e.g. "atlas-v2.listCheckpoints",
	// "healthz", or RouteNotFound for a path no route matches).
	ObserveRequest(route, method string, status int, d time.Duration)
	// AuthFailure is called for each request refused by authentication.
	AuthFailure(reason string)
}

// RouteNotFound is the route of every path that matches no route.
const RouteNotFound = "not_found"

// Why authentication refused a request, as Metrics.AuthFailure is told.
// Authenticators set the first seven on *Unauthorized.Reason; the others
// come from the errors the pipeline sees.
const (
	// AuthMissingCredentials: no Authorization header. Every Digest
	// client's first request of a handshake is one.
	AuthMissingCredentials = "missing_credentials"
	// AuthMalformedCredentials: an unparsable header, an unsupported
	// scheme or algorithm, or Digest parameters that do not describe the
	// request (realm, uri).
	AuthMalformedCredentials = "malformed_credentials"
	// AuthBadCredentials: an unknown key, a wrong password, a nonce this
	// data set did not issue, an invalid bearer token or one of a deleted
	// service account.
	AuthBadCredentials = "bad_credentials"
	// AuthStaleNonce: right credentials, a Digest nonce too old (the
	// client answers the stale=true challenge and goes on).
	AuthStaleNonce = "stale_nonce"
	// AuthReplayedNonce: a Digest nonce count used before.
	AuthReplayedNonce = "replayed_nonce"
	// AuthExpiredToken and AuthRevokedToken: a bearer token past its
	// expiry, or revoked.
	AuthExpiredToken = "expired_token"
	AuthRevokedToken = "revoked_token"
	// AuthAccessList: the caller's API access list does not hold the
	// client address (403).
	AuthAccessList = "access_list"
	// AuthRateLimited: the caller, or a token endpoint client, is over
	// its rate limit (429).
	AuthRateLimited = "rate_limited"
	// AuthBadClientCredentials: the token or revoke endpoint refused a
	// service account's client id and secret (invalid_client).
	AuthBadClientCredentials = "bad_client_credentials"
	// AuthError: authentication could not be decided (the store failed).
	AuthError = "error"
	// AuthOther: any other refusal, e.g. an Authenticator that sets no
	// reason.
	AuthOther = "other"
)

// AuthFailureReasons lists every reason Metrics.AuthFailure is given.
var AuthFailureReasons = []string{
	AuthMissingCredentials, AuthMalformedCredentials, AuthBadCredentials, AuthStaleNonce, AuthReplayedNonce,
	AuthExpiredToken, AuthRevokedToken, AuthAccessList, AuthRateLimited, AuthBadClientCredentials, AuthError, AuthOther,
}

// authFailureReason names why err refused a request.
func authFailureReason(err error) string {
	if u, ok := asUnauthorized(err); ok {
		switch u.Reason {
		case AuthMissingCredentials, AuthMalformedCredentials, AuthBadCredentials, AuthStaleNonce,
			AuthReplayedNonce, AuthExpiredToken, AuthRevokedToken:
			return u.Reason
		}
		return AuthOther
	}
	var oe *oauth.Error
	if errors.As(err, &oe) && oe.Code == oauth.CodeInvalidClient {
		return AuthBadClientCredentials
	}
	switch {
	case backup.IsCode(err, backup.CodeIPNotOnAccessList):
		return AuthAccessList
	case backup.IsCode(err, backup.CodeRateLimited):
		return AuthRateLimited
	case backup.ErrorOf(err) == nil || backup.KindOf(err) == backup.Internal:
		return AuthError
	}
	return AuthOther
}

// authFailed tells the metrics, if any, why authentication refused rq.
func (s *Server) authFailed(err error) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.AuthFailure(authFailureReason(err))
	}
}

// methodLabel is the method as a metric label: the request's own string
// for the standard methods, "other" for anything a client made up.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// tokenRefused tells the metrics, if any, of a token or revoke request
// refused for its client credentials or rate limit; other errors of those
// endpoints (a malformed request, a store failure) are not authentication
// failures.
func (s *Server) tokenRefused(err error) {
	if s.cfg.Metrics == nil {
		return
	}
	switch r := authFailureReason(err); r {
	case AuthBadClientCredentials, AuthRateLimited:
		s.cfg.Metrics.AuthFailure(r)
	}
}
