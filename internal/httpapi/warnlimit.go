package httpapi

import (
	"sync"
	"time"
)

// unavailableWarnEvery is how often, at most, a store outage is logged as
// a warning. Under load an outage fails every request: one warning per
// request would bury everything else in the log, and each request keeps
// its own request line (status 503) anyway.
const unavailableWarnEvery = 10 * time.Second

// warnLimiter lets one warning through per interval and counts those it
// holds back, so that the next one can say how many there were.
type warnLimiter struct {
	every time.Duration

	mu         sync.Mutex
	next       time.Time
	suppressed int
}

// allow tells whether a warning at now is logged, and if so how many were
// held back since the last one logged.
func (l *warnLimiter) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.next) {
		l.suppressed++
		return false, 0
	}
	l.next = now.Add(l.every)
	suppressed, l.suppressed = l.suppressed, 0
	return true, suppressed
}
