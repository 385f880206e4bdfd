package pgtest

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Proxy forwards TCP connections from a port of 127.0.0.1 to the test
// server, so that a test can play the database going away under a running
// store: Cut closes every connection and refuses new ones (a restart, a
// crash), Hang keeps connections open but forwards nothing (a partition,
// a hung server), Restore goes back to forwarding, on the same port.
type Proxy struct {
	target, addr string

	mu    sync.Mutex
	ln    net.Listener // nil while cut
	conns map[net.Conn]struct{}
	hung  chan struct{} // closed when not hung; forwarding waits on it
}

// NewProxy starts a proxy to the server that dsn (a DSN result) names
// and returns it with dsn rewritten to connect through it. The proxy
// stops when t ends.
func NewProxy(t testing.TB, dsn string) (*Proxy, string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{target: net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), conns: map[net.Conn]struct{}{}, hung: make(chan struct{})}
	close(p.hung)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	host, port, _ := net.SplitHostPort(p.addr)
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Host = p.addr
		return p, u.String()
	}
	// A keyword/value string: later keywords win.
	return p, fmt.Sprintf("%s host=%s port=%s", dsn, host, port)
}

// Addr is the proxy's address.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *Proxy) forward(c net.Conn) {
	if !p.track(c) {
		return
	}
	p.wait()
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil || !p.track(up) {
		c.Close()
		if up != nil {
			up.Close()
		}
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.wait()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	c.Close()
	up.Close()
	p.untrack(c)
	p.untrack(up)
}

// track keeps c to be closed by Cut; it closes c and reports false when
// the proxy is cut.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// wait blocks while the proxy is hung.
func (p *Proxy) wait() {
	p.mu.Lock()
	ch := p.hung
	p.mu.Unlock()
	<-ch
}

// Cut closes every connection through the proxy and its listener: a new
// connection is refused until Restore. A hung proxy is released.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.release()
}

// Hang stops forwarding: connections stay open, new ones are accepted,
// and no byte goes through either way until Restore or Cut.
func (p *Proxy) Hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.hung:
		p.hung = make(chan struct{})
	default:
	}
}

func (p *Proxy) release() {
	select {
	case <-p.hung:
	default:
		close(p.hung)
	}
}

// Restore forwards again: after Cut it listens again on the same
// address, after Hang it lets the held bytes through.
func (p *Proxy) Restore(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	p.release()
	cut := p.ln == nil
	p.mu.Unlock()
	if !cut {
		return
	}
	// The port was ours a moment ago; another process taking it in
	// between is unlikely, and a retry covers a slow release.
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
