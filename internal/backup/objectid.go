package backup

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

// ObjectID is a 12-byte BSON ObjectID: 4 bytes of creation time (seconds
// since the Unix epoch, big-endian), 5 bytes unique to the process, and a
// 3-byte counter. Every id the API exposes (project, cluster, checkpoint) is
// one, printed as 24 lowercase hex digits.
type ObjectID [12]byte

// NilObjectID is the zero ObjectID.
var NilObjectID ObjectID

// ParseObjectID parses 24 lowercase hexadecimal digits. Upper-case digits are
// rejected because the API's path patterns are `^([a-f0-9]{24})$`.
//
// Every request naming a project, cluster or checkpoint parses one or
// more: one pass over the digits through a table, rather than a check of
// each digit then encoding/hex's decode of them.
func ParseObjectID(s string) (ObjectID, bool) {
	var id ObjectID
	if len(s) != 2*len(id) {
		return id, false
	}
	bad := uint8(0)
	for i := range id {
		hi, lo := lowerHex[s[2*i]], lowerHex[s[2*i+1]]
		bad |= hi | lo
		id[i] = hi<<4 | lo&0xf
	}
	if bad&notHex != 0 {
		return ObjectID{}, false
	}
	return id, true
}

// lowerHex is the value of each lowercase hexadecimal digit, and notHex
// for every other byte.
var lowerHex = func() (t [256]uint8) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = uint8(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = uint8(c - 'a' + 10)
		default:
			t[c] = notHex
		}
	}
	return t
}()

const notHex = 0x10

// MustParseObjectID is ParseObjectID for literals in tests and seed data.
func MustParseObjectID(s string) ObjectID {
	id, ok := ParseObjectID(s)
	if !ok {
		panic("backup: invalid ObjectID " + s)
	}
	return id
}

// Hex returns the 24-digit lowercase hexadecimal form.
func (id ObjectID) Hex() string { return hex.EncodeToString(id[:]) }

// String returns the same as Hex.
func (id ObjectID) String() string { return id.Hex() }

// AppendHex appends the hexadecimal form to b without allocating.
func (id ObjectID) AppendHex(b []byte) []byte { return hex.AppendEncode(b, id[:]) }

// IsZero reports whether id is NilObjectID.
func (id ObjectID) IsZero() bool { return id == NilObjectID }

// Time returns the creation time embedded in the id.
func (id ObjectID) Time() time.Time {
	return time.Unix(int64(binary.BigEndian.Uint32(id[:4])), 0).UTC()
}

// IDSource makes ObjectIDs the way MongoDB drivers do. The zero value is not
// usable; call NewIDSource.
type IDSource struct {
	unique  [5]byte
	counter atomic.Uint32
}

// NewIDSource returns a source with a random process-unique part.
func NewIDSource() *IDSource {
	s := &IDSource{}
	var seed [8]byte
	_, _ = rand.Read(s.unique[:])
	_, _ = rand.Read(seed[:])
	s.counter.Store(binary.BigEndian.Uint32(seed[:4]))
	return s
}

// NewIDSourceFrom returns a deterministic source, for seeded data sets and
// tests: the same unique part and starting counter give the same ids for the
// same times.
func NewIDSourceFrom(unique [5]byte, counter uint32) *IDSource {
	s := &IDSource{unique: unique}
	s.counter.Store(counter)
	return s
}

// New returns an ObjectID whose embedded time is t.
func (s *IDSource) New(t time.Time) ObjectID {
	var id ObjectID
	binary.BigEndian.PutUint32(id[:4], uint32(t.Unix()))
	copy(id[4:9], s.unique[:])
	c := s.counter.Add(1)
	id[9], id[10], id[11] = byte(c>>16), byte(c>>8), byte(c)
	return id
}
