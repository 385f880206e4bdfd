package demo

import (
	"context"
	"fmt"
	"io"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// KeyStore is what Key reads and writes: the organization's API keys.
type KeyStore interface {
	admin.APIKeyCreator
	APIKeys(ctx context.Context, orgID backup.ObjectID) ([]backup.APIKey, error)
	DeleteAPIKey(ctx context.Context, id backup.ObjectID) error
}

// KeyDescription marks the keys a demo server makes, so that each start
// replaces the previous one rather than piling them up.
const KeyDescription = "demo key (checkpointd serve --demo)"

// Key creates a Project Read Only key for the demo project and
// returns it as PUBLIC:PRIVATE. The private key is not stored, so every
// start makes a new key and deletes the previous one.
//
// It runs to its end even if ctx is cancelled (it takes milliseconds), so
// that an interrupted start never reports as failed a key it stored.
func Key(ctx context.Context, db KeyStore, ds Dataset, clk clock.Clock) (string, error) {
	ctx = context.WithoutCancel(ctx)
	keys, err := db.APIKeys(ctx, ds.Project.OrgID)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if k.Description == KeyDescription {
			if err := db.DeleteAPIKey(ctx, k.ID); err != nil {
				return "", err
			}
		}
	}
	grants := []backup.Grant{{Role: backup.ProjectReadOnly, ProjectID: ds.Project.ID}}
	k, private, err := admin.CreateAPIKey(ctx, db, ds.Project.OrgID, KeyDescription, grants, nil, clk)
	if err != nil {
		return "", err
	}
	return k.PublicKey + ":" + private, nil
}

// Print tells the user what the demo data set holds and what to try.
func Print(w io.Writer, base string, ds Dataset, key string) {
	switch {
	case ds.Completed:
		fmt.Fprintf(w, "demo data set completed (an earlier start was interrupted before it was whole): project %s (%s)\n", ds.Project.Name, ds.Project.ID)
	case ds.Created:
		fmt.Fprintf(w, "demo data set created: project %s (%s)\n", ds.Project.Name, ds.Project.ID)
	default:
		fmt.Fprintf(w, "demo data set already present: project %s (%s)\n", ds.Project.Name, ds.Project.ID)
	}
	for _, c := range ds.Clusters {
		shape := "replica set"
		if c.Type == backup.Sharded {
			shape = fmt.Sprintf("sharded, %d shards", len(c.Shards))
			if c.Config.Mirrored() {
				shape += ", mirrored config servers"
			}
		}
		fmt.Fprintf(w, "  cluster %s (%s, id %s): %d checkpoints\n", c.Name, shape, c.ID, ds.Checkpoints[c.Name])
	}
	fmt.Fprintf(w, "api key: %s\n", key)
	fmt.Fprintf(w, "  (Project Read Only on %s; HTTP Digest, as curl --digest; the next serve --demo on the same database revokes it and prints a new one, even while this server runs)\n", ds.Project.Name)
	fmt.Fprintf(w, "ui: %s/ui/\n", base)
	fmt.Fprintln(w, "  (in a browser: sign in with the api key's public key as user name and private key as password)")
	fmt.Fprintln(w, "try:")
	const accept = "-H 'Accept: application/vnd.atlas.2023-01-01+json' "
	for _, c := range ds.Clusters {
		id, ok := ds.Sample[c.Name]
		for _, u := range []struct{ label, accept, list string }{
			{"Atlas Administration API v2", accept, fmt.Sprintf("%s/api/atlas/v2/groups/%s/clusters/%s/backupCheckpoints", base, c.GroupID, c.Name)},
			{"Atlas Administration API v1.0", "", fmt.Sprintf("%s/api/atlas/v1.0/groups/%s/clusters/%s/backupCheckpoints", base, c.GroupID, c.Name)},
			{"Cloud Manager public API", "", fmt.Sprintf("%s/api/public/v1.0/groups/%s/clusters/%s/checkpoints", base, c.GroupID, c.ID)},
		} {
			fmt.Fprintf(w, "  # %s, cluster %s\n", u.label, c.Name)
			fmt.Fprintf(w, "  curl --digest -u '%s' %s'%s?pretty=true'\n", key, u.accept, u.list)
			if ok {
				fmt.Fprintf(w, "  curl --digest -u '%s' %s'%s/%s?pretty=true'\n", key, u.accept, u.list, id)
			}
		}
	}
}
