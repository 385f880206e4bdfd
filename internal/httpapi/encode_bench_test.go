package httpapi

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// benchPage is a page of size checkpoints of a three-shard cluster, 15
// minutes apart, and its collection paths on each API generation.
func benchPage(size int) ([]backup.Checkpoint, map[*surface]string) {
	ids := backup.NewIDSourceFrom([5]byte{0xbe, 0x4c, 0, 0, 1}, 0)
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	cluster, group := ids.New(t0), ids.New(t0)
	// A store's decoder shares one copy of each name among a page's parts.
	var names [3]string
	for s := range names {
		names[s] = fmt.Sprintf("Cluster0-shard-%d", s)
	}
	items := make([]backup.Checkpoint, size)
	for i := range items {
		ts := t0.Add(time.Duration(i) * 15 * time.Minute)
		tok := backup.BSONTimestamp{Date: ts, Increment: 1}
		cp := backup.Checkpoint{ID: ids.New(ts), ClusterID: cluster, GroupID: group,
			Started: ts.Add(-2 * time.Minute), Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: true}
		for _, name := range names {
			cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: name,
				ReplicaSetName: name, TokenDiscovered: true, TokenTimestamp: tok})
		}
		cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartConfigReplicaSet,
			ReplicaSetName: "Cluster0-config-0", TokenDiscovered: true, TokenTimestamp: tok})
		items[i] = cp
	}
	ref := backup.ClusterRef{GroupID: group, ID: cluster, Name: "Cluster0"}
	return items, map[*surface]string{
		atlasV2:      atlasV2.checkpointsPath(ref),
		atlasV1:      atlasV1.checkpointsPath(ref),
		cloudManager: cloudManager.checkpointsPath(ref),
	}
}

// BenchmarkAppendPage encodes a page of checkpoints of a three-shard
// cluster, as a list request whose page is not in the page body cache
// does: the encoding's share of an uncached page, beside the store's
// (the stores' BenchmarkCheckpointsRandom). The reference cases are the
// straightforward encoding, field by field (encode_reference_test.go).
//
// Besides the mean, each case reports the 10th and 50th percentiles of
// the pages' own times (p10-ns/op, p50-ns/op): a page takes microseconds,
// far less than a scheduler's slice, so on a machine busy with other work
// most pages still run undisturbed, and the low percentiles stay near what
// a quiet machine measures when the mean does not.
func BenchmarkAppendPage(b *testing.B) {
	const base = "http://127.0.0.1:8080"
	for _, size := range []int{1, 100, 500} {
		items, colls := benchPage(size)
		for _, sf := range []*surface{atlasV2, atlasV1, cloudManager} {
			coll := colls[sf]
			for _, ref := range []bool{false, true} {
				name := fmt.Sprintf("size=%d/%s/encoder", size, sf.name)
				if ref {
					name = fmt.Sprintf("size=%d/%s/reference", size, sf.name)
				}
				b.Run(name, func(b *testing.B) {
					var buf []byte
					var times pageTimes
					b.ReportAllocs()
					for b.Loop() {
						start := time.Now() // measures elapsed time
						buf = buf[:0]
						if ref {
							for i := range items {
								if i > 0 {
									buf = append(buf, ',')
								}
								buf = refAppendCheckpoint(sf, buf, base, coll, &items[i])
							}
						} else {
							buf = benchAppendPage(sf, buf, base, coll, items)
						}
						times = append(times, time.Since(start)) // measures elapsed time
					}
					b.SetBytes(int64(len(buf)))
					times.report(b)
				})
			}
		}
		// A page read afresh (no version) into a request buffer as the
		// pool hands out a new one (4 KB), as after a collection emptied
		// the pool: what the body's buffer costs on top of the encoding.
		b.Run(fmt.Sprintf("size=%d/atlas-v2/fresh-buffer", size), func(b *testing.B) {
			c := newPageBodies(0)
			page := backup.Page[backup.Checkpoint]{Items: items}
			var n int
			b.ReportAllocs()
			for b.Loop() {
				buf := make([]byte, 0, 4096)
				buf = c.append(buf, atlasV2, base, colls[atlasV2], &page)
				n = len(buf)
			}
			b.SetBytes(int64(n))
		})
	}
}

func benchAppendPage(sf *surface, b []byte, base, coll string, items []backup.Checkpoint) []byte {
	return sf.appendCheckpoints(b, base, coll, items)
}

// pageTimes are the times of a benchmark's iterations, one by one.
type pageTimes []time.Duration

// report reports their 10th and 50th percentiles.
func (ts pageTimes) report(b *testing.B) {
	if len(ts) == 0 {
		return
	}
	slices.Sort(ts)
	b.ReportMetric(float64(ts[len(ts)/10].Nanoseconds()), "p10-ns/op")
	b.ReportMetric(float64(ts[len(ts)/2].Nanoseconds()), "p50-ns/op")
}
