package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// requestRecord is a request line as httpapi writes it.
func requestRecord(t time.Time, id, api, op, method, path string, status int, d time.Duration) slog.Record {
	r := slog.NewRecord(t, slog.LevelInfo, httpapi.RequestLogMessage, 0)
	r.AddAttrs(slog.String("request_id", id), slog.String("api", api), slog.String("op", op), slog.String("method", method),
		slog.String("path", path), slog.Int("status", status), slog.Duration("duration", d))
	return r
}

// TestRequestLineText: the request line serve writes itself is, byte for
// byte, slog's text handler's, whatever the time, its zone and the
// values (quoting included); other records, and request lines with
// values it does not write, are slog's.
func TestRequestLineText(t *testing.T) {
	east := time.FixedZone("east", 5*3600+30*60)
	west := time.FixedZone("west", -7*3600)
	base := time.Date(2026, 12, 7, 21, 37, 9, 123456789, time.UTC)
	times := []time.Time{base, base.Add(time.Millisecond), base.Add(877 * time.Millisecond), base.Add(time.Second),
		base.In(east), base.In(west), base.Add(time.Hour).In(east), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 999999999, time.UTC), time.Now(), time.Now().In(east), {}}
	paths := []string{"/api/atlas/v2/groups/5e2211c17a3e5a48f5497de3/clusters/Cluster0/backupCheckpoints",
		"", "/a b", "/a=b", `/a"b`, `/a\b`, "/a\tb", "/a\x00b", "/a\x7fb", "/é", "/a\u00a0b", "/a\u2028b", "/\xff", "/日本", "/a%20b"}
	durs := []time.Duration{0, 1, 999, time.Microsecond, 1500 * time.Nanosecond, time.Millisecond, 1234567, time.Second,
		61 * time.Second, 3*time.Hour + 4*time.Minute + 5*time.Second + 6, -time.Millisecond}
	n := 0
	for i, tm := range times {
		for j, path := range paths {
			for k, d := range durs {
				if (i+j+k)%3 != 0 && j != 0 { // a sample of the combinations
					continue
				}
				op := []string{"getLegacyBackupCheckpoint", "", "a b"}[n%3]
				r := requestRecord(tm, "7fb955ed0000000000000003", "atlas-v2", op, "GET", path, []int{200, 404, -1}[n%3], d)
				var want bytes.Buffer
				if err := slog.NewTextHandler(&want, nil).Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				got, ok := appendRequestLine(nil, &r)
				if !ok || string(got) != want.String() {
					t.Fatalf("record at %v, path %q, duration %v:\n got %q (%v)\nwant %q", tm, path, d, got, ok, want.String())
				}
				l := httpapi.RequestLine{Time: tm, ID: "7fb955ed0000000000000003", API: "atlas-v2", Op: op, Method: "GET", Path: path,
					Status: []int{200, 404, -1}[n%3], Duration: d}
				if got, ok := appendRequestLineValues(nil, &l); !ok || string(got) != want.String() {
					t.Fatalf("line at %v, path %q, duration %v:\n got %q (%v)\nwant %q", tm, path, d, got, ok, want.String())
				}
				var viaRecord bytes.Buffer
				if err := slog.NewTextHandler(&viaRecord, nil).Handle(context.Background(), l.Record()); err != nil || viaRecord.String() != want.String() {
					t.Fatalf("RequestLine.Record at %v: %q, want %q (%v)", tm, viaRecord.String(), want.String(), err)
				}
				n++
			}
		}
	}

	// Through the handler serve builds: the request line and another
	// record, in order; a request line with another kind of value, and a
	// derived logger's, written by slog.
	var out bytes.Buffer
	buf := newLogBuffer(&out)
	h := requestLineHandler{flushingHandler{slog.NewTextHandler(buf, nil), buf}, buf}
	ctx := context.Background()
	r1 := requestRecord(base, "id1", "atlas-v2", "op", "GET", "/p", 200, time.Millisecond)
	r2 := slog.NewRecord(base, slog.LevelInfo, "serving", 0)
	r2.AddAttrs(slog.Any("addr", []string{"x"}))
	r3 := requestRecord(base, "id3", "atlas-v2", "op", "GET", "/p", 200, time.Millisecond)
	r3.AddAttrs(slog.Any("extra", []int{1}))
	for _, r := range []slog.Record{r1, r2, r3} {
		if err := h.Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.WithAttrs([]slog.Attr{slog.String("component", "x")}).Handle(ctx, r1); err != nil {
		t.Fatal(err)
	}
	if err := buf.Close(); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	sh := slog.NewTextHandler(&want, nil)
	for _, r := range []slog.Record{r1, r2, r3} {
		_ = sh.Handle(ctx, r)
	}
	_ = sh.WithAttrs([]slog.Attr{slog.String("component", "x")}).Handle(ctx, r1)
	if out.String() != want.String() {
		t.Errorf("through the handler:\n got %s\nwant %s", out.String(), want.String())
	}
	if !strings.Contains(out.String(), "extra=[1]") || !strings.Contains(out.String(), "component=x") {
		t.Errorf("slog's lines missing:\n%s", out.String())
	}
}

