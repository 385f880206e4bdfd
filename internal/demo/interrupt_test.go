package demo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
)

// errKilled is what every call after the kill returns.
var errKilled = errors.New("process killed")

// dying is a store that dies after its first n writes: every call after
// the n-th write has committed fails, as if the process had been killed
// right after it; with cancel set it instead cancels the seeding's
// context at that moment, as Ctrl-C would.
type dying struct {
	demo.Store
	n      int
	writes int
	cancel context.CancelFunc
}

func (d *dying) dead() bool { return d.cancel == nil && d.writes >= d.n }

// wrote counts a write that committed and kills the process after the
// n-th.
func (d *dying) wrote(err error) error {
	if err == nil {
		d.writes++
		if d.writes == d.n && d.cancel != nil {
			d.cancel()
		}
	}
	return err
}

func (d *dying) CreateOrganization(ctx context.Context, o backup.Organization) error {
	if d.dead() {
		return errKilled
	}
	return d.wrote(d.Store.CreateOrganization(ctx, o))
}

func (d *dying) CreateProject(ctx context.Context, p backup.Project) error {
	if d.dead() {
		return errKilled
	}
	return d.wrote(d.Store.CreateProject(ctx, p))
}

func (d *dying) CreateCluster(ctx context.Context, c backup.Cluster) error {
	if d.dead() {
		return errKilled
	}
	return d.wrote(d.Store.CreateCluster(ctx, c))
}

func (d *dying) UpdateCluster(ctx context.Context, ref backup.ClusterRef, change func(*backup.Cluster) error) (backup.Cluster, error) {
	if d.dead() {
		return backup.Cluster{}, errKilled
	}
	c, err := d.Store.UpdateCluster(ctx, ref, change)
	return c, d.wrote(err)
}

func (d *dying) AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) error {
	if d.dead() {
		return errKilled
	}
	return d.wrote(d.Store.AddCheckpoints(ctx, cps))
}

func (d *dying) Project(ctx context.Context, id backup.ObjectID) (backup.Project, error) {
	if d.dead() {
		return backup.Project{}, errKilled
	}
	return d.Store.Project(ctx, id)
}

func (d *dying) Checkpoints(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], error) {
	if d.dead() {
		return backup.Page[backup.Checkpoint]{}, errKilled
	}
	return d.Store.Checkpoints(ctx, ref, page)
}

// TestSeedInterrupted interrupts a first Seed after each of its writes in
// turn, by a kill (every later call fails) and by a cancellation of its
// context, then seeds again an hour later on the same store: the second
// Seed succeeds and leaves the whole data set, three clusters each with a
// week's history; it says it completed the data set when the first had
// stored part of it. A cancelled Seed says it was interrupted, never that
// something it stored failed.
func TestSeedInterrupted(t *testing.T) {
	sys := backup.WithPrincipal(context.Background(), backup.System)
	whole, err := demo.Seed(sys, openStore(t), demo.Options{Seed: 1, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	// A whole first Seed writes the organization, the project, then each
	// cluster and its history.
	writes := 2 + 2*len(whole.Clusters)
	for _, how := range []string{"kill", "cancel"} {
		for n := 0; n <= writes; n++ {
			db := openStore(t)
			ctx, cancel := context.WithCancel(sys)
			d := &dying{Store: db, n: n}
			if how == "cancel" {
				d.cancel = cancel
				if n == 0 {
					cancel()
				}
			}
			_, err := demo.Seed(ctx, d, demo.Options{Seed: 1, Now: t0})
			cancel()
			switch {
			case n == writes && how == "cancel" && err != nil:
				t.Errorf("cancel after all %d writes: Seed() = %v, want nil", n, err)
			case n < writes && err == nil:
				t.Errorf("%s after write %d: Seed() = nil, want an error", how, n)
			case n < writes && how == "cancel" && !strings.Contains(err.Error(), "interrupted"):
				t.Errorf("cancel after write %d: Seed() = %v, want it to say it was interrupted", n, err)
			}
			if d.writes != min(n, writes) {
				t.Errorf("%s after write %d: %d writes stored", how, n, d.writes)
			}

			ds, err := demo.Seed(sys, db, demo.Options{Seed: 1, Now: t0.Add(time.Hour)})
			if err != nil {
				t.Fatalf("%s after write %d: the next Seed() = %v", how, n, err)
			}
			wantCompleted := n > 0 && n < writes
			if ds.Completed != wantCompleted || ds.Created != (n < writes) {
				t.Errorf("%s after write %d: next Seed created %v, completed %v; want %v, %v", how, n, ds.Created, ds.Completed, n < writes, wantCompleted)
			}
			if len(ds.Clusters) != len(whole.Clusters) {
				t.Fatalf("%s after write %d: %d clusters, want %d", how, n, len(ds.Clusters), len(whole.Clusters))
			}
			cps := stored(t, db, ds)
			for _, c := range whole.Clusters {
				// The history of a week, up to t0 or an hour later.
				if got, want := len(cps[c.Name]), whole.Checkpoints[c.Name]; got < want-5 || got > want+5 {
					t.Errorf("%s after write %d: cluster %s has %d checkpoints, want about %d", how, n, c.Name, got, want)
				}
			}
		}
	}
}
