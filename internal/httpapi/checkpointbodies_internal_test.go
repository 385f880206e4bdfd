package httpapi

import (
	"bytes"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestCheckpointBodies: a checkpoint's representation is the surface's
// encoding, kept and served again for an equal checkpoint with the same
// links, never for a checkpoint that differs in any value under the same
// id, nor for another surface or link base; the bytes kept stay within
// the bound.
func TestCheckpointBodies(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 6}, 0)
	cp := backup.Checkpoint{ID: ids.New(t0), ClusterID: ids.New(t0), GroupID: ids.New(t0), Started: t0, Completed: t0.Add(time.Minute), Timestamp: t0, Restorable: true,
		Parts: []backup.Part{
			{Type: backup.PartReplicaSet, ShardName: "s0", ReplicaSetName: "rs0", TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: t0, Increment: 1}},
			{Type: backup.PartConfigServer, HostID: "h:1", TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: t0, Increment: 2}}}}
	const base = "http://a"
	ref := backup.ClusterRef{GroupID: cp.GroupID, Name: "c"}
	coll := atlasV2.checkpointsPath(ref)
	c := newCheckpointBodies(1 << 20)
	checkRef := func(what string, sf *surface, base string, ref backup.ClusterRef, cp backup.Checkpoint) {
		t.Helper()
		want := append([]byte("prefix"), sf.appendCheckpoint(nil, base, sf.checkpointsPath(ref), &cp)...)
		for i := range 2 { // the first may encode, the second is served from the entry
			if got := c.append([]byte("prefix"), sf, base, ref, &cp); !bytes.Equal(got, want) {
				t.Fatalf("%s, time %d:\n got %s\nwant %s", what, i+1, got, want)
			}
		}
	}
	check := func(what string, sf *surface, base string, cp backup.Checkpoint) {
		t.Helper()
		checkRef(what, sf, base, ref, cp)
	}
	check("a checkpoint", atlasV2, base, cp)
	if len(c.bodies) != 1 {
		t.Fatalf("%d entries after one checkpoint, want 1", len(c.bodies))
	}
	// Equal parts in another array (another read of the store) are the
	// same parts: served from the entry, not encoded again.
	cp.Parts = append([]backup.Part(nil), cp.Parts...)
	if !sameCheckpoint(&c.bodies[cp.ID].cp, &cp) {
		t.Fatal("equal parts in another array: sameCheckpoint false")
	}
	kept := c.kept(atlasV2, base, ref, &cp)
	check("the same checkpoint again", atlasV2, base, cp)
	if again := c.kept(atlasV2, base, ref, &cp); kept == nil || &again[0] != &kept[0] {
		t.Error("the same checkpoint in another array encoded again")
	}

	// Every value the representation shows, changed under the same id.
	for _, tt := range []struct {
		name   string
		change func(*backup.Checkpoint)
	}{
		{"cluster", func(c *backup.Checkpoint) { c.ClusterID = ids.New(t0) }},
		{"group", func(c *backup.Checkpoint) { c.GroupID = ids.New(t0) }},
		{"started", func(c *backup.Checkpoint) { c.Started = c.Started.Add(time.Second) }},
		{"completed", func(c *backup.Checkpoint) { c.Completed = time.Time{} }},
		{"timestamp", func(c *backup.Checkpoint) { c.Timestamp = c.Timestamp.Add(time.Second) }},
		{"restorable", func(c *backup.Checkpoint) { c.Restorable = false }},
		{"a part fewer", func(c *backup.Checkpoint) { c.Parts = c.Parts[:1] }},
		{"part type", func(c *backup.Checkpoint) { c.Parts[1].Type = backup.PartReplicaSet }},
		{"shard name", func(c *backup.Checkpoint) { c.Parts[0].ShardName = "s9" }},
		{"replica set", func(c *backup.Checkpoint) { c.Parts[0].ReplicaSetName = "rs9" }},
		{"host id", func(c *backup.Checkpoint) { c.Parts[1].HostID = "h:2" }},
		{"token discovered", func(c *backup.Checkpoint) { c.Parts[0].TokenDiscovered = false }},
		{"token date", func(c *backup.Checkpoint) { c.Parts[0].TokenTimestamp.Date = t0.Add(time.Second) }},
		{"token increment", func(c *backup.Checkpoint) { c.Parts[0].TokenTimestamp.Increment = 9 }},
	} {
		other := cp
		other.Parts = append([]backup.Part(nil), cp.Parts...)
		tt.change(&other)
		if sameCheckpoint(&cp, &other) {
			t.Errorf("%s changed: sameCheckpoint still true", tt.name)
		}
		check(tt.name+" changed", atlasV2, base, other)
		check("back to the original after "+tt.name, atlasV2, base, cp)
	}
	check("another base", atlasV2, "http://b", cp)
	check("another surface", cloudManager, base, cp)
	checkRef("another cluster name", atlasV2, base, backup.ClusterRef{GroupID: ref.GroupID, Name: "d"}, cp)
	checkRef("another group", atlasV2, base, backup.ClusterRef{GroupID: ids.New(t0), Name: "c"}, cp)
	checkRef("a cluster by id", cloudManager, base, backup.ClusterRef{GroupID: ref.GroupID, ID: cp.ClusterID}, cp)
	checkRef("another cluster id", cloudManager, base, backup.ClusterRef{GroupID: ref.GroupID, ID: ids.New(t0)}, cp)
	// Those are variants of one id, kept beside each other: the seven
	// links above.
	checkInvariants(t, c)
	if n := variants(c, cp.ID); n != 7 {
		t.Errorf("%d variants of the checkpoint kept, want 7", n)
	}
	if c.kept(cloudManager, base, backup.ClusterRef{GroupID: ref.GroupID, ID: cp.ClusterID}, &cp) == nil {
		t.Errorf("the variant by cluster id not kept")
	}
	// A client naming a new host with every request keeps maxVariants of
	// them, the newest.
	for i := range 3 * maxVariants {
		check("host "+strconv.Itoa(i), atlasV2, "http://h"+strconv.Itoa(i), cp)
		checkInvariants(t, c)
		if n := variants(c, cp.ID); n > maxVariants {
			t.Fatalf("%d variants kept, bound %d", n, maxVariants)
		}
	}
	if c.kept(atlasV2, "http://h"+strconv.Itoa(3*maxVariants-1), ref, &cp) == nil {
		t.Errorf("the newest variant not kept")
	}

	// sameCheckpoint compares every field: a field added to Checkpoint
	// or Part must be added there too.
	if n := reflect.TypeFor[backup.Checkpoint]().NumField(); n != 8 {
		t.Errorf("backup.Checkpoint has %d fields: compare the new ones in sameCheckpoint, then update this test", n)
	}
	if n := reflect.TypeFor[backup.Part]().NumField(); n != 6 {
		t.Errorf("backup.Part has %d fields: compare the new ones in samePart, then update this test", n)
	}

	// The bound, in bytes: a small one keeps the newest entries only.
	one := int64(len(atlasV2.appendCheckpoint(nil, base, coll, &cp)) + len(base) + len(coll))
	c = newCheckpointBodies(3 * one)
	for range 10 {
		cp.ID = ids.New(t0)
		check("one of many", atlasV2, base, cp)
		checkInvariants(t, c)
		if c.bytes > c.max || len(c.bodies) > 3 {
			t.Fatalf("%d bytes in %d entries, bound %d", c.bytes, len(c.bodies), c.max)
		}
	}
	if len(c.bodies) != 3 {
		t.Errorf("%d entries, want 3 (the bound holds three)", len(c.bodies))
	}
	// A body larger than the bound is served, not kept.
	c = newCheckpointBodies(one - 1)
	check("too large to keep", atlasV2, base, cp)
	if len(c.bodies) != 0 || c.bytes != 0 {
		t.Errorf("kept %d entries, %d bytes, beyond the bound %d", len(c.bodies), c.bytes, c.max)
	}
	// A bound of none (a negative PageBodyCacheSize): served, never kept.
	c = newCheckpointBodies(-1)
	check("with no bound", atlasV2, base, cp)
	if len(c.bodies) != 0 {
		t.Errorf("kept %d entries with no room", len(c.bodies))
	}
}