// TestRequestLineAllocs: the request line costs no allocation of its own.
func TestRequestLineAllocs(t *testing.T) {
	buf := newLogBuffer(io.Discard)
	defer buf.Close()
	h := requestLineHandler{flushingHandler{slog.NewTextHandler(buf, nil), buf}, buf}
	r := requestRecord(time.Now(), "7fb955ed0000000000000003", "atlas-v2", "getLegacyBackupCheckpoint", "GET", "/api/atlas/v2/groups/g/clusters/c/backupCheckpoints/x", 200, 1234567)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		_ = h.Handle(ctx, r)
	}); n > 0 {
		t.Errorf("%v allocations per request line, want 0", n)
	}
	l := httpapi.RequestLine{Time: time.Now(), ID: "7fb955ed0000000000000003", API: "atlas-v2", Op: "getLegacyBackupCheckpoint", Method: "GET",
		Path: "/api/atlas/v2/groups/g/clusters/c/backupCheckpoints/x", Status: 200, Duration: 1234567}
	if n := testing.AllocsPerRun(1000, func() {
		_ = h.HandleRequestLine(ctx, &l)
	}); n > 0 {
		t.Errorf("%v allocations per request line from its values, want 0", n)
	}
}

// needsQuotingByByte is needsQuoting as slog writes it, one byte at a
// time: the reference for the word-at-a-time check.
func needsQuotingByByte(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == ' ' || c == '=' || c == '"' || c < 0x20 {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// TestNeedsQuoting: every byte value, and runes that need quoting or
// not, at every position of strings up to three words long, with plain
// ASCII on either side, as slog decides.
func TestNeedsQuoting(t *testing.T) {
	var specials []string
	for c := 0; c < 256; c++ {
		specials = append(specials, string([]byte{byte(c)}))
	}
	specials = append(specials, "é", "\u00a0", "\u2028", "日", "\U0001F600", "\xc3", "\xe6\x97")
	n := 0
	for _, sp := range specials {
		for before := 0; before <= 24; before++ {
			for after := 0; after <= 9; after++ {
				s := strings.Repeat("a", before) + sp + strings.Repeat("Z", after)
				if got, want := needsQuoting(s), needsQuotingByByte(s); got != want {
					t.Fatalf("needsQuoting(%q) = %v, want %v", s, got, want)
				}
				n++
			}
		}
	}
	for _, s := range []string{"", "a", "abcdefgh", "abcdefghi", "/api/atlas/v2/groups/5e2211c17a3e5a48f5497de3/clusters/Cluster0/backupCheckpoints",
		"~!#$%&'()*+,-./:;<>?@[\\]^_`{|}\x7f", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"} {
		if got, want := needsQuoting(s), needsQuotingByByte(s); got != want {
			t.Errorf("needsQuoting(%q) = %v, want %v", s, got, want)
		}
	}
	if n == 0 {
		t.Fatal("no strings checked")
	}
}

// BenchmarkNeedsQuoting: the strings of a get-one's request line.
func BenchmarkNeedsQuoting(b *testing.B) {
	strs := []string{"7fb955ed0000000000000003", "atlas-v2", "getLegacyBackupCheckpoint", "GET",
		"/api/atlas/v2/groups/5e2211c17a3e5a48f5497de3/clusters/Cluster0/backupCheckpoints/6b1705dc80eef53de500029a"}
	for _, c := range []struct {
		name string
		f    func(string) bool
	}{{"words", needsQuoting}, {"bytes", needsQuotingByByte}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				for _, s := range strs {
					if c.f(s) {
						b.Fatal(s)
					}
				}
			}
		})
	}
}
