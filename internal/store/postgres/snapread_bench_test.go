package postgres

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// BenchmarkSnapshotStatement reads the current snapshot on one connection
// in the ways the driver offers, one after the other, and as a snapshot
// lane does (lane): what one snapshot read costs the client (ns/op,
// allocs/op) and the server process that answers it (backend-ns/op, its
// CPU time from /proc/PID/schedstat when the server is on this machine).
// The simple protocol and an unnamed statement cost the server twice a
// prepared one's work (they parse and plan the statement each time).
func BenchmarkSnapshotStatement(b *testing.B) {
	dsn := pgtest.BaseDSN(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var pid uint32
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	sd, err := conn.Prepare(ctx, "snap", snapshotQuery)
	if err != nil {
		b.Fatal(err)
	}
	lane, err := dialSnapConn(conn.Config(), time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	defer closeConn(lane.c)
	var lanePID uint32
	if err := lane.c.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&lanePID); err != nil {
		b.Fatal(err)
	}
	deadline := func() (context.Context, context.CancelFunc) {
		return context.WithDeadline(ctx, time.Now().Add(time.Minute)) // elapsed time: a bound, as the gate's read has
	}
	for _, v := range []struct {
		name string
		read func() (string, error)
		lane bool // on the lane's connection
	}{
		{"lane", func() (string, error) {
			return lane.read(time.Now().Add(time.Minute)) // elapsed time: a bound, as the gate's read has
		}, true},
		{"pgx-QueryRow-deadline", func() (string, error) {
			ctx, cancel := deadline()
			defer cancel()
			var s string
			err := conn.QueryRow(ctx, snapshotQuery).Scan(&s)
			return s, err
		}, false},
		{"pgx-QueryRow", func() (string, error) {
			var s string
			err := conn.QueryRow(ctx, snapshotQuery).Scan(&s)
			return s, err
		}, false},
		{"pgconn-ExecStatement", func() (string, error) {
			rr := conn.PgConn().ExecStatement(ctx, sd, nil, nil, nil)
			var s string
			for rr.NextRow() {
				s = string(rr.Values()[0])
			}
			_, err := rr.Close()
			return s, err
		}, false},
		{"pgconn-ExecStatement-deadline", func() (string, error) {
			ctx, cancel := deadline()
			defer cancel()
			rr := conn.PgConn().ExecStatement(ctx, sd, nil, nil, nil)
			var s string
			for rr.NextRow() {
				s = string(rr.Values()[0])
			}
			_, err := rr.Close()
			return s, err
		}, false},
		{"pgconn-simple", func() (string, error) {
			rs, err := conn.PgConn().Exec(ctx, snapshotQuery).ReadAll()
			if err != nil {
				return "", err
			}
			return string(rs[0].Rows[0][0]), nil
		}, false},
		{"pgconn-ExecParams-unnamed", func() (string, error) {
			rr := conn.PgConn().ExecParams(ctx, snapshotQuery, nil, nil, nil, nil)
			var s string
			for rr.NextRow() {
				s = string(rr.Values()[0])
			}
			_, err := rr.Close()
			return s, err
		}, false},
	} {
		b.Run(v.name, func(b *testing.B) {
			pid := pid
			if v.lane {
				pid = lanePID
			}
			if _, err := v.read(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0, ok := schedCPU(pid)
			b.ResetTimer()
			for range b.N {
				if _, err := v.read(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if cpu1, ok1 := schedCPU(pid); ok && ok1 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "backend-ns/op")
			}
		})
	}
}

// schedCPU is the CPU time a process of this machine has run, in ns.
func schedCPU(pid uint32) (int64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(pid), 10) + "/schedstat")
	if err != nil {
		return 0, false
	}
	f, _, _ := strings.Cut(string(b), " ")
	n, err := strconv.ParseInt(f, 10, 64)
	return n, err == nil
}
