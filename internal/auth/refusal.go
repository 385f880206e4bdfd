package auth

// Unauthorized asks the client for credentials: the HTTP layer answers it
// with a 401 carrying these WWW-Authenticate values, in this order (the
// official Digest client reads only the first).
type Unauthorized struct {
	Challenges []string
	// Reason says why, for metrics: one of Reasons. Clients never see it.
	Reason string
}

func (e *Unauthorized) Error() string { return "unauthorized: credentials required" }

// WWWAuthenticate returns the challenges.
func (e *Unauthorized) WWWAuthenticate() []string { return e.Challenges }

// FailureReason returns the reason.
func (e *Unauthorized) FailureReason() string { return e.Reason }

// Why a request was asked for credentials.
const (
	// MissingCredentials: no Authorization header. Every Digest client's
	// first request of a handshake is one.
	MissingCredentials = "missing_credentials"
	// MalformedCredentials: an unparsable header, an unsupported scheme or
	// algorithm, or Digest parameters that do not describe the request
	// (realm, uri).
	MalformedCredentials = "malformed_credentials"
	// BadCredentials: an unknown key, a wrong password, a nonce this data
	// set did not issue, an invalid bearer token or one of a deleted
	// service account.
	BadCredentials = "bad_credentials"
	// StaleNonce: right credentials, a Digest nonce too old (the client
	// answers the stale=true challenge and goes on).
	StaleNonce = "stale_nonce"
	// ReplayedNonce: a Digest nonce count used before.
	ReplayedNonce = "replayed_nonce"
	// ExpiredToken and RevokedToken: a bearer token past its expiry, or
	// revoked.
	ExpiredToken = "expired_token"
	RevokedToken = "revoked_token"
)

// Reasons lists every reason an Unauthorized gives.
var Reasons = []string{MissingCredentials, MalformedCredentials, BadCredentials, StaleNonce, ReplayedNonce, ExpiredToken, RevokedToken}
