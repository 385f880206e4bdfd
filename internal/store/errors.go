package store

import "github.com/checkpointd/checkpointd/internal/backup"

// The errors below are API-visible failures that only stores detect, so
// that every store words them the same way.

// ErrDuplicateAPIKeyID is the 409 for an API key whose id is taken.
func ErrDuplicateAPIKeyID(id backup.ObjectID) *backup.Error {
	return backup.Errorf(backup.Conflict, backup.CodeDuplicateAPIKey, "An API key with ID %s already exists.", id.Hex())
}

// ErrDuplicatePublicKey is the 409 for an API key whose public key is
// taken.
func ErrDuplicatePublicKey(publicKey string) *backup.Error {
	return backup.Errorf(backup.Conflict, backup.CodeDuplicateAPIKey, "An API key with public key %s already exists.", publicKey)
}

// ErrPublicKeyNotFound is the 404 for an unknown public key.
func ErrPublicKeyNotFound(publicKey string) *backup.Error {
	return backup.Errorf(backup.NotFound, backup.CodeAPIKeyNotFound, "No API key with public key %s exists.", publicKey)
}

// ErrDuplicateClientID is the 409 for a service account whose client id
// is taken.
func ErrDuplicateClientID(clientID string) *backup.Error {
	return backup.Errorf(backup.Conflict, backup.CodeDuplicateClientID, "A service account with client ID %s already exists.", clientID)
}

// ErrCannotDeleteOrg is the 409 for deleting an organization that still
// has projects.
func ErrCannotDeleteOrg(id backup.ObjectID) *backup.Error {
	return backup.Errorf(backup.Conflict, backup.CodeCannotDeleteOrg, "Cannot delete organization %s while it has active projects.", id.Hex())
}

// ErrCannotCloseGroup is the 409 for deleting a project that still has
// clusters.
func ErrCannotCloseGroup(id backup.ObjectID) *backup.Error {
	return backup.Errorf(backup.Conflict, backup.CodeCannotCloseGroup, "Cannot close group %s while it has active clusters.", id.Hex())
}

// ErrClaimLost is the 409 for storing a checkpoint of a slot whose claim
// the caller no longer holds (it expired and another owner took it over).
func ErrClaimLost(clusterID backup.ObjectID, slot int64, owner string) *backup.Error {
	return backup.Errorf(backup.Conflict, backup.CodeDuplicateCheckpoint,
		"The claim of %s on slot %d of cluster %s was lost; its checkpoint is not stored.", owner, slot, clusterID.Hex())
}

// CodeDuplicateID is the code of a create with an id already taken. Ids
// are made by the server, never by API clients, so no Atlas code exists
// for it and it only reaches seeding and tests.
const CodeDuplicateID = "DUPLICATE_ID"

// ErrDuplicateID is the 409 for creating a what whose id is taken.
func ErrDuplicateID(what string, id backup.ObjectID) *backup.Error {
	return backup.Errorf(backup.Conflict, CodeDuplicateID, "A %s with ID %s already exists.", what, id.Hex())
}

// ErrMissingID is the 400 for creating a what without an id.
func ErrMissingID(what string) *backup.Error {
	return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "A %s needs an ID.", what)
}

// PageOffset validates a page request and returns the number of items
// before it, saturated at limit (a fraction of math.MaxInt64 that leaves
// room for the store's own arithmetic on offsets) so that absurd page numbers read as
// past the end instead of overflowing.
func PageOffset(p backup.PageRequest, limit int64) (int64, error) {
	if p.Num < 1 {
		return 0, backup.ErrInvalidQueryParameter("pageNum")
	}
	if p.Size < 1 {
		return 0, backup.ErrInvalidQueryParameter("itemsPerPage")
	}
	if int64(p.Num-1) > limit/int64(p.Size) {
		return limit, nil
	}
	return int64(p.Num-1) * int64(p.Size), nil
}
