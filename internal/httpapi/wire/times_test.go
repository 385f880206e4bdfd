package wire_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// TestDatesMatchAppendTime: Dates writes what AppendTime writes, over runs
// of times on the same day (its cache), across days, in zones other than
// UTC, with fractions of a second, before 1970, the zero time and years
// outside RFC 3339.
func TestDatesMatchAppendTime(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("east", 5*3600+1800), time.FixedZone("west", -11*3600)}
	var d wire.Dates
	check := func(tm time.Time) {
		t.Helper()
		got, want := string(d.Append([]byte("x"), tm)), string(wire.AppendTime([]byte("x"), tm))
		if got != want {
			t.Fatalf("Dates.Append(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, tm := range []time.Time{{}, time.Unix(0, 0), time.Unix(-1, 0), time.Unix(-1, 999999999), time.Unix(86399, 1),
		time.Unix(86400, 0), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), {}} {
		check(tm)
		check(tm.In(zones[1]))
	}
	for range 200000 {
		var tm time.Time
		switch rng.IntN(4) {
		case 0: // anywhere from year 1 to 9999
			tm = time.Unix(rng.Int64N(253402300800+62135596800)-62135596800, rng.Int64N(1e9))
		case 1: // around 1970
			tm = time.Unix(rng.Int64N(4*86400)-2*86400, rng.Int64N(1e9))
		default: // a few days of one recent week
			tm = time.Unix(1796601600+rng.Int64N(7*86400), rng.Int64N(2)*rng.Int64N(1e9))
		}
		check(tm.In(zones[rng.IntN(len(zones))]))
	}
}
