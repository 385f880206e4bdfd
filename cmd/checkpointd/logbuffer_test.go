package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// lockedBuffer is a bytes.Buffer written by the log buffer's goroutine
// and read by the test.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogBuffer: request lines wait for the next flush, in one write;
// any other line is written at once, after the request lines before it;
// Close writes the rest.
func TestLogBuffer(t *testing.T) {
	var out lockedBuffer
	buf := newLogBuffer(&out)
	log := slog.New(flushingHandler{slog.NewTextHandler(buf, nil), buf})
	for i := range 3 {
		log.Info(httpapi.RequestLogMessage, "n", i)
	}
	if s := out.String(); s != "" {
		// The ticker may have fired already on a slow machine: then the
		// lines are all there, in order.
		if strings.Count(s, "msg=request") != 3 {
			t.Fatalf("request lines written one by one: %q", s)
		}
	}
	log.Warn("slow store", "n", 3)
	s := out.String()
	if strings.Count(s, "\n") != 4 || !strings.Contains(s, "n=0") || strings.Index(s, "n=2") > strings.Index(s, "slow store") {
		t.Fatalf("after a warning: %q; want the three request lines, then it", s)
	}
	log.Info(httpapi.RequestLogMessage, "n", 4)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "n=4") {
		if time.Now().After(deadline) {
			t.Fatal("a request line was not written within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	log.Info(httpapi.RequestLogMessage, "n", 5)
	log.With("component", "engine").Debug("checkpoint taken") // below the level: nothing
	if err := buf.Close(); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.HasSuffix(s, "n=5\n") || strings.Contains(s, "checkpoint taken") {
		t.Fatalf("after Close: %q", s)
	}
	out.mu.Lock()
	writes := out.writes
	out.mu.Unlock()
	if writes > 4 {
		t.Errorf("%d writes for 6 lines", writes)
	}
}
