package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine"
)

type claimCall struct {
	owner string
	ttl   time.Duration
}

type fakeClaimer struct {
	calls  []claimCall
	stored []string // owners of AddClaimedCheckpoint calls
}

func (f *fakeClaimer) AddClaimedCheckpoint(_ context.Context, _ backup.Checkpoint, owner string) error {
	f.stored = append(f.stored, owner)
	return nil
}

func (f *fakeClaimer) ClaimSlot(_ context.Context, _ backup.ObjectID, _ time.Time, owner string, ttl time.Duration) (bool, error) {
	f.calls = append(f.calls, claimCall{owner, ttl})
	return len(f.calls) == 1, nil
}

func TestLease(t *testing.T) {
	f := &fakeClaimer{}
	l := engine.Lease{Store: f, Owner: "me"}
	ok, err := l.Claim(context.Background(), backup.ObjectID{}, time.Now())
	if !ok || err != nil {
		t.Fatalf("first claim: %v %v", ok, err)
	}
	l.TTL = time.Second
	if ok, _ := l.Claim(context.Background(), backup.ObjectID{}, time.Now()); ok {
		t.Fatal("second claim won")
	}
	want := []claimCall{{"me", engine.DefaultLeaseTTL}, {"me", time.Second}}
	if len(f.calls) != 2 || f.calls[0] != want[0] || f.calls[1] != want[1] {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
}

func TestOwnerID(t *testing.T) {
	a, b := engine.OwnerID(), engine.OwnerID()
	if a == b || strings.Count(a, "/") != 2 {
		t.Fatalf("owner ids %q and %q", a, b)
	}
}
