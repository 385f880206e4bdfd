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
