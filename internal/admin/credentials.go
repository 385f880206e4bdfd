package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// createAttempts is how many fresh public keys or client ids a create
// tries before giving up on a store that reports each taken. A clash is
// rare (one in 26^8 per existing key), several in a row a sign of
// something else.
const createAttempts = 5

// CreateAPIKey issues an API key of organization orgID and stores it with
// the HTTP Digest HA1s of its private key, never the key itself. It
// returns the key and its private key, which the caller shows once.
//
// The public key is 8 random lowercase letters and the private key a
// random UUID (version 4), as Atlas issues them. A public key the store
// reports taken (DUPLICATE_API_KEY) is replaced by a new one, a few
// times. Other store errors: ORG_NOT_FOUND, GROUP_NOT_FOUND for a grant on
// a project that is not the organization's.
func CreateAPIKey(ctx context.Context, st APIKeyCreator, orgID backup.ObjectID, description string,
	grants []backup.Grant, accessList []netip.Prefix, clk clock.Clock) (backup.APIKey, string, error) {
	if err := checkOwner("An API key", orgID, description, grants); err != nil {
		return backup.APIKey{}, "", err
	}
	created := stamp(clk)
	k := backup.APIKey{
		OrgID:       orgID,
		Description: description,
		Grants:      slices.Clone(grants),
		AccessList:  slices.Clone(accessList),
		Created:     created,
	}
	var err error
	for range createAttempts {
		k.ID = ids.New(created)
		k.PublicKey = NewPublicKey()
		if err = k.Validate(); err != nil {
			return backup.APIKey{}, "", err
		}
		private := NewPrivateKey()
		h := digest.NewHashes(k.PublicKey, digest.DefaultRealm, private)
		err = st.CreateAPIKey(ctx, k, backup.DigestHA1{MD5: h.MD5, SHA256: h.SHA256})
		if err == nil {
			return k, private, nil
		}
		if !backup.IsCode(err, backup.CodeDuplicateAPIKey) {
			break
		}
	}
	return backup.APIKey{}, "", err
}

// NewPublicKey returns 8 lowercase letters drawn uniformly at random.
func NewPublicKey() string {
	const letters = 26
	// Bytes at or above the largest multiple of 26 are dropped, so that
	// every letter is equally likely.
	const limit = 256 / letters * letters
	var out [8]byte
	var buf [16]byte
	for n := 0; n < len(out); {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails
		for _, b := range buf {
			if b < limit && n < len(out) {
				out[n] = 'a' + b%letters
				n++
			}
		}
	}
	return string(out[:])
}

// NewPrivateKey returns a random version 4 UUID in its canonical
// lowercase form (8-4-4-4-12 hex digits), the form of Atlas private keys.
func NewPrivateKey() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// Bounds of a service account secret's lifetime, Atlas's defaults for an
// organization: 8 hours to a year.
const (
	MinSecretTTL = 8 * time.Hour
	MaxSecretTTL = 365 * 24 * time.Hour
)

// CreateServiceAccount creates a service account of organization orgID
// with one secret valid for secretTTL (MinSecretTTL to MaxSecretTTL) and
// stores the secret's argon2id hash, never the secret itself. It returns
// the service account and its secret, which the caller shows once. A
// client id the store reports taken is replaced, a few times; other
// store errors are CreateAPIKey's.
func CreateServiceAccount(ctx context.Context, st ServiceAccountCreator, orgID backup.ObjectID, name, description string,
	grants []backup.Grant, accessList []netip.Prefix, secretTTL time.Duration, clk clock.Clock) (backup.ServiceAccount, string, error) {
	if err := checkOwner("A service account", orgID, description, grants); err != nil {
		return backup.ServiceAccount{}, "", err
	}
	if name == "" || len(name) > maxServiceAccountName {
		return backup.ServiceAccount{}, "", backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"A service account needs a name of 1 to %d bytes.", maxServiceAccountName)
	}
	if secretTTL < MinSecretTTL || secretTTL > MaxSecretTTL {
		return backup.ServiceAccount{}, "", backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"A secret expires after %s to %s, not %s.", fmtHours(MinSecretTTL), fmtHours(MaxSecretTTL), secretTTL.String())
	}
	created := stamp(clk)
	sa := backup.ServiceAccount{
		OrgID:       orgID,
		Name:        name,
		Description: description,
		Grants:      slices.Clone(grants),
		AccessList:  slices.Clone(accessList),
		Created:     created,
	}
	sa.ClientID = oauth.NewClientID()
	if err := sa.Validate(); err != nil {
		return backup.ServiceAccount{}, "", err
	}
	secret := oauth.NewClientSecret()
	stored := backup.ServiceAccountSecret{
		ID:      ids.New(created),
		Hash:    oauth.HashSecret(secret),
		Created: created,
		Expires: created.Add(secretTTL),
	}
	var err error
	for range createAttempts {
		err = st.CreateServiceAccount(ctx, sa, stored)
		if err == nil {
			return sa, secret, nil
		}
		if !backup.IsCode(err, backup.CodeDuplicateClientID) {
			break
		}
		sa.ClientID = oauth.NewClientID()
		stored.ID = ids.New(created)
	}
	return backup.ServiceAccount{}, "", err
}