// variants is how many variants of id c keeps.
func variants(c *checkpointBodies, id backup.ObjectID) int {
	n := 0
	for e := c.bodies[id]; e != nil; e = e.next {
		n++
	}
	return n
}

// checkInvariants: the bytes counted are the entries', within the bound;
// every variant is of its id, with its own links, at most maxVariants.
func checkInvariants(t *testing.T, c *checkpointBodies) {
	t.Helper()
	var sum int64
	for id, e := range c.bodies {
		n := 0
		for v := e; v != nil; v = v.next {
			sum += v.size
			n++
			if v.cp.ID != id {
				t.Fatalf("a variant of %s holds %s", id.Hex(), v.cp.ID.Hex())
			}
			for w := v.next; w != nil; w = w.next {
				if w.linksOf(v.sf, v.base, backup.ClusterRef{GroupID: v.group, ID: v.clusterID, Name: v.clusterName}) {
					t.Fatalf("two variants of %s with the same links", id.Hex())
				}
			}
		}
		if n == 0 || n > maxVariants {
			t.Fatalf("%d variants of %s", n, id.Hex())
		}
	}
	if sum != c.bytes || c.bytes > max(c.max, 0) {
		t.Fatalf("entries of %d bytes, %d counted, bound %d", sum, c.bytes, c.max)
	}
}

// TestCheckpointBodiesConcurrent: requests at once, over a bound that
// evicts, each get their checkpoint's representation, kept or not.
func TestCheckpointBodiesConcurrent(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 7}, 0)
	group := ids.New(t0)
	var cps []backup.Checkpoint
	for range 6 {
		cps = append(cps, backup.Checkpoint{ID: ids.New(t0), ClusterID: ids.New(t0), GroupID: group, Started: t0, Completed: t0, Timestamp: t0,
			Parts: []backup.Part{{Type: backup.PartReplicaSet, ShardName: "s0", ReplicaSetName: "rs0"}}})
	}
	surfaces := []*surface{atlasV2, atlasV1, cloudManager}
	bases := []string{"http://a", "http://b"}
	ref := func(sf *surface, cp *backup.Checkpoint) backup.ClusterRef {
		if sf.clusterByID {
			return backup.ClusterRef{GroupID: group, ID: cp.ClusterID}
		}
		return backup.ClusterRef{GroupID: group, Name: "c"}
	}
	one := int64(len(atlasV2.appendCheckpoint(nil, bases[0], atlasV2.checkpointsPath(ref(atlasV2, &cps[0])), &cps[0])) + 64)
	c := newCheckpointBodies(10 * one) // fewer than the 36 variants
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 300 {
				cp := cps[(i+w)%len(cps)]
				sf, base := surfaces[(i/2+w)%len(surfaces)], bases[(i/3)%len(bases)]
				r := ref(sf, &cp)
				want := sf.appendCheckpoint(nil, base, sf.checkpointsPath(r), &cp)
				if got := c.append(nil, sf, base, r, &cp); !bytes.Equal(got, want) {
					t.Errorf("append: %s", got)
					return
				}
				if got := c.kept(sf, base, r, &cp); got != nil && !bytes.Equal(got, want) {
					t.Errorf("kept: %s", got)
					return
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, c)
}
