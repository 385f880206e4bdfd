// Package ratelimit limits requests per key (an API key, a client address)
// to N requests every window, as the service's legacy limiter words it in
// its 429 body: "Resource %s is limited to %d requests every %d minutes."
// Limiter.Requests and Limiter.Window give the two numbers for that body.
//
// # Algorithm
//
// The limiter is GCRA, the generic cell rate algorithm, which behaves as a
// token bucket of N tokens refilled one every T = window/N, but keeps a
// single int64 per key instead of a count and a timestamp: the theoretical
// arrival time (TAT), the time at which the key's bucket would be full
// again. A request at time now is allowed when
//
//	max(TAT, now) + T - now <= N·T
//
// and then sets TAT to max(TAT, now) + T. So a fresh key (or one idle for a
// window) may make N requests at once, then one every T; the burst
// tolerance is N·T - T = window - T. A request over the limit leaves TAT
// unchanged, so hammering a limited key does not push its recovery further
// away, and the time it must wait is exactly max(TAT, now) + T - now - N·T,
// which Allow returns as retryAfter (never more than T).
//
// T is rounded down to a whole nanosecond and the capacity is N·T rather
// than the window itself, so that N requests at once are always allowed and
// the N+1st never is, whatever the rounding; the rate is then faster than
// N per window by less than N nanoseconds per window.
//
// # Several instances
//
// Instances of a deployment each count the requests they see; none
// writes anything to the others on a request. SetInstances gives each
// its share of the limit, 1/n of the rate and of the burst, n being the
// live instances (auth takes it from the store's instance registry), so
// that behind a load balancer spreading a caller's requests evenly the
// deployment allows the configured limit: TestSharedLimitHolds checks
// ±10 % per window for limits of at least ten requests per instance.
// A caller whose requests all go to one instance (a sticky balancer) gets
// that instance's share only.
//
// # Bounded memory
//
// Keys come from clients, so a client inventing keys must not make the
// limiter grow without bound: it remembers at most Config.MaxKeys keys,
// spread over shards (up to 64, each with its own lock and its own share
// of the bound, so that cores do not contend on one mutex). When a shard is
// full and a new key arrives, it first drops the keys whose TAT has passed:
// such a key is indistinguishable from one never seen, so forgetting it
// loses nothing. If none has passed, it evicts, of a handful of keys it
// looks at in turn, the one with the earliest TAT: the key nearest to being
// forgotten anyway. The full sweep is done at most once per so many new
// keys (an eighth of the shard) and the sample is of fixed size, so a new
// key costs amortised O(1).
//
// Evicting a key whose TAT has not passed forgets part of its history, and
// its next request is treated as a fresh key's: the limiter fails open for
// that key. Eviction can only let the evicted key through sooner, and no
// key's state depends on another's, so a flood of invented keys can weaken
// the limit on the keys it displaces but cannot make an innocent caller
// wait. Keys that are actively limited have the latest TATs and are the
// last to go.
//
// # Clocks
//
// Times are taken relative to the limiter's creation with time.Time.Sub, so
// with time.Now's monotonic reading a wall clock step changes nothing. An
// injected clock may still go backwards; a TAT more than N·T ahead of now
// cannot have come from a clock that only moves forward, so it is pulled
// back to now + N·T: a key so affected waits at most one T, as if it had
// just spent its burst, instead of until the clock catches up.
package ratelimit
