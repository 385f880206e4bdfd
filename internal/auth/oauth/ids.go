package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// The prefixes of Atlas service account credentials. Secret scanners
// (GitHub's among them) key on them, so a leaked checkpointd secret is
// recognised as one.
const (
	ClientIDPrefix     = "mdb_sa_id_"
	ClientSecretPrefix = "mdb_sa_sk_"
)

const (
	clientIDHex     = 24 // the API's pattern ^mdb_sa_id_[a-fA-F\d]{24}$
	clientSecretLen = 40 // 40 chars of [A-Za-z0-9_-], as in real secrets

	// ClientIDLen and ClientSecretLen are the lengths of whole credentials.
	ClientIDLen     = len(ClientIDPrefix) + clientIDHex
	ClientSecretLen = len(ClientSecretPrefix) + clientSecretLen
)

// NewClientID returns a fresh random client id: the prefix and 24 lowercase
// hex digits (96 random bits). Ids are public, so they need uniqueness, not
// secrecy; 96 bits make a collision negligible without a store round trip.
func NewClientID() string {
	var b [clientIDHex / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it aborts the program instead)
	return ClientIDPrefix + hex.EncodeToString(b[:])
}

// NewClientSecret returns a fresh random client secret: the prefix and 40
// characters of the base64url alphabet, which is exactly [A-Za-z0-9_-].
// 30 random bytes encode to 40 characters without padding, so the secret
// carries 240 bits of entropy.
func NewClientSecret() string {
	var b [clientSecretLen * 3 / 4]byte
	_, _ = rand.Read(b[:])
	return ClientSecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidClientID reports whether s has the form of a client id. The API's
// pattern accepts upper-case hex too, so this does; ids we mint are
// lowercase.
func ValidClientID(s string) bool { return validClientID(s) }

// validClientID is generic so that the claims decoder can check bytes
// without converting them to a string (an allocation per request).
func validClientID[T string | []byte](s T) bool {
	if len(s) != ClientIDLen || string(s[:len(ClientIDPrefix)]) != ClientIDPrefix {
		return false
	}
	for i := len(ClientIDPrefix); i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// ValidClientSecret reports whether s has the form of a client secret.
// Checking the form before hashing keeps malformed or oversized input away
// from the deliberately slow hash.
func ValidClientSecret(s string) bool {
	if len(s) != ClientSecretLen || s[:len(ClientSecretPrefix)] != ClientSecretPrefix {
		return false
	}
	for i := len(ClientSecretPrefix); i < len(s); i++ {
		if !isB64URL(s[i]) {
			return false
		}
	}
	return true
}

// isB64URL reports whether c is in the base64url alphabet [A-Za-z0-9_-].
func isB64URL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
