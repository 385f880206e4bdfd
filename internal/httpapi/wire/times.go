package wire

import (
	"encoding/binary"
	"strconv"
	"time"
)

// Dates appends times as AppendTime does, faster when many fall on few
// days, as the times of a page of checkpoints do: it keeps the digits of
// the last date it wrote and formats only the time of day. The zero value
// is ready to use; a Dates is not safe for concurrent use.
type Dates struct {
	start int64    // the Unix time of date's midnight, when ok
	date  [12]byte // `"YYYY-MM-DDT`
	ok    bool
}

// twoDigits holds 00 to 99, two bytes each.
const twoDigits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

const secondsPerDay = 24 * 60 * 60

// Append appends t as AppendTime does.
func (d *Dates) Append(b []byte, t time.Time) []byte {
	// Whole seconds, rounded down as Time.Clock does (times before 1970
	// included), and the second of the day.
	s := t.Unix()
	sec := uint64(s - d.start)
	if !d.ok || sec >= secondsPerDay {
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return AppendTime(b, t) // not kept: rare, and AppendTime's own format
		}
		var full [22]byte
		AppendTime(full[:0], t)
		copy(d.date[:], full[:12])
		d.start, d.ok = s-(s%secondsPerDay+secondsPerDay)%secondsPerDay, true
		sec = uint64(s - d.start)
	}
	mins := uint32(sec) / 60
	h, m, s2 := 2*(mins/60), 2*(mins%60), 2*(uint32(sec)-60*mins)
	return append(b, d.date[0], d.date[1], d.date[2], d.date[3], d.date[4], d.date[5],
		d.date[6], d.date[7], d.date[8], d.date[9], d.date[10], d.date[11],
		twoDigits[h], twoDigits[h+1], ':', twoDigits[m], twoDigits[m+1], ':',
		twoDigits[s2], twoDigits[s2+1], 'Z', '"')
}

// AppendUint32 appends v in decimal: as strconv does, sooner for the small
// values most are (a token's increment).
func AppendUint32(b []byte, v uint32) []byte {
	switch {
	case v < 10:
		return append(b, byte('0'+v))
	case v < 100:
		return append(b, twoDigits[2*v], twoDigits[2*v+1])
	}
	return strconv.AppendUint(b, uint64(v), 10)
}

// AppendHex12 appends the 24 lowercase hexadecimal digits of 12 bytes (an
// ObjectID), as encoding/hex does, four bytes at a time.
func AppendHex12(b []byte, v *[12]byte) []byte {
	var h [24]byte
	binary.BigEndian.PutUint64(h[0:], hex8(binary.BigEndian.Uint32(v[0:])))
	binary.BigEndian.PutUint64(h[8:], hex8(binary.BigEndian.Uint32(v[4:])))
	binary.BigEndian.PutUint64(h[16:], hex8(binary.BigEndian.Uint32(v[8:])))
	return append(b, h[:]...)
}

// hex8 returns the eight hexadecimal digits of v, the first in the most
// significant byte.
func hex8(v uint32) uint64 {
	// Spread the nibbles one a byte, in order: the 16-bit halves to the
	// 32-bit halves, their bytes to 16-bit quarters, their nibbles to
	// bytes.
	x := uint64(v)
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	x = (x | x<<4) & 0x0f0f0f0f0f0f0f0f
	// A byte from 10 up carries into its bit 4 when 6 is added: those
	// get 'a'-10 rather than '0' added. No byte carries into the next.
	letters := ((x + 0x0606060606060606) >> 4) & 0x0101010101010101
	return x + 0x3030303030303030 + letters*('a'-'0'-10)
}
