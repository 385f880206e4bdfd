package backup

import (
	"net/netip"
	"regexp"
	"time"
)

// APIKey is a programmatic API key of an organization. Its public key is
// the Digest username; the private key is shown once, at creation, and
// never stored: only DigestHA1 is.
type APIKey struct {
	ID          ObjectID
	OrgID       ObjectID
	PublicKey   string // 8 lowercase letters, as Atlas issues them
	Description string
	Grants      []Grant
	AccessList  []netip.Prefix
	Created     time.Time
}

// DigestHA1 is what a store keeps of an API key's private key: the HTTP
// Digest HA1 = H(publicKey:realm:privateKey) per algorithm, lowercase hex.
// They are password equivalent for the realm, so they are stored like
// secrets, but the private key itself cannot be recovered from them.
type DigestHA1 struct {
	MD5    string
	SHA256 string
}

// Principal returns the caller an API key authenticates as.
func (k *APIKey) Principal() *Principal {
	return &Principal{Kind: APIKeyPrincipal, ID: k.PublicKey, OrgID: k.OrgID, Grants: k.Grants, AccessList: k.AccessList}
}

// ServiceAccount is an OAuth 2.0 client of an organization (client
// credentials). Its secrets are kept as hashes only.
type ServiceAccount struct {
	ClientID    string // mdb_sa_id_ + 24 hex
	OrgID       ObjectID
	Name        string
	Description string
	Grants      []Grant
	AccessList  []netip.Prefix
	Created     time.Time
}

// Principal returns the caller a service account's tokens authenticate as.
func (sa *ServiceAccount) Principal() *Principal {
	return &Principal{Kind: ServiceAccountPrincipal, ID: sa.ClientID, OrgID: sa.OrgID, Grants: sa.Grants, AccessList: sa.AccessList}
}

// ServiceAccountSecret is one secret of a service account, as stored: its
// argon2id hash (PHC string) and its expiry. A service account may hold
// several, so that a secret can be rotated without downtime.
type ServiceAccountSecret struct {
	ID      ObjectID
	Hash    string
	Created time.Time
	Expires time.Time
}

var publicKeyRE = regexp.MustCompile(`^[a-z]{8}$`)

// ValidPublicKey reports whether s has the form of an API public key.
func ValidPublicKey(s string) bool { return publicKeyRE.MatchString(s) }

// Validate checks an API key before it is stored.
func (k *APIKey) Validate() error {
	if k.ID.IsZero() || k.OrgID.IsZero() {
		return Errorf(Invalid, CodeInvalidAttribute, "Invalid attribute %s specified.", "id")
	}
	if !ValidPublicKey(k.PublicKey) {
		return Errorf(Invalid, CodeInvalidAttribute, "Invalid attribute %s specified.", "publicKey")
	}
	if len(k.Description) > 250 {
		return Errorf(Invalid, CodeInvalidAttribute, "Invalid attribute %s specified.", "desc")
	}
	return validateGrants(k.Grants)
}

// Validate checks a service account before it is stored.
func (sa *ServiceAccount) Validate() error {
	if !ValidClientID(sa.ClientID) || sa.OrgID.IsZero() {
		return Errorf(Invalid, CodeInvalidAttribute, "Invalid attribute %s specified.", "clientId")
	}
	if sa.Name == "" || len(sa.Name) > 64 {
		return Errorf(Invalid, CodeInvalidAttribute, "Invalid attribute %s specified.", "name")
	}
	if len(sa.Description) > 250 {
		return Errorf(Invalid, CodeInvalidAttribute, "Invalid attribute %s specified.", "description")
	}
	return validateGrants(sa.Grants)
}

var clientIDRE = regexp.MustCompile(`^mdb_sa_id_[a-fA-F0-9]{24}$`)

// ValidClientID reports whether s has the form of a service account's
// client id (the spec's pattern).
func ValidClientID(s string) bool { return clientIDRE.MatchString(s) }

// validateGrants checks that every role exists and is granted at its
// level: organization roles without a project, project roles with one.
// A principal needs at least one grant (Atlas requires a role).
func validateGrants(gs []Grant) error {
	if len(gs) == 0 {
		return Errorf(Invalid, CodeInvalidAttribute, "Invalid attribute %s specified.", "roles")
	}
	for _, g := range gs {
		known, org := ValidRole(g.Role)
		if !known || org != g.ProjectID.IsZero() {
			return Errorf(Invalid, CodeInvalidRole, "Invalid role %s specified.", string(g.Role))
		}
	}
	return nil
}
