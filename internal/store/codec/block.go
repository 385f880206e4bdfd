package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// A block holds the checkpoints of consecutive seqs of one cluster end to
// end, so that a page of them is one or a few rows of a store rather than
// one row each. It is pointer-free and compact (some 35 bytes a
// checkpoint of a three-shard cluster, so a block of 100 fits one 4 KiB
// page of SQLite's b-tree): ids as their 12 bytes, times as differences,
// and the parts' names and types once per block in a dictionary, each
// checkpoint naming its parts' "shape" (the list of their types and
// names, the same for nearly every checkpoint of a cluster) by index.
//
// Layout (block format version 1):
//
//	version   byte (= 1)
//	count     uvarint: records
//	names     uvarint count, then each: uvarint length + bytes
//	shapes    uvarint count, then each: uvarint part count, then per part:
//	            type      byte as in the parts format (0: other, a name
//	                      index follows as uvarint)
//	            shard, replica set, host id: uvarint name indexes
//	count times, a record:
//	  gap        uvarint: seqs skipped before it, from the block's first
//	             seq for the first record, from the previous record's
//	             seq + 1 for the others (0 but in a file with holes)
//	  id         12 bytes
//	  timestamp  varint: Unix seconds, less the previous record's (the
//	             first record's: less 0)
//	  started    varint: timestamp less started
//	  completed  uvarint: 0 when there is none, else zigzag(completed less
//	             timestamp) + 1
//	  restorable byte 0 or 1
//	  shape      uvarint index
//	  per part of the shape:
//	    token date  varint: Unix seconds less the timestamp
//	    token       uvarint: increment << 1 | discovered
//
// Times are whole seconds in UTC, as the parts format keeps them.

// BlockVersion is the block format version AppendBlock writes.
const BlockVersion = 1

// Bounds a damaged block's counts must keep, so that decoding it
// allocates nothing large before it finds the damage.
const (
	maxBlockParts  = 1 << 10
	maxBlockNames  = 1 << 12
	maxBlockShapes = 1 << 12
)

// BlockRecord is one checkpoint of a block, at its seq.
type BlockRecord struct {
	Seq int64
	CP  *backup.Checkpoint
}

// BlockEncoder builds blocks. Its zero value is ready to use; it keeps
// its dictionaries' memory for the next block. Not safe for concurrent
// use.
type BlockEncoder struct {
	names  map[string]int
	nameL  []string
	shapes map[string]int
	shapeL [][]byte
	key    []byte
	recs   []byte
}

// AppendBlock appends the block of recs to dst. Their seqs must be
// increasing, from base on: base is the block's first seq.
func (e *BlockEncoder) AppendBlock(dst []byte, base int64, recs []BlockRecord) ([]byte, error) {
	if e.names == nil {
		e.names, e.shapes = map[string]int{}, map[string]int{}
	}
	clear(e.names)
	clear(e.shapes)
	e.nameL, e.shapeL, e.recs = e.nameL[:0], e.shapeL[:0], e.recs[:0]
	next, prevTS := base, int64(0)
	for _, r := range recs {
		if r.Seq < next {
			return dst, fmt.Errorf("codec: block from seq %d: seq %d out of order", base, r.Seq)
		}
		cp := r.CP
		if len(cp.Parts) > maxBlockParts {
			return dst, fmt.Errorf("codec: checkpoint %s: %d parts", cp.ID.Hex(), len(cp.Parts))
		}
		e.recs = binary.AppendUvarint(e.recs, uint64(r.Seq-next))
		next = r.Seq + 1
		e.recs = append(e.recs, cp.ID[:]...)
		ts := cp.Timestamp.Unix()
		e.recs = binary.AppendVarint(e.recs, ts-prevTS)
		prevTS = ts
		e.recs = binary.AppendVarint(e.recs, ts-cp.Started.Unix())
		if cp.Completed.IsZero() {
			e.recs = append(e.recs, 0)
		} else {
			d := cp.Completed.Unix() - ts
			e.recs = binary.AppendUvarint(e.recs, uint64(d<<1^d>>63)+1)
		}
		if cp.Restorable {
			e.recs = append(e.recs, 1)
		} else {
			e.recs = append(e.recs, 0)
		}
		e.recs = binary.AppendUvarint(e.recs, uint64(e.shape(cp.Parts)))
		for j := range cp.Parts {
			p := &cp.Parts[j]
			e.recs = binary.AppendVarint(e.recs, p.TokenTimestamp.Date.Unix()-ts)
			tok := uint64(p.TokenTimestamp.Increment) << 1
			if p.TokenDiscovered {
				tok |= 1
			}
			e.recs = binary.AppendUvarint(e.recs, tok)
		}
	}
	if len(e.nameL) > maxBlockNames || len(e.shapeL) > maxBlockShapes {
		return dst, fmt.Errorf("codec: block from seq %d: %d names, %d shapes", base, len(e.nameL), len(e.shapeL))
	}
	dst = append(dst, BlockVersion)
	dst = binary.AppendUvarint(dst, uint64(len(recs)))
	dst = binary.AppendUvarint(dst, uint64(len(e.nameL)))
	for _, s := range e.nameL {
		dst = appendString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(e.shapeL)))
	for _, s := range e.shapeL {
		dst = append(dst, s...)
	}
	return append(dst, e.recs...), nil
}

