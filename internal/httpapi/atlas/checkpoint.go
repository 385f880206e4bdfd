// Package atlas is the representation of checkpointd's data in the Atlas
// Administration API, both the deprecated v1.0 and the versioned v2: field
// sets, key order and links. The two generations print a checkpoint the same
// way and differ only in the paths their links point at, which the caller
// passes in.
//
// It knows nothing of HTTP handling, stores or authentication.
package atlas

import (
	"iter"
	"slices"
	"sync"
	"unsafe"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// AppendCheckpoint appends one checkpoint as ApiAtlasCheckpointView: keys in
// the alphabetical order the service emits, its self link at
// base+collection+"/"+id.
func AppendCheckpoint(b []byte, base, collection string, cp *backup.Checkpoint) []byte {
	return AppendCheckpointsView(b, base, collection, unsafe.Slice(cp, 1), false, nil)
}

// AppendCheckpoints appends checkpoints as AppendCheckpoint does, comma
// separated.
func AppendCheckpoints(b []byte, base, collection string, cps []backup.Checkpoint) []byte {
	return AppendCheckpointsView(b, base, collection, cps, false, nil)
}

// AppendCheckpointsView appends cps, comma separated, in the checkpoint
// representation every generation shares (checkpointEncoder), with self
// links at base+collection+"/"+id. withHostID adds the hostId of mirrored
// config server parts (Cloud Manager); moreLinks, if not nil, appends
// further link objects after self, each preceded by a comma.
func AppendCheckpointsView(b []byte, base, collection string, cps []backup.Checkpoint, withHostID bool, moreLinks func([]byte) []byte) []byte {
	if len(cps) == 0 {
		return b
	}
	e := encoders.Get().(*checkpointEncoder)
	e.reset(base, collection, withHostID, moreLinks)
	b = e.appendList(b, cps)
	encoders.Put(e)
	return b
}

// AppendCheckpointsSeq is AppendCheckpoints for n checkpoints that come
// as a sequence, each read once (a store's page decoded one checkpoint at
// a time into one reused value): the same bytes, and whole, as
// AppendCheckpointsViewSeq reports it.
func AppendCheckpointsSeq(b []byte, base, collection string, n int, seq iter.Seq[*backup.Checkpoint]) ([]byte, bool) {
	return AppendCheckpointsViewSeq(b, base, collection, n, seq, false, nil)
}

// AppendCheckpointsViewSeq is AppendCheckpointsView for n checkpoints
// that come as a sequence: the same bytes. The encoder keeps nothing of
// a checkpoint once it is written, so seq may reuse one value for all.
// It reports whether seq yielded n checkpoints; when it yielded fewer
// (a store that found, as it decoded them, that it could not give them
// all), it returns b as it was given, and the caller reads the page
// another way.
func AppendCheckpointsViewSeq(b []byte, base, collection string, n int, seq iter.Seq[*backup.Checkpoint], withHostID bool, moreLinks func([]byte) []byte) ([]byte, bool) {
	if n == 0 {
		return b, true
	}
	e := encoders.Get().(*checkpointEncoder)
	e.reset(base, collection, withHostID, moreLinks)
	start, i := len(b), 0
	for cp := range seq {
		if i == n {
			i++ // more than n: not the page asked for
			break
		}
		b = e.appendNth(b, i, n, cp)
		i++
	}
	encoders.Put(e)
	if i != n {
		return b[:start], false
	}
	return b, true
}

// encoders keeps checkpointEncoders for reuse: their fragments' memory,
// and the fragments of the cluster, group and parts, which the next page
// is likely to share.
var encoders = sync.Pool{New: func() any { return new(checkpointEncoder) }}

// checkpointEncoder appends checkpoints of one collection in the
// representation every generation shares:
//
//	{"clusterId":"…","completed":"…","groupId":"…","id":"…",
//	 "links":[{"href":"<base><collection>/<id>","rel":"self"}<more links>],
//	 "parts":[<part>,…],"restorable":…,"started":"…","timestamp":"…"}
//
// with completed left out when unknown (zero), and each part
//
//	{"hostId":"…","replicaSetName":"…","shardName":"…","tokenDiscovered":true,
//	 "tokenTimestamp":{"date":"…","increment":…},"typeName":"…"}
//
// where hostId is written only with withHostID (Cloud Manager), the names
// only when not empty, and tokenTimestamp only when the token was
// discovered: there is no oplog entry to date it by otherwise.
//
// The spec gives tokenTimestamp.increment a minimum of 1199145600 (the
// epoch seconds of 2008-01-01, apparently copied from the date field);
// real oplog increments count operations within one second and start at
// 1, so this prints the real value.
//
// Most of that is the same for every checkpoint of a page: the keys, the
// link prefix, the cluster's and group's ids, the parts' names and types.
// The encoder writes those once, escaped, as fragments, and a checkpoint
// is then those fragments and its own values: its id, times and token
// increments. An encoder is not safe for concurrent use.
type checkpointEncoder struct {
	withHostID bool
	// The fragments between a checkpoint's values:
	//   cluster   `{"clusterId":"<clusterId>"`
	//   group     `,"groupId":"<groupId>","id":"`
	//   self      `","links":[{"href":"<base><collection>/`
	//   links     `","rel":"self"}<more links>],"parts":[`
	cluster, group, self, links []byte
	clusterID, groupID          backup.ObjectID // those cluster and group hold
	// parts[i] holds the fragments of the last part written at index i.
	parts []partFragments
	dates wire.Dates
}

// partFragments are the constant fragments of a part's representation,
// each beginning with a comma, left out before a checkpoint's first part:
// with a token discovered, head is
// `,{<names>,"tokenDiscovered":true,"tokenTimestamp":{"date":` and tail
// `},"typeName":"<type>"}`, between which come the date and
// `,"increment":<increment>`; without, the part is all of noToken,
// `,{<names>,"tokenDiscovered":false,"typeName":"<type>"}`.
type partFragments struct {
	typ                  backup.PartType
	shard, replica, host string
	head, tail, noToken  []byte
}

// reset prepares the encoding of checkpoints whose self link is
// base+collection+"/"+id, as AppendCheckpointsView describes.
func (e *checkpointEncoder) reset(base, collection string, withHostID bool, moreLinks func([]byte) []byte) {
	e.withHostID = withHostID
	e.self = append(e.self[:0], `","links":[{"href":"`...)
	e.self = wire.AppendEscaped(e.self, base)
	e.self = wire.AppendEscaped(e.self, collection)
	e.self = append(e.self, '/')
	e.links = append(e.links[:0], `","rel":"self"}`...)
	if moreLinks != nil {
		e.links = moreLinks(e.links)
	}
	e.links = append(e.links, `],"parts":[`...)
}

// appendList appends cps, comma separated.
func (e *checkpointEncoder) appendList(b []byte, cps []backup.Checkpoint) []byte {
	for i := range cps {
		b = e.appendNth(b, i, len(cps), &cps[i])
	}
	return b
}

// appendNth appends cp, the checkpoint at index i of n, comma separated
// from the one before.
func (e *checkpointEncoder) appendNth(b []byte, i, n int, cp *backup.Checkpoint) []byte {
	start := len(b)
	if i > 0 {
		b = append(b, ',')
	}
	b = e.append(b, cp)
	if i == 0 && n > 1 {
		// A cluster's checkpoints encode to nearly the same length:
		// make room for the rest at once (and a little for what
		// follows them), rather than growing the buffer by doubling,
		// which allocates and copies twice the body for a page of 500.
		b = slices.Grow(b, (len(b)-start+1)*(n-1)+64)
	}
	return b
}

// append appends one checkpoint.
func (e *checkpointEncoder) append(b []byte, cp *backup.Checkpoint) []byte {
	if e.cluster == nil || cp.ClusterID != e.clusterID {
		e.clusterID = cp.ClusterID
		e.cluster = append(e.cluster[:0], `{"clusterId":"`...)
		e.cluster = wire.AppendHex12(e.cluster, (*[12]byte)(&cp.ClusterID))
		e.cluster = append(e.cluster, '"')
	}
	if e.group == nil || cp.GroupID != e.groupID {
		e.groupID = cp.GroupID
		e.group = append(e.group[:0], `,"groupId":"`...)
		e.group = wire.AppendHex12(e.group, (*[12]byte)(&cp.GroupID))
		e.group = append(e.group, `","id":"`...)
	}
	b = append(b, e.cluster...)
	if !cp.Completed.IsZero() {
		b = append(b, `,"completed":`...)
		b = e.dates.Append(b, cp.Completed)
	}
	b = append(b, e.group...)
	id := len(b)
	b = wire.AppendHex12(b, (*[12]byte)(&cp.ID))
	b = append(b, e.self...)
	b = append(b, b[id:id+2*len(cp.ID)]...)
	b = append(b, e.links...)
	for i := range cp.Parts {
		p := &cp.Parts[i]
		f := e.part(i, p)
		comma := 0
		if i == 0 {
			comma = 1
		}
		if !p.TokenDiscovered {
			b = append(b, f.noToken[comma:]...)
			continue
		}
		b = append(b, f.head[comma:]...)
		b = e.dates.Append(b, p.TokenTimestamp.Date)
		b = append(b, `,"increment":`...)
		b = wire.AppendUint32(b, p.TokenTimestamp.Increment)
		b = append(b, f.tail...)
	}
	if cp.Restorable {
		b = append(b, `],"restorable":true,"started":`...)
	} else {
		b = append(b, `],"restorable":false,"started":`...)
	}
	b = e.dates.Append(b, cp.Started)
	b = append(b, `,"timestamp":`...)
	b = e.dates.Append(b, cp.Timestamp)
	return append(b, '}')
}

// part returns the fragments of p, the part at index i of a checkpoint:
// those of the last part at that index if p has the same names and type,
// or new ones in their place.
func (e *checkpointEncoder) part(i int, p *backup.Part) *partFragments {
	if i >= len(e.parts) {
		e.parts = slices.Grow(e.parts, i+1-len(e.parts))[:i+1]
	}
	f := &e.parts[i]
	host := p.HostID
	if !e.withHostID {
		host = ""
	}
	if f.noToken != nil && same(string(f.typ), string(p.Type)) && same(f.shard, p.ShardName) &&
		same(f.replica, p.ReplicaSetName) && same(f.host, host) {
		return f
	}
	f.typ, f.shard, f.replica, f.host = p.Type, p.ShardName, p.ReplicaSetName, host
	names := append(f.noToken[:0], ',', '{')
	if host != "" {
		names = append(names, `"hostId":`...)
		names = wire.AppendString(names, host)
		names = append(names, ',')
	}
	if p.ReplicaSetName != "" {
		names = append(names, `"replicaSetName":`...)
		names = wire.AppendString(names, p.ReplicaSetName)
		names = append(names, ',')
	}
	if p.ShardName != "" {
		names = append(names, `"shardName":`...)
		names = wire.AppendString(names, p.ShardName)
		names = append(names, ',')
	}
	names = append(names, `"tokenDiscovered":`...)
	f.head = append(append(f.head[:0], names...), `true,"tokenTimestamp":{"date":`...)
	f.tail = append(f.tail[:0], `},"typeName":`...)
	f.tail = wire.AppendString(f.tail, string(p.Type))
	f.tail = append(f.tail, '}')
	f.noToken = append(append(names, "false"...), f.tail[1:]...)
	return f
}

// same is a == b, quicker for the same string: a store's decoder shares
// one copy of each name among the parts of a page.
func same(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}
