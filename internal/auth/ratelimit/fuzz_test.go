package ratelimit

import (
	"testing"
	"time"
)

// bucket is GCRA written the other way round, as a leaky bucket: each
// request pours T into a bucket of size N·T that drains one nanosecond
// per nanosecond. It should give the Limiter's answers exactly while the
// clock only moves forward and nothing is evicted.
type bucket struct {
	level, last int64
}

func (b *bucket) allow(now, t, size int64) (bool, time.Duration) {
	b.level = max(0, b.level-(now-b.last))
	b.last = now
	if over := b.level + t - size; over > 0 {
		return false, time.Duration(over)
	}
	b.level += t
	return true, 0
}

// FuzzAllow drives two limiters with the same requests from a clock that
// moves by fuzzed steps, backwards too. Each pair of input bytes is a
// key (one of 8) and a step of -128..127 sixteenths of T. The large
// limiter is checked against bucket until the clock first steps back;
// the small one, which has room for 2 keys and so evicts all the time,
// against what must hold regardless: the bound, and a retryAfter that is
// in (0, T] and exact.
func FuzzAllow(f *testing.F) {
	f.Add(uint8(3), uint16(60_000), []byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 16, 0, 16})
	f.Add(uint8(1), uint16(7), []byte{0, 1, 1, 0x80, 2, 3, 0, 0x7f, 0, 0xff})
	f.Add(uint8(9), uint16(1000), []byte{5, 1, 5, 2, 5, 3, 6, 0xf0, 5, 0x10, 7, 0})
	f.Fuzz(func(t *testing.T, nb uint8, windowMS uint16, ops []byte) {
		n := 1 + int(nb%10)
		window := time.Duration(1+int(windowMS)) * time.Millisecond
		T := interval(n, window)
		c := new(fakeClock)
		big, err := New(Config{Requests: n, Window: window, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		small, err := New(Config{Requests: n, Window: window, MaxKeys: 2, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		keys := [8]string{"a", "b", "c", "d", "e", "f", "g", "h"}
		var ref [len(keys)]bucket
		monotonic := true

		// step advances the clock by d and requests k of both limiters,
		// and returns the small one's answer.
		step := func(k int, d time.Duration) (bool, time.Duration) {
			t.Helper()
			c.Advance(d)
			monotonic = monotonic && d >= 0
			now := int64(c.Since0())
			ok, retry := big.Allow(keys[k])
			if monotonic {
				wantOK, wantRetry := ref[k].allow(now, int64(T), int64(T)*int64(n))
				if ok != wantOK || retry != wantRetry {
					t.Fatalf("at %v, key %s: Allow = %v, %v; the bucket says %v, %v", c.Since0(), keys[k], ok, retry, wantOK, wantRetry)
				}
			}
			if got := small.Len(); got > 2 {
				t.Fatalf("small limiter holds %d keys", got)
			}
			ok, retry = small.Allow(keys[k])
			if ok != (retry == 0) || retry < 0 || retry > T {
				t.Fatalf("at %v, key %s: Allow = %v, %v; want 0 when allowed, in (0, %v] otherwise", c.Since0(), keys[k], ok, retry, T)
			}
			return ok, retry
		}

		for i := 0; i+1 < len(ops); i += 2 {
			k := int(ops[i]) % len(keys)
			ok, retry := step(k, time.Duration(int8(ops[i+1]))*T/16)
			if ok {
				continue
			}
			// Refused: a nanosecond before retryAfter the key is still
			// refused, told to wait that nanosecond, and at retryAfter it
			// is allowed. No other key comes in between, so eviction
			// cannot interfere.
			if retry > 1 {
				if ok, r := step(k, retry-1); ok || r != 1 {
					t.Fatalf("key %s, 1ns before retryAfter %v: Allow = %v, %v; want false, 1ns", keys[k], retry, ok, r)
				}
				retry = 1
			}
			if ok, _ := step(k, retry); !ok {
				t.Fatalf("key %s refused at retryAfter", keys[k])
			}
		}
	})
}
