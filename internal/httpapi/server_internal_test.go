package httpapi

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestRequestIDs: ids made by requests at once are distinct, 24 hex
// digits after the process's prefix, and each is its header's value; a
// sane id the client sent is echoed, any other replaced.
func TestRequestIDs(t *testing.T) {
	const workers, each = 8, 3*idBlockLen + 5
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := httptest.NewRequest("GET", "/", nil)
			for range each {
				id, hdr := requestID(r)
				if len(hdr) != 1 || hdr[0] != id || cap(hdr) != 1 {
					t.Errorf("header %q (cap %d) for id %q", hdr, cap(hdr), id)
				}
				ids[w] = append(ids[w], id)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ws := range ids {
		for _, id := range ws {
			if len(id) != idLen || !strings.HasPrefix(id, string(requestIDs.prefix[:])) || strings.Trim(id, "0123456789abcdef") != "" {
				t.Errorf("id %q", id)
			}
			if seen[id] {
				t.Errorf("id %q made twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != workers*each {
		t.Errorf("%d distinct ids, want %d", len(seen), workers*each)
	}

	for _, c := range []struct {
		sent []string
		echo bool
	}{
		{[]string{"abc-123"}, true},
		{[]string{"abc-123", "second"}, true},
		{[]string{strings.Repeat("x", 64)}, true},
		{[]string{strings.Repeat("x", 65)}, false},
		{[]string{"bad id"}, false},
		{[]string{"\xff"}, false},
		{[]string{""}, false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Request-Id"] = c.sent
		id, hdr := requestID(r)
		if len(hdr) != 1 || hdr[0] != id || cap(hdr) != 1 {
			t.Errorf("sent %q: header %q (cap %d) for id %q", c.sent, hdr, cap(hdr), id)
		}
		if echoed := id == c.sent[0]; echoed != c.echo {
			t.Errorf("sent %q: id %q", c.sent, id)
		}
		if !c.echo && len(id) != idLen {
			t.Errorf("sent %q: made id %q", c.sent, id)
		}
	}
}

// TestIDBlock: a block's ids are the counter's next numbers in order,
// carries included, after the prefix.
func TestIDBlock(t *testing.T) {
	defer requestIDs.n.Store(requestIDs.n.Load()) // the process's ids go on from where they were
	for _, start := range []uint64{0, 0xe, 0xffff0, 0x0123456789abcdef - 3, 1<<64 - 20} {
		requestIDs.n.Store(start)
		blk := newIDBlock()
		for i, id := range blk.values {
			want := string(requestIDs.prefix[:]) + fmt.Sprintf("%016x", start+1+uint64(i))
			if id != want {
				t.Fatalf("from %#x: id %d is %q, want %q", start, i, id, want)
			}
		}
		if got := requestIDs.n.Load(); got != start+idBlockLen {
			t.Errorf("from %#x: counter at %#x", start, got)
		}
	}
}

// TestContentLength: the value of every length is its decimal, each
// time, shared or not; appending to a shared value leaves it as it was.
func TestContentLength(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 99, 100, 1083, len(contentLengths) - 1, len(contentLengths), 1 << 20, 1<<31 - 1} {
		for range 2 { // made, then shared
			v := contentLength(n)
			if len(v) != 1 || v[0] != strconv.Itoa(n) || cap(v) != 1 {
				t.Fatalf("contentLength(%d) = %q (cap %d)", n, v, cap(v))
			}
			_ = append(v, "x")
		}
	}
	if v := contentLength(5); len(v) != 1 || v[0] != "5" {
		t.Errorf("contentLength(5) after an append: %q", v)
	}
}
