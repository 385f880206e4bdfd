package store

import (
	"context"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Named is a project a store found by its name: its id and its
// organization's id as stored text.
type Named struct {
	ID  backup.ObjectID
	Org string
}

// FirstReadable decides which of the projects named name, in id order,
// the caller of ctx gets (GET /groups/byName/{name}): the first it may
// read. Names are unique within an organization, not across them; a
// project of another organization is not the caller's, and is passed
// over as if it did not exist. When none is readable the answer is
// Authorize's for the caller's own organization's project
// (USER_UNAUTHORIZED, as by id), else GROUP_NAME_NOT_FOUND.
func FirstReadable(ctx context.Context, name string, found []Named) (int, error) {
	var denied error
	for i, n := range found {
		err := Authorize(ctx, Read, n.Org, n.ID)
		if err == nil {
			return i, nil
		}
		if backup.KindOf(err) != backup.NotFound && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return -1, denied
	}
	return -1, backup.ErrGroupNameNotFound(name)
}
