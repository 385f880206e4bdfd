package storetest

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// BenchUseNonce is what a Digest request costs a store while several
// instances share its data set: one UseNonce of a new nonce count (the
// official client's nc=1 on a fresh nonce), from one goroutine and from
// several, as an instance's concurrent requests make them. Each store
// package's BenchmarkUseNonce runs it.
func BenchUseNonce(b *testing.B, s interface {
	UseNonce(ctx context.Context, nonce []byte, nc uint32, expires time.Time) (bool, error)
}) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	var seq atomic.Uint64
	use := func(b *testing.B) {
		var nonce [24]byte
		binary.BigEndian.PutUint64(nonce[:], seq.Add(1))
		// An expiry on the wall clock, as the store's own clock reads it by
		// default: the benchmark measures elapsed time, not the clock.
		fresh, err := s.UseNonce(ctx, nonce[:], 1, time.Now().Add(2*time.Minute))
		if err != nil || !fresh {
			b.Fatalf("UseNonce: %v %v", fresh, err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			use(b)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				use(b)
			}
		})
	})
}