// Limits of the fields backup.APIKey.Validate and
// backup.ServiceAccount.Validate check, for clearer messages.
const (
	maxDescription        = 250
	maxServiceAccountName = 64
)

// checkOwner checks what API keys and service accounts share, with
// messages that say what is wrong.
func checkOwner(what string, orgID backup.ObjectID, description string, grants []backup.Grant) error {
	if orgID.IsZero() {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidOrgID, "%s needs an organization.", what)
	}
	if len(grants) == 0 {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidRole,
			"%s needs at least one role: an organization role or a role on a project.", what)
	}
	if len(description) > maxDescription {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"The description is longer than %d bytes.", maxDescription)
	}
	return nil
}

// fmtHours prints a whole number of hours as Go durations parse it.
func fmtHours(d time.Duration) string {
	return strconv.Itoa(int(d/time.Hour)) + "h"
}

// ServiceAccountInfo is a service account with what may be shown of its
// secrets: never their hashes.
type ServiceAccountInfo struct {
	backup.ServiceAccount
	Secrets []SecretInfo
}

// SecretInfo describes one secret of a service account.
type SecretInfo struct {
	ID      backup.ObjectID
	Created time.Time
	Expires time.Time
}

// ListServiceAccounts returns an organization's service accounts ordered
// by client id, each with its secrets' dates, newest first
// (ORG_NOT_FOUND from the store).
func ListServiceAccounts(ctx context.Context, st ServiceAccountLister, orgID backup.ObjectID) ([]ServiceAccountInfo, error) {
	sas, err := st.ServiceAccounts(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]ServiceAccountInfo, 0, len(sas))
	for _, sa := range sas {
		_, secrets, err := st.ServiceAccount(ctx, sa.ClientID)
		if backup.IsCode(err, backup.CodeServiceAccountNotFound) {
			continue // deleted since it was listed
		}
		if err != nil {
			return nil, err
		}
		info := ServiceAccountInfo{ServiceAccount: sa, Secrets: make([]SecretInfo, len(secrets))}
		for i, s := range secrets {
			info.Secrets[i] = SecretInfo{ID: s.ID, Created: s.Created, Expires: s.Expires}
		}
		out = append(out, info)
	}
	return out, nil
}

// APIKeyRef names an API key by its id or, when PublicKey is set, by its
// public key.
type APIKeyRef struct {
	ID        backup.ObjectID
	PublicKey string
}

// ParseAPIKeyRef reads an API key's id (24 hexadecimal digits, any case)
// or public key (8 lowercase letters); anything else is
// INVALID_ATTRIBUTE.
func ParseAPIKeyRef(s string) (APIKeyRef, error) {
	s = strings.TrimSpace(s)
	if backup.ValidPublicKey(s) {
		return APIKeyRef{PublicKey: s}, nil
	}
	id, ok := backup.ParseObjectID(strings.ToLower(s))
	if !ok {
		return APIKeyRef{}, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"%q is neither an API key id, which is 24 hexadecimal digits, nor a public key, which is 8 lowercase letters.", s)
	}
	return APIKeyRef{ID: id}, nil
}

// APIKeyDeleter is what DeleteAPIKey uses of a store.
type APIKeyDeleter interface {
	APIKey(ctx context.Context, publicKey string) (backup.APIKey, backup.DigestHA1, error)
	DeleteAPIKey(ctx context.Context, id backup.ObjectID) error
}

// DeleteAPIKey deletes the API key ref names and returns its id.
func DeleteAPIKey(ctx context.Context, st APIKeyDeleter, ref APIKeyRef) (backup.ObjectID, error) {
	if ref.PublicKey != "" {
		k, _, err := st.APIKey(ctx, ref.PublicKey)
		if err != nil {
			return backup.ObjectID{}, err
		}
		ref.ID = k.ID
	}
	return ref.ID, st.DeleteAPIKey(ctx, ref.ID)
}
