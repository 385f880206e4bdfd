package wire_test

import (
	"encoding/hex"
	"math"
	"math/rand/v2"
	"strconv"
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

// TestAppendUint32AndHex12: the short paths write what strconv and
// encoding/hex write.
func TestAppendUint32AndHex12(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 100000 {
		v := uint32(i)
		if i >= 1000 {
			v = rng.Uint32() >> rng.UintN(32)
		}
		if got, want := string(wire.AppendUint32([]byte("x"), v)), "x"+strconv.FormatUint(uint64(v), 10); got != want {
			t.Fatalf("AppendUint32(%d) = %s, want %s", v, got, want)
		}
		var id [12]byte
		for j := range id {
			id[j] = byte(rng.UintN(256))
		}
		if got, want := string(wire.AppendHex12([]byte("x"), &id)), "x"+hex.EncodeToString(id[:]); got != want {
			t.Fatalf("AppendHex12(%x) = %s, want %s", id, got, want)
		}
	}
	if got := string(wire.AppendUint32(nil, math.MaxUint32)); got != "4294967295" {
		t.Fatalf("AppendUint32(max) = %s", got)
	}
}
