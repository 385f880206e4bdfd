package httpapi

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestPageBodies: a page's encoded results are the surface's encoding,
// kept for a page with a version, and never served for another version,
// length, surface or link base, nor for a page without a version.
func TestPageBodies(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 0)
	items := make([]backup.Checkpoint, 3)
	for i := range items {
		ts := t0.Add(time.Duration(i) * time.Hour)
		items[i] = backup.Checkpoint{ID: ids.New(ts), ClusterID: ids.New(t0), GroupID: ids.New(t0), Started: ts, Timestamp: ts,
			Parts: []backup.Part{{Type: backup.PartConfigServer, HostID: "h:1", TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 1}}}}
	}
	const base, coll = "http://a", "/api/atlas/v2/groups/g/clusters/c/backupCheckpoints"
	want := func(sf *surface, base string, items []backup.Checkpoint) []byte {
		var b []byte
		for i := range items {
			if i > 0 {
				b = append(b, ',')
			}
			b = sf.appendCheckpoint(b, base, coll, &items[i])
		}
		return b
	}
	orig := want(atlasV2, base, items)
	// Room for two of these bodies and their keys, not three.
	bound := 2*bodyCost(pageBodyKey{base: base, coll: coll}, orig) + 1
	c := newPageBodies(bound)
	check := func(what string, sf *surface, base string, items []backup.Checkpoint, version uint64, want []byte) {
		t.Helper()
		got := c.append([]byte("prefix"), sf, base, coll, &backup.Page[backup.Checkpoint]{Items: items, Version: version})
		if !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("%s:\n got %s\nwant prefix%s", what, got, want)
		}
	}
	for i := range 3 {
		check("the same page, time "+string(rune('1'+i)), atlasV2, base, items, 7, orig)
	}
	// Served from the entry from now on: a change to the items under the
	// same version (which no store makes) does not show.
	saved := slices.Clone(items)
	items[0].Restorable = !items[0].Restorable
	check("an entry", atlasV2, base, items, 7, orig)
	// Without a version, or under another, the page is encoded afresh.
	check("no version", atlasV2, base, items, 0, want(atlasV2, base, items))
	if _, ok := c.bodies[pageBodyKey{version: 0, n: len(items), sf: atlasV2, base: base, coll: coll}]; ok {
		t.Fatal("a page without a version was kept")
	}
	check("another version", atlasV2, base, items, 8, want(atlasV2, base, items))
	items[0] = saved[0]

	check("a shorter page of the same version", atlasV2, base, items[:2], 7, want(atlasV2, base, items[:2]))
	check("another base", atlasV2, "http://b", items, 7, want(atlasV2, "http://b", items))
	check("another surface", cloudManager, base, items, 7, want(cloudManager, base, items))
	if bytes.Equal(want(cloudManager, base, items), orig) {
		t.Fatal("the surfaces' encodings do not differ: the case above tests nothing")
	}
	check("no items", atlasV2, base, nil, 7, nil)
	var sum int64
	for k, body := range c.bodies {
		sum += bodyCost(k, body)
	}
	if sum != c.bytes || c.bytes > bound || len(c.bodies) > 2 || len(c.bodies) == 0 {
		t.Fatalf("%d entries kept holding %d bytes (counted %d), bound %d bytes", len(c.bodies), sum, c.bytes, bound)
	}
}
