package codec

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// blockCheckpoints makes n checkpoints whose every field the block form
// keeps varies: times before 1970 and far apart, no completion, parts
// of every type with names repeated or not, tokens not discovered,
// increments up to 2^32-1.
func blockCheckpoints(rng *rand.Rand, n int) []backup.Checkpoint {
	cluster, group := backup.ObjectID{1, 2, 3}, backup.ObjectID{4, 5, 6}
	ts := int64(-1_000_000) + rng.Int64N(2_000_000_000)
	types := []backup.PartType{backup.PartReplicaSet, backup.PartConfigServer, backup.PartConfigReplicaSet, "NEW_KIND", ""}
	cps := make([]backup.Checkpoint, n)
	for i := range cps {
		ts += rng.Int64N(3600) - 600
		cp := backup.Checkpoint{ClusterID: cluster, GroupID: group, Timestamp: time.Unix(ts, 0).UTC(),
			Started: time.Unix(ts-rng.Int64N(1_000_000), 0).UTC(), Restorable: rng.IntN(2) == 0}
		for j := range cp.ID {
			cp.ID[j] = byte(rng.Uint32())
		}
		if rng.IntN(4) != 0 {
			cp.Completed = time.Unix(ts+rng.Int64N(1000)-500, 0).UTC()
		}
		for k := range rng.IntN(6) {
			p := backup.Part{Type: types[rng.IntN(len(types))], TokenDiscovered: rng.IntN(5) != 0,
				TokenTimestamp: backup.BSONTimestamp{Date: time.Unix(ts+rng.Int64N(100)-50, 0).UTC(), Increment: uint32(rng.Uint64())}}
			if rng.IntN(2) == 0 {
				p.TokenTimestamp.Increment = math.MaxUint32
			}
			if rng.IntN(3) != 0 {
				p.ShardName = fmt.Sprintf("shard-%d", k)
			}
			if rng.IntN(3) != 0 {
				p.ReplicaSetName = fmt.Sprintf("rs-%d-%d", k, rng.IntN(2))
			}
			if rng.IntN(5) == 0 {
				p.HostID = "host\x00\xff:27017"
			}
			if rng.IntN(8) == 0 {
				p.TokenTimestamp = backup.BSONTimestamp{}
			}
			cp.Parts = append(cp.Parts, p)
		}
		cps[i] = cp
	}
	return cps
}

// storedForm is cp as a store reads it back from its parts format and
// columns: the block form must give exactly the same values.
func storedForm(t *testing.T, cp backup.Checkpoint) backup.Checkpoint {
	parts, err := DecodeParts(AppendParts(nil, cp.Parts))
	if err != nil {
		t.Fatal(err)
	}
	cp.Parts = parts
	return cp
}

// TestBlockRoundTrip encodes random blocks, with gaps between seqs, and
// decodes every range of them: the checkpoints of the range, exactly as
// the rows would give them.
func TestBlockRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var e BlockEncoder
	d := new(Decoder)
	for round := range 200 {
		n := rng.IntN(120)
		cps := blockCheckpoints(rng, n)
		base := int64(1 + 100*rng.IntN(1000))
		recs := make([]BlockRecord, n)
		seq := base + int64(rng.IntN(3))
		for i := range cps {
			recs[i] = BlockRecord{Seq: seq, CP: &cps[i]}
			seq++
			if rng.IntN(20) == 0 {
				seq += int64(rng.IntN(3)) // a hole
			}
		}
		b, err := e.AppendBlock(nil, base, recs)
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			from := base + int64(rng.IntN(130)) - 5
			to := from + int64(rng.IntN(130))
			var want []backup.Checkpoint
			for _, r := range recs {
				if r.Seq >= from && r.Seq < to {
					want = append(want, storedForm(t, *r.CP))
				}
			}
			got, _, err := d.DecodeBlock(nil, nil, b, base, from, to, cps0(cps).ClusterID, cps0(cps).GroupID)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			if len(got) != len(want) || len(want) > 0 && !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, seqs [%d, %d): got %d checkpoints\n%+v\nwant %d\n%+v", round, from, to, len(got), got, len(want), want)
			}
		}
	}
}

func cps0(cps []backup.Checkpoint) backup.Checkpoint {
	if len(cps) == 0 {
		return backup.Checkpoint{ClusterID: backup.ObjectID{1, 2, 3}, GroupID: backup.ObjectID{4, 5, 6}}
	}
	return cps[0]
}