// name returns the dictionary index of s.
func (e *BlockEncoder) name(s string) int {
	if i, ok := e.names[s]; ok {
		return i
	}
	i := len(e.nameL)
	e.names[s] = i
	e.nameL = append(e.nameL, s)
	return i
}

// shape returns the index of the shape of parts, adding it when new.
func (e *BlockEncoder) shape(parts []backup.Part) int {
	k := binary.AppendUvarint(e.key[:0], uint64(len(parts)))
	for i := range parts {
		p := &parts[i]
		t := typeByte(p.Type)
		k = append(k, t)
		if t == typeOther {
			k = binary.AppendUvarint(k, uint64(e.name(string(p.Type))))
		}
		k = binary.AppendUvarint(k, uint64(e.name(p.ShardName)))
		k = binary.AppendUvarint(k, uint64(e.name(p.ReplicaSetName)))
		k = binary.AppendUvarint(k, uint64(e.name(p.HostID)))
	}
	e.key = k
	if i, ok := e.shapes[string(k)]; ok {
		return i
	}
	i := len(e.shapeL)
	e.shapes[string(k)] = i
	e.shapeL = append(e.shapeL, append([]byte(nil), k...))
	return i
}

// DecodeBlock appends to dst the checkpoints of block b, whose first seq
// is base, that have seqs in [from, to), in seq order, with cluster and
// group as their ClusterID and GroupID, and carves their parts out of
// arena (a new one, sized for the rest of [from, to), when it is short).
// It returns an error wrapping ErrCorrupt or ErrUnknownFormat for a block
// it cannot read, with dst and arena as they were given; it never panics.
// Names are interned, as Decode's are.
func (d *Decoder) DecodeBlock(dst []backup.Checkpoint, arena []backup.Part, b []byte, base, from, to int64, cluster, group backup.ObjectID) ([]backup.Checkpoint, []backup.Part, error) {
	origDst, origArena := dst, arena
	// What the block can hold at most, so that a damaged one allocates
	// nothing large: a record takes 18 bytes at least, a part 2.
	maxRecs, maxParts := int64(len(b)/18), len(b)/2
	var scratch backup.Checkpoint
	_, err := d.WalkBlock(b, base, from, to, cluster, group, &scratch, func(cp *backup.Checkpoint) bool {
		c := *cp
		c.Parts = nil
		if n := len(cp.Parts); n > 0 {
			if cap(arena)-len(arena) < n {
				// A new arena for this record and, if they have as many
				// parts, the rest; the old one stays with the records it
				// holds. Growing it by copying would leave every earlier
				// record holding a copy of its own.
				rest := min(to-from-int64(len(dst)-len(origDst)), maxRecs) * int64(n)
				arena = make([]backup.Part, 0, max(n, int(min(rest, int64(maxParts)))))
			}
			start := len(arena)
			arena = append(arena, cp.Parts...)
			c.Parts = arena[start:len(arena):len(arena)]
		}
		dst = append(dst, c)
		return true
	})
	if err != nil {
		return origDst, origArena, err
	}
	return dst, arena, nil
}

