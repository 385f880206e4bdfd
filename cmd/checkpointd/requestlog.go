package main

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// serve logs a line for every request (httpapi.RequestLogMessage). In
// the text format, slog's handler spends most of its time on what does
// not change from one line to the next: the handler's state, the time
// formatted in full, each key checked for quoting. requestLineHandler
// writes that line itself, byte for byte as slog's text handler would
// (TestRequestLineText compares them), into the log buffer
// (logbuffer.go), from a pooled buffer and with the time's date and
// second formatted once a second: no allocation, no lock but the
// buffer's. Every other record, a request line with attributes it does
// not know (a value needing more than a string, an integer or a
// duration), and a handler with attributes or groups added, go to slog's
// handler as before. The JSON format is slog's throughout.

// requestLineHandler is serve's handler in the text format.
type requestLineHandler struct {
	slog.Handler // slog's text handler, flushing (flushingHandler)
	w            *logBuffer
}

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h requestLineHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != httpapi.RequestLogMessage || r.Level != slog.LevelInfo {
		return h.Handler.Handle(ctx, r)
	}
	bp := lineBufs.Get().(*[]byte)
	defer lineBufs.Put(bp)
	b, ok := appendRequestLine((*bp)[:0], &r)
	*bp = b[:0]
	if !ok {
		return h.Handler.Handle(ctx, r)
	}
	_, err := h.w.Write(b)
	return err
}

// HandleRequestLine writes l as Handle writes l.Record(), without the
// record (httpapi.RequestLineHandler).
func (h requestLineHandler) HandleRequestLine(ctx context.Context, l *httpapi.RequestLine) error {
	bp := lineBufs.Get().(*[]byte)
	defer lineBufs.Put(bp)
	b, ok := appendRequestLineValues((*bp)[:0], l)
	*bp = b[:0]
	if !ok {
		return h.Handler.Handle(ctx, l.Record())
	}
	_, err := h.w.Write(b)
	return err
}

// WithAttrs and WithGroup return slog's handler: lines of a derived
// logger are slog's to write.
func (h requestLineHandler) WithAttrs(as []slog.Attr) slog.Handler { return h.Handler.WithAttrs(as) }
func (h requestLineHandler) WithGroup(name string) slog.Handler    { return h.Handler.WithGroup(name) }

// appendRequestLine appends the text handler's line for r (level INFO,
// message httpapi.RequestLogMessage), or reports false for an attribute
// it does not write as that handler does.
func appendRequestLine(b []byte, r *slog.Record) ([]byte, bool) {
	if !r.Time.IsZero() {
		var ok bool
		b = append(b, "time="...)
		if b, ok = appendTimeMillis(b, r.Time); !ok {
			return b, false
		}
		b = append(b, ' ')
	}
	b = append(b, "level=INFO msg="...)
	b = appendTextString(b, r.Message)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "" {
			ok = false // slog leaves such an attribute out, or not (an empty group)
			return false
		}
		b = append(b, ' ')
		b = appendTextString(b, a.Key)
		b = append(b, '=')
		switch v := a.Value; v.Kind() {
		case slog.KindString:
			b = appendTextString(b, v.String())
		case slog.KindInt64:
			b = strconv.AppendInt(b, v.Int64(), 10)
		case slog.KindDuration:
			b = append(b, v.Duration().String()...) // inlined: the string stays on the stack
		default:
			ok = false
		}
		return ok
	})
	return append(b, '\n'), ok
}

// appendRequestLineValues appends the line appendRequestLine appends for
// l.Record(), or reports false where it would.
func appendRequestLineValues(b []byte, l *httpapi.RequestLine) ([]byte, bool) {
	if !l.Time.IsZero() {
		var ok bool
		b = append(b, "time="...)
		if b, ok = appendTimeMillis(b, l.Time); !ok {
			return b, false
		}
		b = append(b, ' ')
	}
	b = append(b, "level=INFO msg="+httpapi.RequestLogMessage+" request_id="...)
	b = appendTextString(b, l.ID)
	b = append(b, " api="...)
	b = appendTextString(b, l.API)
	b = append(b, " op="...)
	b = appendTextString(b, l.Op)
	b = append(b, " method="...)
	b = appendTextString(b, l.Method)
	b = append(b, " path="...)
	b = appendTextString(b, l.Path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(l.Status), 10)
	b = append(b, " duration="...)
	b = append(b, l.Duration.String()...) // inlined: the string stays on the stack
	return append(b, '\n'), true
}

// appendTextString appends s as slog's text handler does: as it is, or
// quoted when it is empty or holds a space, '=', '"', a control
// character, or a rune that is not printable or not valid UTF-8.
func appendTextString(b []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// needsQuoting is log/slog's (text_handler.go): ASCII is quoted for a
// space, '=', and what a JSON string escapes but a backslash.
//
// The strings of a request line are ASCII that needs no quoting, nearly
// always: eight bytes are checked at once while they are (a path byte by
// byte was a tenth of a cached get-one's time in the handler), then the
// rest byte by byte, as slog does.
func needsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if x&highBits != 0 {
			break // not ASCII: byte by byte
		}
		// With every byte below 0x80, these find exactly whether a byte is
		// below 0x21 (a control character or a space), '=' or '"'.
		if (x-0x21*lowBits)&^x&highBits != 0 || hasZeroByte(x^('='*lowBits)) || hasZeroByte(x^('"'*lowBits)) {
			return true
		}
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if quotedASCII[c] {
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

// lowBits and highBits are the lowest and the highest bit of each byte of
// a uint64.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// hasZeroByte reports whether a byte of x is zero.
func hasZeroByte(x uint64) bool { return (x-lowBits)&^x&highBits != 0 }

// quotedASCII says which ASCII characters needsQuoting quotes for.
var quotedASCII = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = c == ' ' || c == '=' || c == '"' || c < 0x20
	}
	return t
}()

// secondText is a second's time as the text handler writes it, in two
// parts: up to the seconds ("2006-01-02T15:04:05"), and the zone ("Z" or
// "-07:00"); the milliseconds go between.
type secondText struct {
	unix       int64
	loc        *time.Location
	date, zone string
}

var lastSecond atomic.Pointer[secondText]

// appendTimeMillis appends t as slog's text handler does (RFC 3339 with
// milliseconds, in t's location), formatting the date and time of day
// once a second; false for a year RFC 3339 cannot write.
func appendTimeMillis(b []byte, t time.Time) ([]byte, bool) {
	sec := t.Unix()
	st := lastSecond.Load()
	if st == nil || st.unix != sec || st.loc != t.Location() {
		if y := t.Year(); y < 0 || y >= 10000 {
			return b, false
		}
		full := t.Truncate(time.Second).Format("2006-01-02T15:04:05Z07:00")
		st = &secondText{unix: sec, loc: t.Location(), date: full[:19], zone: full[19:]}
		lastSecond.Store(st)
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, st.date...)
	b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, st.zone...), true
}
