// Package codec is the compact binary form in which stores keep a
// checkpoint's parts: one BLOB column instead of a child table, so that
// listing a page of checkpoints stays a single range read.
//
// Layout (format version 1):
//
//	version   byte (= 1)
//	count     uvarint
//	count times:
//	  type          byte: 1 REPLICA_SET, 2 CONFIG_SERVER,
//	                3 CONFIG_SERVER_REPLICA_SET, 0 other (name follows)
//	  [type name    uvarint length + bytes, only when type is 0]
//	  shard name    uvarint length + bytes
//	  replica set   uvarint length + bytes
//	  host id       uvarint length + bytes
//	  discovered    byte 0 or 1
//	  token date    varint, Unix seconds (UTC, second precision)
//	  increment     uvarint, at most 2^32-1
//
// The leading version byte lets a later format be read alongside rows
// written by this one, without rewriting the table.
package codec

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Version is the format version AppendParts writes.
const Version = 1

// Errors DecodeParts wraps. Stored blobs are only ever written by
// AppendParts, so either means the database is damaged or was written by a
// newer checkpointd.
var (
	ErrCorrupt       = errors.New("codec: corrupt parts encoding")
	ErrUnknownFormat = errors.New("codec: unknown parts format version")
)

// Part type bytes. 0 carries the type's name so that a type added to the
// domain later still round-trips without a format change.
const (
	typeOther            = 0
	typeReplicaSet       = 1
	typeConfigServer     = 2
	typeConfigReplicaSet = 3
)

// minPartLen is the fewest bytes one part can take; it bounds the count a
// corrupt header may claim before anything is allocated for it.
const minPartLen = 7