// WalkBlock reads block b, whose first seq is base, and for each of its
// checkpoints with a seq in [from, to), in seq order, fills *cp with it
// (reusing cp.Parts' array; ClusterID and GroupID are cluster and group)
// and calls yield, which must neither keep nor change cp or its Parts
// (the names of the parts stay from one checkpoint to the next when they
// are the same). It stops when
// yield returns false. With yield nil it only reads the block, counting
// what it would fill. It returns how many checkpoints it filled (or
// counted), and an error wrapping ErrCorrupt or ErrUnknownFormat for a
// block it cannot read; it never panics. Names are interned, as Decode's
// are.
//
// The walk reads a record's successor's seq before it counts or yields
// the record, so damage anywhere it reads comes before the last
// checkpoint it would yield: a walk that yields as many checkpoints as
// [from, to) has seqs met no damage, and a caller can count a walk's
// checkpoints as it uses them rather than walk the block once first.
func (d *Decoder) WalkBlock(b []byte, base, from, to int64, cluster, group backup.ObjectID, cp *backup.Checkpoint, yield func(*backup.Checkpoint) bool) (int, error) {
	if len(b) == 0 {
		return 0, ErrCorrupt
	}
	if b[0] != BlockVersion {
		return 0, ErrUnknownFormat
	}
	r := reader{b: b, off: 1}
	count, ok := r.uvarint()
	// A record is at least 18 bytes: gap, id, three times, restorable, shape.
	if !ok || count > uint64(len(b))/18 {
		return 0, ErrCorrupt
	}
	n, ok := r.uvarint()
	if !ok || n > maxBlockNames || n > uint64(len(b)-r.off) {
		return 0, ErrCorrupt
	}
	d.blockNames = d.blockNames[:0]
	for range n {
		s, ok := r.bytes()
		if !ok {
			return 0, ErrCorrupt
		}
		d.blockNames = append(d.blockNames, d.intern(s))
	}
	name := func() (string, bool) {
		i, ok := r.uvarint()
		if !ok || i >= uint64(len(d.blockNames)) {
			return "", false
		}
		return d.blockNames[i], true
	}
	n, ok = r.uvarint()
	if !ok || n > maxBlockShapes || n > uint64(len(b)-r.off) {
		return 0, ErrCorrupt
	}
	d.blockShapes = d.blockShapes[:0]
	d.shapeParts = d.shapeParts[:0]
	for range n {
		k, ok := r.uvarint()
		if !ok || k > maxBlockParts || k > uint64(len(b)-r.off)/4 {
			return 0, ErrCorrupt
		}
		start := len(d.shapeParts)
		for range k {
			var p backup.Part
			t, ok := r.byte()
			if !ok {
				return 0, ErrCorrupt
			}
			switch t {
			case typeReplicaSet:
				p.Type = backup.PartReplicaSet
			case typeConfigServer:
				p.Type = backup.PartConfigServer
			case typeConfigReplicaSet:
				p.Type = backup.PartConfigReplicaSet
			case typeOther:
				s, ok := name()
				if !ok {
					return 0, ErrCorrupt
				}
				p.Type = backup.PartType(s)
			default:
				return 0, ErrCorrupt
			}
			var ok1, ok2, ok3 bool
			p.ShardName, ok1 = name()
			p.ReplicaSetName, ok2 = name()
			p.HostID, ok3 = name()
			if !(ok1 && ok2 && ok3) {
				return 0, ErrCorrupt
			}
			d.shapeParts = append(d.shapeParts, p)
		}
		d.blockShapes = append(d.blockShapes, [2]int{start, len(d.shapeParts)})
	}
	filled := 0
	filledShape := uint64(math.MaxUint64) // the shape whose names cp.Parts holds
	next, ts := base, int64(0)
	// seqAt reads the gap of the record at r.off and returns its seq.
	seqAt := func() (int64, bool) {
		gap, ok := r.uvarint()
		if !ok || gap > uint64(math.MaxInt64-next) {
			return 0, false
		}
		seq := next + int64(gap)
		next = seq + 1
		return seq, true
	}
	var seq int64
	if count > 0 {
		if seq, ok = seqAt(); !ok {
			return filled, ErrCorrupt
		}
	}
	for i := range count {
		if seq >= to {
			// Seqs increase: nothing after this is asked for.
			break
		}
		if r.off+len(backup.ObjectID{}) > len(b) {
			return filled, ErrCorrupt
		}
		idAt := r.off
		r.off += len(backup.ObjectID{})
		dts, ok1 := r.varint()
		dstarted, ok2 := r.varint()
		completed, ok3 := r.uvarint()
		restorable, ok4 := r.byte()
		shape, ok5 := r.uvarint()
		if !(ok1 && ok2 && ok3 && ok4 && ok5) || restorable > 1 || shape >= uint64(len(d.blockShapes)) {
			return filled, ErrCorrupt
		}
		ts += dts
		sh := d.blockShapes[shape]
		fill := seq >= from && yield != nil
		if fill && shape != filledShape {
			// The names and types of the parts, unless cp holds them
			// already: a cluster's checkpoints nearly all have the same.
			cp.Parts = append(cp.Parts[:0], d.shapeParts[sh[0]:sh[1]]...)
			filledShape = shape
		}
		for i := range sh[1] - sh[0] {
			date, ok1 := r.varint()
			tok, ok2 := r.uvarint()
			if !ok1 || !ok2 || tok>>1 > math.MaxUint32 {
				return filled, ErrCorrupt
			}
			if fill {
				p := &cp.Parts[i]
				p.TokenDiscovered = tok&1 == 1
				p.TokenTimestamp = backup.BSONTimestamp{Date: unixTime(ts + date), Increment: uint32(tok >> 1)}
			}
		}
		// The next record's seq, read before this record is counted or
		// yielded: the last bytes the walk reads are then read before
		// the last checkpoint it yields, so a walk that met damage
		// anywhere yields fewer than a whole one would.
		cur := seq
		if i+1 < count {
			if seq, ok = seqAt(); !ok {
				return filled, ErrCorrupt
			}
		}
		if cur < from {
			continue
		}
		filled++
		if yield == nil {
			continue
		}
		copy(cp.ID[:], b[idAt:])
		cp.ClusterID, cp.GroupID = cluster, group
		cp.Started, cp.Timestamp, cp.Restorable = unixTime(ts-dstarted), unixTime(ts), restorable == 1
		cp.Completed = time.Time{}
		if completed != 0 {
			v := (completed - 1) >> 1
			cp.Completed = unixTime(ts + (int64(v) ^ -int64((completed-1)&1)))
		}
		if !yield(cp) {
			break
		}
	}
	return filled, nil
}

// unixTime is a stored time as the stores read it back: whole seconds, UTC.
func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }
