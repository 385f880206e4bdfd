package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"
)

// The handler benchmarks (BenchmarkRequestPath) call ServeHTTP with a
// ResponseWriter that keeps nothing: they leave out what net/http does
// around the handler, which the handler's choices still change (the
// header map it clones, the writes it buffers). serveOverConn measures a
// handler as net/http serves it: an http.Server on one in-memory
// connection carrying the same request over and over, keep-alive, as a
// load generator's connection does, without the kernel.

// overConns is how many connections serveOverConn serves at once: enough
// to keep both cores of the machine busy, as the load test's 16 do, so
// that a request waiting for the scheduler costs no idle core.
const overConns = 8

// serveOverConn serves b.N copies of raw (one whole request) to h through
// an http.Server, spread over overConns connections, and reports the
// response's bytes.
func serveOverConn(b *testing.B, h http.Handler, raw []byte) {
	b.Helper()
	// One request first, to learn the response's length: every response
	// of the benchmark is the same, its Date header included in length.
	n := runOverConns(b, h, raw, 1, 0)
	b.SetBytes(n)
	b.ReportAllocs()
	b.ResetTimer()
	runOverConns(b, h, raw, b.N, n)
}

// runOverConns serves count requests and returns the bytes written; with
// respLen known, it waits for count responses of that length, else for
// the writes to stop.
func runOverConns(b *testing.B, h http.Handler, raw []byte, count int, respLen int64) int64 {
	k := min(overConns, count)
	conns := make([]*memConn, k)
	for i := range conns {
		c := count / k
		if i < count%k {
			c++
		}
		conns[i] = newMemConn(bytes.Repeat(raw, c))
		if respLen > 0 {
			conns[i].want = int64(c) * respLen
		}
	}
	srv := &http.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(&connsListener{conns: conns, closed: make(chan struct{})}) }()
	for _, c := range conns {
		if respLen > 0 {
			<-c.full
		} else {
			c.waitQuiet()
		}
	}
	b.StopTimer()
	_ = srv.Close()
	<-done
	b.StartTimer()
	var n int64
	for _, c := range conns {
		n += c.written()
	}
	return n
}

// memConn is a net.Conn whose reads are the stream given and then block
// until Close (or a read deadline in the past, as net/http sets to stop
// its background read), and whose writes are counted and dropped.
type memConn struct {
	mu       sync.Mutex
	in       []byte
	wake     chan struct{} // closed when a deadline or Close ends a blocked read
	deadline time.Time
	closed   bool
	out      int64
	want     int64
	full     chan struct{} // closed when out reaches want
	lastW    time.Time     // wall clock of the last write, for waitQuiet
}

func newMemConn(in []byte) *memConn {
	return &memConn{in: in, wake: make(chan struct{}), full: make(chan struct{})}
}

func (c *memConn) Read(p []byte) (int, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return 0, net.ErrClosed
		case !c.deadline.IsZero() && !time.Now().Before(c.deadline): // wall clock: the deadline net/http set
			c.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		case len(c.in) > 0:
			n := copy(p, c.in)
			c.in = c.in[n:]
			c.mu.Unlock()
			return n, nil
		}
		wake := c.wake
		c.mu.Unlock()
		<-wake
	}
}

func (c *memConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, net.ErrClosed
	}
	c.out += int64(len(p))
	c.lastW = time.Now() // wall clock: only to see the writes stop
	if c.want > 0 && c.out >= c.want {
		select {
		case <-c.full:
		default:
			close(c.full)
		}
	}
	return len(p), nil
}

func (c *memConn) written() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out
}

// waitQuiet waits until something was written and nothing more for a
// while.
func (c *memConn) waitQuiet() {
	for {
		time.Sleep(20 * time.Millisecond)
		c.mu.Lock()
		quiet := c.out > 0 && time.Since(c.lastW) > 50*time.Millisecond // elapsed since the last write
		c.mu.Unlock()
		if quiet {
			return
		}
	}
}

func (c *memConn) signal() {
	close(c.wake)
	c.wake = make(chan struct{})
}

func (c *memConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.signal()
	}
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	c.signal()
	return nil
}

func (c *memConn) SetDeadline(t time.Time) error    { return c.SetReadDeadline(t) }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
func (c *memConn) LocalAddr() net.Addr              { return memAddr("127.0.0.1:8080") }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr("127.0.0.1:1234") }
func (memAddr) Network() string                     { return "tcp" }
func (a memAddr) String() string                    { return string(a) }

type memAddr string

// connsListener hands out its connections, then waits for Close.
type connsListener struct {
	mu     sync.Mutex
	conns  []*memConn
	closed chan struct{}
	once   sync.Once
}

func (l *connsListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if len(l.conns) > 0 {
		c := l.conns[0]
		l.conns = l.conns[1:]
		l.mu.Unlock()
		return c, nil
	}
	l.mu.Unlock()
	<-l.closed
	return nil, net.ErrClosed
}

func (l *connsListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connsListener) Addr() net.Addr { return memAddr("127.0.0.1:8080") }
