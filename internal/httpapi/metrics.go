package httpapi

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
)

// Metrics receives what the pipeline measures. Every label it is given
// comes from a small fixed set, so that a client cannot grow the number of
// series: routes are the route table's labels, never paths; methods
// outside the standard ones are "other"; reasons are AuthFailureReasons.
// Both methods run on every request and must be safe for concurrent use.
type Metrics interface {
	// ObserveRequest is called once per request when its response has
	// been written: route is its row's label (e.g.
	// "atlas-v2.listLegacyBackupCheckpoints", "healthz", RouteNotFound for
	// a path no route matches, or "atlas-v2" alone for a method the path
	// does not have).
	ObserveRequest(route, method string, status int, d time.Duration)
	// AuthFailure is called for each request refused by authentication.
	AuthFailure(reason string)
}

// RouteNotFound is the route of every path that matches no route.
const RouteNotFound = "not_found"

// Why authentication refused a request, as Metrics.AuthFailure is told:
// the reason of a challenge (auth names seven, listed first in
// AuthFailureReasons), or one of these, which the pipeline tells from
// the errors it sees.
const (
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
	// AuthOther: any other refusal, e.g. an Authenticator that gives no
	// reason or one not listed here.
	AuthOther = "other"
)

// AuthFailureReasons lists every reason Metrics.AuthFailure is given. The
// first seven are the reasons auth gives its challenges (see
// auth.Unauthorized; a test there holds the two lists together).
var AuthFailureReasons = []string{
	"missing_credentials", "malformed_credentials", "bad_credentials", "stale_nonce", "replayed_nonce",
	"expired_token", "revoked_token",
	AuthAccessList, AuthRateLimited, AuthBadClientCredentials, AuthError, AuthOther,
}

// challengeReasons are the reasons a challenge may give.
var challengeReasons = AuthFailureReasons[:7]

// authFailureReason names why err refused a request.
func authFailureReason(err error) string {
	if c, ok := asChallenge(err); ok {
		if r := c.FailureReason(); slices.Contains(challengeReasons, r) {
			return r
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
