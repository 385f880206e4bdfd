package codec

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestPageBlocks builds the blocks of 300 consecutive seqs and reads
// pages across them: Decode and Walk give the page's checkpoints in
// order, Walk stops when told to, and a first block that also claims
// seqs of the second answers only for its own, so the page comes out
// short rather than with seqs twice.
func TestPageBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cps := blockCheckpoints(rng, 300)
	cluster, group := cps0(cps).ClusterID, cps0(cps).GroupID
	var e BlockEncoder
	block := func(base int64, seqs ...int64) []byte {
		var recs []BlockRecord
		for _, s := range seqs {
			recs = append(recs, BlockRecord{Seq: s, CP: &cps[s-1]})
		}
		b, err := e.AppendBlock(nil, base, recs)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	span := func(from, to int64) []int64 {
		var s []int64
		for q := from; q < to; q++ {
			s = append(s, q)
		}
		return s
	}
	blocks := [][]byte{block(1, span(1, 101)...), block(101, span(101, 201)...), block(201, span(201, 301)...)}
	page := func(from, to int64, bodies ...[]byte) *PageBlocks {
		k0 := (from - 1) / 100
		pb := NewPageBlocks(from, to, 100, cluster, group, len(bodies))
		for i, b := range bodies {
			pb.Add((k0+int64(i))*100+1, b)
		}
		return pb
	}
	d := new(Decoder)
	for _, r := range [][2]int64{{1, 101}, {51, 151}, {2, 300}, {150, 301}} {
		k0, k1 := (r[0]-1)/100, (r[1]-2)/100
		pb := page(r[0], r[1], blocks[k0:k1+1]...)
		var want []backup.Checkpoint
		for s := r[0]; s < r[1]; s++ {
			want = append(want, storedForm(t, cps[s-1]))
		}
		got, err := pb.Decode(d)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode [%d, %d): %d checkpoints, %v", r[0], r[1], len(got), err)
		}
		var walked []backup.Checkpoint
		var cp backup.Checkpoint
		n, err := pb.Walk(d, &cp, func(cp *backup.Checkpoint) bool {
			c := *cp
			c.Parts = append([]backup.Part(nil), cp.Parts...)
			walked = append(walked, c)
			return true
		})
		if err != nil || n != pb.Len() || !reflect.DeepEqual(walked, want) {
			t.Fatalf("Walk [%d, %d): %d of %d, %v", r[0], r[1], n, pb.Len(), err)
		}
		if n, err := pb.Walk(d, nil, nil); err != nil || n != pb.Len() {
			t.Fatalf("Walk counting [%d, %d): %d of %d, %v", r[0], r[1], n, pb.Len(), err)
		}
		stopAt, seen := 7, 0
		if _, err := pb.Walk(d, &cp, func(*backup.Checkpoint) bool { seen++; return seen < stopAt }); err != nil || seen != stopAt {
			t.Fatalf("Walk [%d, %d) told to stop after %d: %d, %v", r[0], r[1], stopAt, seen, err)
		}
	}
	// Half of its own seqs, and half of the next block's.
	claiming := block(1, append(span(1, 51), span(101, 151)...)...)
	pb := page(1, 201, claiming, blocks[1])
	if n, err := pb.Walk(d, nil, nil); err != nil || n != 150 {
		t.Errorf("a block claiming the next one's seqs: %d of %d counted, %v; want 150", n, pb.Len(), err)
	}
	if got, err := pb.Decode(d); err != nil || len(got) != 150 {
		t.Errorf("a block claiming the next one's seqs: %d decoded, %v; want 150", len(got), err)
	}
}
