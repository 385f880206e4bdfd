package wire

import "time"

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
	h, m, s2 := 2*(sec/3600), 2*(sec/60%60), 2*(sec%60)
	return append(b, d.date[0], d.date[1], d.date[2], d.date[3], d.date[4], d.date[5],
		d.date[6], d.date[7], d.date[8], d.date[9], d.date[10], d.date[11],
		twoDigits[h], twoDigits[h+1], ':', twoDigits[m], twoDigits[m+1], ':',
		twoDigits[s2], twoDigits[s2+1], 'Z', '"')
}
