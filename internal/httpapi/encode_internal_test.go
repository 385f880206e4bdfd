package httpapi

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestCheckpointEncodersMatchReference: each generation's encoders, of a
// page and of one checkpoint, write what the straightforward encoding
// writes (encode_reference_test.go), byte for byte, over random
// checkpoints: ids, times (zero, before 1970, with fractions of a second,
// in other zones, on one day and on many), part counts, names and types
// that need escaping or repeat or change from one checkpoint to the next,
// hostIds, restorable or not, tokens discovered or not; and random links.
func TestCheckpointEncodersMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 7))
	names := []string{"Cluster0-shard-0", "Cluster0-shard-1", "Cluster0-config-0", "rs", "", "q\"uote", `back\slash`,
		"tab\tnew\nline\x01", "żółw", "bad\xffutf8", "</script>&", "a-much-longer-replica-set-name-than-most-clusters-have-0123456789"}
	types := []backup.PartType{backup.PartReplicaSet, backup.PartConfigServer, backup.PartConfigReplicaSet, "OTHER", "we\"ird\\", ""}
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -11*3600)}
	randID := func() backup.ObjectID {
		var id backup.ObjectID
		for i := range id {
			id[i] = byte(rng.UintN(256))
		}
		return id
	}
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	randTime := func() time.Time {
		switch rng.IntN(10) {
		case 0:
			return time.Time{}
		case 1:
			return time.Unix(rng.Int64N(253402300800+62135596800)-62135596800, rng.Int64N(1e9)).In(zones[rng.IntN(len(zones))])
		case 2:
			return time.Unix(rng.Int64N(2*86400)-86400, rng.Int64N(1e9))
		default: // the same few days, as a page's checkpoints are
			return day.Add(time.Duration(rng.Int64N(3 * 86400 * 1e9))).Truncate(time.Duration(rng.IntN(2)) * time.Second)
		}
	}
	randPart := func() backup.Part {
		p := backup.Part{Type: types[rng.IntN(len(types))], ShardName: names[rng.IntN(len(names))],
			ReplicaSetName: names[rng.IntN(len(names))], TokenDiscovered: rng.IntN(4) != 0}
		if rng.IntN(3) == 0 {
			p.HostID = names[rng.IntN(len(names))] + ":27017"
		}
		if p.TokenDiscovered || rng.IntN(2) == 0 {
			inc := []uint32{0, 1, 9, 10, 99, 100, 4294967295, rng.Uint32()}
			p.TokenTimestamp = backup.BSONTimestamp{Date: randTime(), Increment: inc[rng.IntN(len(inc))]}
		}
		return p
	}
	bases := []string{"http://127.0.0.1:8080", "https://cloud.example.com", "http://we\"ird\\host", ""}
	clusters := []string{"Cluster0", "c", "we\"ird\\"}
	for page := range 400 {
		// A page shares a cluster's ids and parts' names, mostly: some
		// pages mix them, and some checkpoints' parts differ.
		cluster, group := randID(), randID()
		shape := make([]backup.Part, rng.IntN(6))
		for i := range shape {
			shape[i] = randPart()
		}
		items := make([]backup.Checkpoint, rng.IntN(12))
		for i := range items {
			cp := backup.Checkpoint{ID: randID(), ClusterID: cluster, GroupID: group, Started: randTime(),
				Completed: randTime(), Timestamp: randTime(), Restorable: rng.IntN(2) == 0}
			if page%5 == 0 {
				cp.ClusterID, cp.GroupID = randID(), randID()
			}
			if rng.IntN(3) == 0 {
				cp.GroupID = randID()
			}
			for _, p := range shape {
				switch rng.IntN(12) {
				case 0: // another part in its place
					p = randPart()
				case 1: // the same names in another string
					p.ShardName = string(append([]byte(nil), p.ShardName...))
				case 2: // one field changed
					p.HostID = names[rng.IntN(len(names))]
				case 3:
					p.ReplicaSetName = names[rng.IntN(len(names))]
				case 4:
					p.ShardName = names[rng.IntN(len(names))]
				case 5:
					p.Type = types[rng.IntN(len(types))]
				}
				p.TokenDiscovered = rng.IntN(4) != 0
				p.TokenTimestamp = backup.BSONTimestamp{Date: randTime(), Increment: rng.Uint32N(1000)}
				cp.Parts = append(cp.Parts, p)
			}
			if rng.IntN(6) == 0 {
				cp.Parts = cp.Parts[:rng.IntN(len(cp.Parts)+1)]
			}
			items[i] = cp
		}
		base := bases[rng.IntN(len(bases))]
		for _, sf := range []*surface{atlasV2, atlasV1, cloudManager} {
			ref := backup.ClusterRef{GroupID: group, ID: cluster, Name: clusters[rng.IntN(len(clusters))]}
			if sf.clusterByID {
				ref.Name = ""
			}
			coll := sf.checkpointsPath(ref)
			want := []byte("prefix")
			for i := range items {
				if i > 0 {
					want = append(want, ',')
				}
				want = refAppendCheckpoint(sf, want, base, coll, &items[i])
			}
			what := fmt.Sprintf("page %d, %s, %d checkpoints", page, sf.name, len(items))
			if got := sf.appendCheckpoints([]byte("prefix"), base, coll, items); !bytes.Equal(got, want) {
				t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
			}
			// As a sequence reusing one value and its parts' array, as
			// a store decoding one checkpoint at a time hands it.
			seq := func(yield func(*backup.Checkpoint) bool) {
				var cp backup.Checkpoint
				for i := range items {
					parts := append(cp.Parts[:0], items[i].Parts...)
					cp = items[i]
					cp.Parts = parts
					if !yield(&cp) {
						return
					}
				}
			}
			if got, whole := sf.appendCheckpointsSeq([]byte("prefix"), base, coll, len(items), seq); !whole || !bytes.Equal(got, want) {
				t.Fatalf("%s, as a sequence (whole %v):\n got %s\nwant %s", what, whole, got, want)
			}
			// A sequence that stops short, or goes on too long: b as
			// it was, and not whole.
			for _, n := range []int{len(items) + 1, len(items) - 1} {
				if n <= 0 {
					continue
				}
				if got, whole := sf.appendCheckpointsSeq([]byte("prefix"), base, coll, n, seq); whole || string(got) != "prefix" {
					t.Fatalf("%s, as a sequence of %d for %d: whole %v, %q", what, len(items), n, whole, got)
				}
			}
			for i := range items {
				want := refAppendCheckpoint(sf, []byte("prefix"), base, coll, &items[i])
				if got := sf.appendCheckpoint([]byte("prefix"), base, coll, &items[i]); !bytes.Equal(got, want) {
					t.Fatalf("%s, checkpoint %d alone:\n got %s\nwant %s", what, i, got, want)
				}
			}
		}
	}
}
