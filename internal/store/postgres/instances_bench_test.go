package postgres_test

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// BenchmarkUseNonce is what a Digest request costs the store while
// several instances share a data set: one insert of a new nonce count
// (the official client's nc=1 on a fresh nonce), from one goroutine and
// from several, as an instance's concurrent requests make them.
func BenchmarkUseNonce(b *testing.B) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := postgres.Open(ctx, pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	benchUseNonce(b, ctx, db)
}

type nonceUser interface {
	UseNonce(ctx context.Context, nonce []byte, nc uint32, expires time.Time) (bool, error)
}

func benchUseNonce(b *testing.B, ctx context.Context, db nonceUser) {
	var seq atomic.Uint64
	use := func(b *testing.B) {
		var nonce [24]byte
		binary.BigEndian.PutUint64(nonce[:], seq.Add(1))
		fresh, err := db.UseNonce(ctx, nonce[:], 1, time.Now().Add(2*time.Minute))
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
