package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// serve logs a line for every request. Written straight to stderr, each
// one is a write(2) of its own, made while the request waits, and a slow
// reader of stderr (a pipe to a log collector) slows every request.
// So the per-request lines are buffered and written at most
// logFlushInterval later, or as soon as logBufferSize bytes wait; every
// other line (startup, errors, the engine's, a request's panic) is
// written at once, with whatever request lines came before it, so that
// what a crash can lose is at most the last moments of request lines,
// never an error or a checkpoint the engine reported taken.

const (
	logFlushInterval = 100 * time.Millisecond
	logBufferSize    = 64 << 10
)

// logBuffer is an io.Writer that keeps what it is given until Flush. It
// is safe for concurrent use; lines keep their order.
type logBuffer struct {
	w io.Writer

	mu    sync.Mutex // guards buf and spare
	buf   []byte
	spare []byte

	flushMu sync.Mutex // one write to w at a time, in order
	stop    chan struct{}
	stopped chan struct{}
}

// newLogBuffer returns a logBuffer that writes to w every
// logFlushInterval until Close.
func newLogBuffer(w io.Writer) *logBuffer {
	b := &logBuffer{w: w, stop: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(b.stopped)
		t := time.NewTicker(logFlushInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = b.Flush()
			case <-b.stop:
				return
			}
		}
	}()
	return b
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= logBufferSize
	b.mu.Unlock()
	if full {
		if err := b.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes everything buffered.
func (b *logBuffer) Flush() error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	out := b.buf
	b.buf, b.spare = b.spare[:0], nil
	b.mu.Unlock()
	if len(out) == 0 {
		b.mu.Lock()
		b.spare = out
		b.mu.Unlock()
		return nil
	}
	_, err := b.w.Write(out)
	b.mu.Lock()
	if cap(out) <= 4*logBufferSize { // not a rare burst's buffer forever
		b.spare = out[:0]
	}
	b.mu.Unlock()
	return err
}

// Close stops the periodic writes and writes what is left.
func (b *logBuffer) Close() error {
	close(b.stop)
	<-b.stopped
	return b.Flush()
}

// flushingHandler writes every record but the per-request lines at once:
// it flushes the buffer its handler writes into after each other record.
type flushingHandler struct {
	slog.Handler
	buf *logBuffer
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Message != httpapi.RequestLogMessage || r.Level != slog.LevelInfo {
		if ferr := h.buf.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(as), h.buf}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf}
}