// AppendParts appends the encoding of parts to dst and returns the extended
// buffer. Times lose their sub-second part and their location.
func AppendParts(dst []byte, parts []backup.Part) []byte {
	dst = append(dst, Version)
	dst = binary.AppendUvarint(dst, uint64(len(parts)))
	for i := range parts {
		p := &parts[i]
		t := typeByte(p.Type)
		dst = append(dst, t)
		if t == typeOther {
			dst = appendString(dst, string(p.Type))
		}
		dst = appendString(dst, p.ShardName)
		dst = appendString(dst, p.ReplicaSetName)
		dst = appendString(dst, p.HostID)
		if p.TokenDiscovered {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
		dst = binary.AppendVarint(dst, p.TokenTimestamp.Date.Unix())
		dst = binary.AppendUvarint(dst, uint64(p.TokenTimestamp.Increment))
	}
	return dst
}

// typeByte is a part type's byte in both formats: typeOther for a type
// they know no byte for, whose name then follows.
func typeByte(t backup.PartType) byte {
	switch t {
	case backup.PartReplicaSet:
		return typeReplicaSet
	case backup.PartConfigServer:
		return typeConfigServer
	case backup.PartConfigReplicaSet:
		return typeConfigReplicaSet
	}
	return typeOther
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// DecodeParts decodes what AppendParts wrote. It returns nil for zero
// parts, and an error wrapping ErrCorrupt or ErrUnknownFormat for anything
// else it cannot read; it never panics.
func DecodeParts(b []byte) ([]backup.Part, error) {
	return decode(nil, b, nil)
}

// maxInterned bounds a Decoder's cache: a sharded cluster has a handful of
// distinct names, and a bound keeps a hostile blob from growing it.
const (
	maxInterned   = 64
	maxInternSize = 256
)

// Decoder decodes parts and interns the names it reads, so that a page of
// checkpoints of one cluster, which repeat the same shard and replica set
// names on every row, allocates each name once. The zero value is ready to
// use. A Decoder is not safe for concurrent use; the strings it returns are
// ordinary immutable strings and stay valid after it is reused or dropped.
type Decoder struct {
	names []string
	// A block's dictionary and shapes as DecodeBlock reads them, kept for
	// the next block: each shape is the range [0]:[1] of shapeParts.
	blockNames  []string
	shapeParts  []backup.Part
	blockShapes [][2]int
}

// Decode is DecodeParts with interning.
func (d *Decoder) Decode(b []byte) ([]backup.Part, error) {
	return decode(nil, b, d)
}

// DecodeAppend appends the decoded parts to dst, so that a caller decoding
// many rows can carve every row's parts out of one backing array. On error
// dst is returned unchanged.
func (d *Decoder) DecodeAppend(dst []backup.Part, b []byte) ([]backup.Part, error) {
	return decode(dst, b, d)
}

// Reset forgets the interned names, for a caller that keeps a Decoder
// across unrelated data.
func (d *Decoder) Reset() {
	clear(d.names)
	d.names = d.names[:0]
}

func (d *Decoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if d == nil {
		return string(b)
	}
	for _, s := range d.names {
		if s == string(b) { // compiles to a comparison, no allocation
			return s
		}
	}
	s := string(b)
	if len(d.names) < maxInterned && len(b) <= maxInternSize {
		d.names = append(d.names, s)
	}
	return s
}

func decode(dst []backup.Part, b []byte, d *Decoder) ([]backup.Part, error) {
	if len(b) == 0 {
		return dst, ErrCorrupt
	}
	if b[0] != Version {
		return dst, ErrUnknownFormat
	}
	r := reader{b: b, off: 1}
	n, ok := r.uvarint()
	if !ok || n > uint64(len(b)-r.off)/minPartLen {
		return dst, ErrCorrupt
	}
	if n == 0 {
		if r.off != len(b) {
			return dst, ErrCorrupt
		}
		return dst, nil
	}
	orig, start := dst, len(dst)
	dst = growParts(dst, int(n))
	for i := range int(n) {
		p := &dst[start+i]
		t, ok := r.byte()
		if !ok {
			return orig, ErrCorrupt
		}
		switch t {
		case typeReplicaSet:
			p.Type = backup.PartReplicaSet
		case typeConfigServer:
			p.Type = backup.PartConfigServer
		case typeConfigReplicaSet:
			p.Type = backup.PartConfigReplicaSet
		case typeOther:
			s, ok := r.bytes()
			if !ok {
				return orig, ErrCorrupt
			}
			p.Type = backup.PartType(d.intern(s))
		default:
			return orig, ErrCorrupt
		}
		shard, ok1 := r.bytes()
		rs, ok2 := r.bytes()
		host, ok3 := r.bytes()
		flag, ok4 := r.byte()
		sec, ok5 := r.varint()
		inc, ok6 := r.uvarint()
		if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || flag > 1 || inc > math.MaxUint32 {
			return orig, ErrCorrupt
		}
		p.ShardName = d.intern(shard)
		p.ReplicaSetName = d.intern(rs)
		p.HostID = d.intern(host)
		p.TokenDiscovered = flag == 1
		p.TokenTimestamp = backup.BSONTimestamp{Date: time.Unix(sec, 0).UTC(), Increment: uint32(inc)}
	}
	if r.off != len(b) {
		return orig, ErrCorrupt
	}
	return dst, nil
}

// growParts extends dst by n zeroed parts, allocating at most once.
func growParts(dst []backup.Part, n int) []backup.Part {
	if cap(dst)-len(dst) < n {
		grown := make([]backup.Part, len(dst), len(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:len(dst)+n]
	clear(dst[len(dst)-n:])
	return dst
}

// reader reads the primitives of the format; every method reports false
// instead of reading past the end.
type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() (byte, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	c := r.b[r.off]
	r.off++
	return c, true
}

func (r *reader) uvarint() (uint64, bool) {
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		return 0, false
	}
	r.off += n
	return v, true
}

func (r *reader) varint() (int64, bool) {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		return 0, false
	}
	r.off += n
	return v, true
}

func (r *reader) bytes() ([]byte, bool) {
	n, ok := r.uvarint()
	if !ok || n > uint64(len(r.b)-r.off) {
		return nil, false
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, true
}
