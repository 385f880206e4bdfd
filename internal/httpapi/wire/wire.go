// Package wire writes the JSON the MongoDB Cloud APIs send, byte for byte:
// compact output with keys in the order the representation appends them, and
// the Jackson-style pretty form those services produce for pretty=true.
//
// Representations append to a []byte instead of going through encoding/json:
// a page of 100 checkpoints is written without reflection and with no
// allocation beyond the buffer, which is what keeps list responses near the
// speed of serving precomputed bytes.
package wire

import (
	"strconv"
	"time"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. It escapes what JSON requires
// (quote, backslash, control characters) and replaces invalid UTF-8 with
// U+FFFD; like Jackson it leaves '/', '<', '>' and '&' alone.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = AppendEscaped(b, s)
	return append(b, '"')
}

// AppendEscaped appends the escaped body of a JSON string, without quotes.
func AppendEscaped(b []byte, s string) []byte {
	// Most strings (names, ids, URLs) need no escaping at all: find the
	// first byte that might, eight at a time, and copy what precedes it in
	// one append. This is half of a page's encoding otherwise.
	i := plainPrefix(s)
	if i == len(s) {
		return append(b, s...)
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// Constants of the word-at-a-time scan in plainPrefix.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainPrefix returns the length of s's longest prefix of bytes that
// AppendEscaped copies as they are: ASCII from 0x20, but '"' and '\\'.
func plainPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte's high bit is set in m when that byte is below 0x20, is
		// '"' or '\\' (a zero byte after the XOR), or is not ASCII. The
		// tests are exact as to whether any byte of w is one.
		m := (w - ones*0x20) &^ w
		q := w ^ (ones * '"')
		m |= (q - ones) &^ q
		e := w ^ (ones * '\\')
		m |= (e - ones) &^ e
		if (m|w)&highs != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			break
		}
	}
	return i
}

// AppendKey appends `"key":` for a key known to need no escaping.
func AppendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// AppendTime appends t as a JSON string in the services' format: UTC,
// RFC 3339 with whole seconds, e.g. "2018-02-08T23:20:25Z".
func AppendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 || y > 9999 {
		// Outside RFC 3339; let the standard library decide.
		b = append(b, '"')
		b = t.AppendFormat(b, "2006-01-02T15:04:05Z")
		return append(b, '"')
	}
	// Written by hand: time.Time.AppendFormat parses its layout on every
	// call, and a page of 100 checkpoints formats some 800 times.
	return append(b, '"',
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+int(mo)/10), byte('0'+int(mo)%10), '-',
		byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), 'Z', '"')
}

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte { return strconv.AppendBool(b, v) }

// AppendInt appends an integer.
func AppendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// AppendLink appends one {"href":…,"rel":…} object whose href is the
// concatenation of parts, so callers build URLs without allocating.
func AppendLink(b []byte, rel string, hrefParts ...string) []byte {
	b = append(b, `{"href":"`...)
	for _, p := range hrefParts {
		b = AppendEscaped(b, p)
	}
	b = append(b, `","rel":`...)
	b = AppendString(b, rel)
	return append(b, '}')
}