// TestBlockDamaged decodes and walks every truncation of a block, and
// the block with each byte changed to several values: never a panic, a
// block cut short is always an error, and a walk that meets damage
// yields fewer checkpoints than the block holds (walkDamage).
func TestBlockDamaged(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cps := blockCheckpoints(rng, 40)
	recs := make([]BlockRecord, len(cps))
	for i := range cps {
		recs[i] = BlockRecord{Seq: 101 + int64(i), CP: &cps[i]}
	}
	var e BlockEncoder
	b, err := e.AppendBlock(nil, 101, recs)
	if err != nil {
		t.Fatal(err)
	}
	d := new(Decoder)
	for n := range len(b) {
		if _, _, err := d.DecodeBlock(nil, nil, b[:n], 101, 0, math.MaxInt64, backup.ObjectID{}, backup.ObjectID{}); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownFormat) {
			t.Fatalf("block cut to %d of %d bytes: %v, want an error", n, len(b), err)
		}
		if yielded, err := walkDamage(t, d, b[:n], 101, 101, 101+int64(len(cps))); err == nil || yielded == len(cps) {
			t.Fatalf("block cut to %d of %d bytes: walk yielded %d of %d, error %v", n, len(b), yielded, len(cps), err)
		}
	}
	c := append([]byte(nil), b...)
	for i := range c {
		for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff, c[i] ^ 0x40} {
			old := c[i]
			c[i] = v
			_, _, _ = d.DecodeBlock(nil, nil, c, 101, 0, math.MaxInt64, backup.ObjectID{}, backup.ObjectID{})
			walkDamage(t, d, c, 101, 101, 101+int64(len(cps)))
			walkDamage(t, d, c, 101, 111, 131)
			c[i] = old
		}
	}
	if _, _, err := d.DecodeBlock(nil, nil, append([]byte{BlockVersion + 1}, b[1:]...), 101, 0, math.MaxInt64, backup.ObjectID{}, backup.ObjectID{}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("another version: %v, want ErrUnknownFormat", err)
	}
}

// FuzzDecodeBlock: no input makes DecodeBlock panic, and what it decodes
// without error is checkpoints within the range asked for.
func FuzzDecodeBlock(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	var e BlockEncoder
	for _, n := range []int{0, 1, 3, 100} {
		cps := blockCheckpoints(rng, n)
		recs := make([]BlockRecord, n)
		for i := range cps {
			recs[i] = BlockRecord{Seq: 1 + int64(i), CP: &cps[i]}
		}
		b, err := e.AppendBlock(nil, 1, recs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, int64(0), int64(200))
	}
	d := new(Decoder)
	f.Fuzz(func(t *testing.T, b []byte, from, to int64) {
		walkDamage(t, d, b, 1, from, to)
		got, _, err := d.DecodeBlock(nil, nil, b, 1, from, to, backup.ObjectID{}, backup.ObjectID{})
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("%d checkpoints with the error %v", len(got), err)
			}
			return
		}
		if to > from && uint64(len(got)) > uint64(to)-uint64(from) {
			t.Fatalf("%d checkpoints for seqs [%d, %d)", len(got), from, to)
		}
	})
}

// walkDamage walks b, whose first seq is base, over seqs [from, to),
// and fails t unless a walk that ends in an error yielded fewer than
// to - from checkpoints: a caller that counts what a walk yields knows
// that one which yielded every seq asked for met no damage, without
// walking the block once before.
func walkDamage(t *testing.T, d *Decoder, b []byte, base, from, to int64) (int, error) {
	t.Helper()
	var cp backup.Checkpoint
	yielded := 0
	n, err := d.WalkBlock(b, base, from, to, backup.ObjectID{}, backup.ObjectID{}, &cp, func(*backup.Checkpoint) bool {
		yielded++
		return true
	})
	if n != yielded && err == nil {
		t.Fatalf("walk of [%d, %d): %d yielded, %d reported", from, to, yielded, n)
	}
	if to > from && err != nil && uint64(yielded) >= uint64(to)-uint64(from) {
		t.Fatalf("walk of [%d, %d): %d yielded, then %v", from, to, yielded, err)
	}
	return yielded, err
}
