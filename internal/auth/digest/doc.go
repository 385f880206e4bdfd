// Package digest is the server side of HTTP Digest access authentication
// (RFC 7616, qop=auth) as the Atlas / Cloud Manager public API speaks it to
// API keys: the 401 challenge, a strict parser of the Authorization header,
// and verification of the response against a stored HA1.
//
// Wire fidelity comes first (docs/research api-fidelity §6.1). The official
// Go client (github.com/mongodb-forks/digest behind the Atlas SDK's
// UseDigestAuth) reads only the first WWW-Authenticate value, splits it on
// ", " and fails on any parameter it does not know, so Challenge produces
// the service's value byte for byte:
//
//	Digest realm="MMS Public API", domain="", nonce="<32 base64 chars>", algorithm=MD5, qop="auth", stale=false
//
// SHA-256 is offered only when Config.Algorithms asks for it, as a further
// WWW-Authenticate value after the MD5 one (see Server.Challenges), so that
// the default 401 stays identical to the service's.
//
// Nonces are stateless: each carries its issue time, its issuing
// instance and whether it is shared, under an HMAC keyed by
// Config.Secret, so any instance sharing the secret can check one that
// another issued. Replay protection (the nonce counts spent) follows the
// nonce: an instance alone on its data set issues unshared nonces and
// remembers their counts in memory (ReplayGuard, MemoryReplayGuard), and
// only it accepts them; while several instances serve one data set, they
// issue shared nonces, whose counts go to a memory they share
// (SharedReplayGuard, the store), so that any of them accepts a nonce
// issued by another and each count once across all (Server.SetShared).
//
// The package stores and sees no passwords: the store keeps HA1 =
// H(username:realm:password) per algorithm (see HA1 and NewHashes), which
// is all Verify needs.
//
// It is a library only: it mounts no routes and writes no responses. The
// HTTP layer parses the header with ParseAuthorization, calls
// Server.Verify, and on failure answers 401 with Server.Challenges,
// passing Result.Stale.
package digest
