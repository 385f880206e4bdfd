package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// RunLeases is the conformance suite of what processes sharing a data set
// coordinate through: ClaimSlot, and the instance registry with its
// shared nonce memory (suite_instances.go). open returns two
// handles on one new, empty data set (as two server processes have), both
// on clk, a virtual clock the suite moves to expire claims; RunLeases
// closes both when the subtest ends.
func RunLeases(t *testing.T, open func(t testing.TB, clk clock.Clock) (a, b Store)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture, other Store)
	}{
		{"Race", testClaimRace},
		{"Expiry", testClaimExpiry},
		{"Done", testClaimDone},
		{"Renew", testClaimRenew},
		{"Independent", testClaimIndependent},
		{"Instances", testInstances},
		{"InstanceExpiry", testInstanceExpiry},
		{"NonceRace", testNonceRace},
		{"NonceExpiry", testNonceExpiry},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewVirtual(clockStart)
			a, b := open(t, clk)
			t.Cleanup(func() {
				for _, s := range []Store{a, b} {
					if err := s.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				}
			})
			tc.fn(t, newFixture(t, a, clk), b)
		})
	}
}

// slotOf is a slot a little after the store's now, on a whole second as
// stores keep checkpoint timestamps.
func (f *fixture) slotOf(i int) time.Time {
	return f.clk.Now().Truncate(time.Second).Add(time.Duration(i) * time.Minute)
}

func (f *fixture) claim(s Store, c backup.Cluster, slot time.Time, owner string, ttl time.Duration) bool {
	f.t.Helper()
	ok, err := s.ClaimSlot(f.ctx, c.ID, slot, owner, ttl)
	if err != nil {
		f.t.Fatalf("ClaimSlot(%s, %s): %v", slot, owner, err)
	}
	return ok
}

// testClaimRace: many claimers on two handles race for each of several
// slots; exactly one wins each.
func testClaimRace(t *testing.T, f *fixture, other Store) {
	const slots, claimers = 5, 8
	for i := range slots {
		slot := f.slotOf(i)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		for j := range claimers {
			s := f.s
			if j%2 == 1 {
				s = other
			}
			owner := fmt.Sprint("owner", j)
			wg.Go(func() {
				ok, err := s.ClaimSlot(f.ctx, f.sharded.ID, slot, owner, time.Minute)
				if err != nil {
					t.Errorf("ClaimSlot(%s): %v", owner, err)
					return
				}
				if ok {
					mu.Lock()
					winners = append(winners, owner)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Errorf("slot %d: winners %v, want exactly one", i, winners)
		}
	}
}

// testClaimExpiry: a claim whose holder went away can be taken over once
// it has expired on the store's clock, and only then; and only by one.
func testClaimExpiry(t *testing.T, f *fixture, other Store) {
	slot := f.slotOf(0)
	if !f.claim(f.s, f.rs, slot, "dead", 5*time.Minute) {
		t.Fatal("the first claim lost")
	}
	if f.claim(other, f.rs, slot, "alive", time.Minute) {
		t.Fatal("a live claim was taken over")
	}
	f.clk.Advance(5*time.Minute - time.Millisecond)
	if f.claim(other, f.rs, slot, "alive", time.Minute) {
		t.Fatal("a claim was taken over a millisecond before it expired")
	}
	f.clk.Advance(time.Millisecond)
	if !f.claim(other, f.rs, slot, "alive", time.Minute) {
		t.Fatal("an expired claim was not taken over")
	}
	if f.claim(f.s, f.rs, slot, "dead", time.Minute) {
		t.Fatal("the expired holder took its slot back from the new holder")
	}
	if f.claim(f.s, f.rs, slot, "third", time.Minute) {
		t.Fatal("the new holder's claim was taken over")
	}
}

// testClaimDone: once a checkpoint has the slot as its timestamp, nobody
// claims the slot again, the holder included, even after the claim has
// expired.
func testClaimDone(t *testing.T, f *fixture, other Store) {
	slot := f.slotOf(0)
	if !f.claim(f.s, f.sharded, slot, "a", 5*time.Minute) {
		t.Fatal("the first claim lost")
	}
	f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(f.sharded, slot)))
	f.clk.Advance(6 * time.Minute)
	for _, s := range []Store{f.s, other} {
		for _, owner := range []string{"a", "b"} {
			if f.claim(s, f.sharded, slot, owner, time.Minute) {
				t.Errorf("%s claimed a done slot", owner)
			}
		}
	}
	// A checkpoint stored without a claim (another writer) makes its
	// slot done too; a checkpoint of another cluster does not.
	later := slot.Add(time.Hour)
	f.must(other.AddCheckpoint(f.ctx, f.checkpoint(f.rs, later)))
	if f.claim(f.s, f.rs, later, "a", time.Minute) {
		t.Error("a slot with a checkpoint was claimed")
	}
	if !f.claim(f.s, f.sharded, later, "a", time.Minute) {
		t.Error("a slot done on another cluster was refused")
	}
}

// testClaimRenew: the holder claiming again renews its claim.
func testClaimRenew(t *testing.T, f *fixture, other Store) {
	slot := f.slotOf(0)
	if !f.claim(f.s, f.rs, slot, "a", 5*time.Minute) {
		t.Fatal("the first claim lost")
	}
	f.clk.Advance(4 * time.Minute)
	if !f.claim(other, f.rs, slot, "a", 5*time.Minute) {
		t.Fatal("the holder could not renew its claim")
	}
	f.clk.Advance(2 * time.Minute)
	if f.claim(f.s, f.rs, slot, "b", time.Minute) {
		t.Fatal("a renewed claim was taken over at its first expiry")
	}
	f.clk.Advance(3 * time.Minute)
	if !f.claim(f.s, f.rs, slot, "b", time.Minute) {
		t.Fatal("a renewed claim was not taken over at its second expiry")
	}
}

// testClaimIndependent: slots and clusters are claimed independently, and
// bad arguments are refused.
func testClaimIndependent(t *testing.T, f *fixture, other Store) {
	slot := f.slotOf(0)
	if !f.claim(f.s, f.rs, slot, "a", time.Minute) || !f.claim(other, f.sharded, slot, "b", time.Minute) ||
		!f.claim(other, f.rs, slot.Add(15*time.Minute), "b", time.Minute) {
		t.Fatal("a claim of another cluster or slot lost")
	}
	if _, err := f.s.ClaimSlot(context.Background(), f.rs.ID, slot, "", time.Minute); err == nil {
		t.Error("a claim without an owner was accepted")
	}
	if _, err := f.s.ClaimSlot(context.Background(), f.rs.ID, slot, "a", 0); err == nil {
		t.Error("a claim without a ttl was accepted")
	}
}
