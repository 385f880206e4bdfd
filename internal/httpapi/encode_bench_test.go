package httpapi

import (
	"fmt"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// BenchmarkAppendPage encodes a page of checkpoints of a three-shard
// cluster, as a list request whose page is not in the page body cache
// does: the encoding's share of an uncached page, beside the store's
// (the stores' BenchmarkCheckpointsRandom).
func BenchmarkAppendPage(b *testing.B) {
	ids := backup.NewIDSourceFrom([5]byte{0xbe, 0x4c, 0, 0, 1}, 0)
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	cluster, group := ids.New(t0), ids.New(t0)
	const base, coll = "http://127.0.0.1:8080", "/api/atlas/v2/groups/5f0000000000000000000001/clusters/Cluster0/backupCheckpoints"
	for _, size := range []int{100, 500} {
		items := make([]backup.Checkpoint, size)
		for i := range items {
			ts := t0.Add(time.Duration(i) * 15 * time.Minute)
			tok := backup.BSONTimestamp{Date: ts, Increment: 1}
			cp := backup.Checkpoint{ID: ids.New(ts), ClusterID: cluster, GroupID: group,
				Started: ts.Add(-2 * time.Minute), Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: true}
			for s := range 3 {
				name := fmt.Sprintf("Cluster0-shard-%d", s)
				cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: name,
					ReplicaSetName: name, TokenDiscovered: true, TokenTimestamp: tok})
			}
			cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartConfigReplicaSet,
				ReplicaSetName: "Cluster0-config-0", TokenDiscovered: true, TokenTimestamp: tok})
			items[i] = cp
		}
		for _, sf := range []struct {
			name string
			sf   *surface
		}{{"atlasV2", atlasV2}} {
			b.Run(fmt.Sprintf("size=%d/%s", size, sf.name), func(b *testing.B) {
				var buf []byte
				b.ReportAllocs()
				for b.Loop() {
					buf = buf[:0]
					for i := range items {
						if i > 0 {
							buf = append(buf, ',')
						}
						buf = sf.sf.appendCheckpoint(buf, base, coll, &items[i])
					}
				}
				b.SetBytes(int64(len(buf)))
			})
		}
		// A page read afresh (no version) into a request buffer as the
		// pool hands out a new one (4 KB), as after a collection emptied
		// the pool: what the body's buffer costs on top of the encoding.
		b.Run(fmt.Sprintf("size=%d/atlasV2-fresh-buffer", size), func(b *testing.B) {
			c := newPageBodies(0)
			page := backup.Page[backup.Checkpoint]{Items: items}
			var n int
			b.ReportAllocs()
			for b.Loop() {
				buf := make([]byte, 0, 4096)
				buf = c.append(buf, atlasV2, base, coll, &page)
				n = len(buf)
			}
			b.SetBytes(int64(n))
		})
	}
}
