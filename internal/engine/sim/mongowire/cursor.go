package mongowire

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// oplogNS is the namespace of a replica set member's oplog.
const oplogNS = "local.oplog.rs"

// defaultBatch is find's first batch when batchSize is not given, as the
// server's default.
const defaultBatch = 101

// pollEvery is how often an awaitData getMore looks for new entries.
const pollEvery = 20 * time.Millisecond

// cursor is an open find cursor. A tailable cursor on the oplog reads
// the simulation's oplog after pos at each getMore; any other cursor
// holds the rest of its result.
type cursor struct {
	id        int64
	ns        string
	set       string // the member whose oplog a tailable cursor reads
	match     matcher
	project   projection
	tailable  bool
	awaitData bool
	pos       backup.BSONTimestamp // the last entry scanned
	rest      []bson.Raw
	limit     int // documents still to return; 0: no limit
}

// findOptions are the find command's fields the simulation honours.
type findOptions struct {
	ns        string
	match     matcher
	project   projection
	reverse   bool // sort {$natural: -1}
	limit     int
	batch     int
	single    bool
	tailable  bool
	awaitData bool
}

func parseFind(req request) (findOptions, error) {
	coll, ok := req.body.Lookup("find").StringValueOK()
	if !ok {
		return findOptions{}, errBadValue("collection name has invalid type")
	}
	o := findOptions{ns: req.db + "." + coll, batch: defaultBatch}
	filter, ok := req.body.Lookup("filter").DocumentOK()
	if !ok {
		filter = bson.Raw{5, 0, 0, 0, 0}
	}
	var err error
	if o.match, err = compileFilter(filter); err != nil {
		return o, err
	}
	if p, ok := req.body.Lookup("projection").DocumentOK(); ok {
		if o.project, err = compileProjection(p); err != nil {
			return o, err
		}
	}
	if sort, ok := req.body.Lookup("sort").DocumentOK(); ok {
		elems, _ := sort.Elements()
		for _, e := range elems {
			n, _ := asInt64(e.Value())
			if e.Key() != "$natural" && e.Key() != "ts" || n != 1 && n != -1 {
				return o, errBadValue("the simulation sorts the oplog by $natural or ts only")
			}
			o.reverse = n == -1
		}
	}
	if n, ok := asInt64(req.body.Lookup("limit")); ok {
		if n < 0 {
			return o, errBadValue("limit value must be non-negative")
		}
		o.limit = int(n)
	}
	if n, ok := asInt64(req.body.Lookup("batchSize")); ok {
		if n < 0 {
			return o, errBadValue("batchSize value must be non-negative")
		}
		o.batch = int(n)
	}
	o.single = flag(req.body, "singleBatch")
	o.tailable = flag(req.body, "tailable")
	o.awaitData = flag(req.body, "awaitData")
	if o.awaitData && !o.tailable {
		return o, errFailedToParse("Cannot set 'awaitData' without also setting 'tailable'")
	}
	if o.tailable && o.reverse {
		return o, errBadValue("cannot use tailable option with a sort other than {$natural: 1}")
	}
	return o, nil
}

// memberFind runs find on a replica set member: on local.oplog.rs it
// reads the simulated oplog; any other collection is empty.
func (c *conn) memberFind(req request) (bson.D, error) {
	o, err := parseFind(req)
	if err != nil {
		return nil, err
	}
	if c.s.steppedDown(c.n) && readsPrimary(req.body) {
		return nil, errNoSecOk
	}
	if o.ns != oplogNS {
		return c.s.firstBatch(o, nil), nil
	}
	entries, _ := c.s.cluster.ReadOplog(c.n.set, backup.BSONTimestamp{}, 0)
	if !o.tailable {
		var docs []bson.Raw
		for _, e := range entries {
			if d := oplogDoc(e); o.match(d) {
				docs = append(docs, d)
			}
		}
		if o.reverse {
			slices.Reverse(docs)
		}
		return c.s.firstBatch(o, docs), nil
	}
	cur := &cursor{ns: o.ns, set: c.n.set, match: o.match, project: o.project, tailable: true, awaitData: o.awaitData, limit: o.limit}
	batch := cur.scan(entries, o.batch)
	if len(entries) == 0 || o.single || cur.limit < 0 {
		// A tailable cursor on an empty oplog is dead at once, as on a
		// real capped collection.
		return cursorReply("firstBatch", 0, o.ns, batch), nil
	}
	c.s.register(cur)
	return cursorReply("firstBatch", cur.id, o.ns, batch), nil
}

// scan collects the matching entries of entries into a batch of at most
// batch documents (0: no bound), moving the cursor's position past each
// entry it looks at. A limit reached sets limit to -1.
func (cur *cursor) scan(entries []sim.Entry, batch int) []bson.Raw {
	var out []bson.Raw
	for _, e := range entries {
		if batch > 0 && len(out) == batch || cur.limit < 0 {
			break
		}
		cur.pos = e.TS
		if d := oplogDoc(e); cur.match(d) {
			out = append(out, cur.project.apply(d))
			if cur.limit > 0 {
				if cur.limit--; cur.limit == 0 {
					cur.limit = -1
				}
			}
		}
	}
	return out
}

// firstBatch answers a find whose whole result is docs.
func (s *Server) firstBatch(o findOptions, docs []bson.Raw) bson.D {
	if o.limit > 0 && len(docs) > o.limit {
		docs = docs[:o.limit]
	}
	for i, d := range docs {
		docs[i] = o.project.apply(d)
	}
	n := len(docs)
	if o.batch > 0 && o.batch < n {
		n = o.batch
	}
	if n == len(docs) || o.single {
		return cursorReply("firstBatch", 0, o.ns, docs[:n])
	}
	cur := &cursor{ns: o.ns, rest: docs[n:]}
	s.register(cur)
	return cursorReply("firstBatch", cur.id, o.ns, docs[:n])
}

// register opens cur under a new id.
func (s *Server) register(cur *cursor) {
	cur.id = s.nextCursor.Add(1)
	s.keep(cur)
}

// take removes a cursor from the open ones while a getMore uses it.
func (s *Server) take(id int64) *cursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.cursors[id]
	delete(s.cursors, id)
	return cur
}

func cursorReply(batchName string, id int64, ns string, docs []bson.Raw) bson.D {
	arr := make(bson.A, len(docs))
	for i, d := range docs {
		arr[i] = d
	}
	return doc("cursor", doc(batchName, arr, "id", id, "ns", ns))
}

// readsPrimary reports whether a command's read preference is primary,
// as it is when $readPreference is absent.
func readsPrimary(body bson.Raw) bool {
	mode, _ := body.Lookup("$readPreference", "mode").StringValueOK()
	return mode == "" || mode == "primary"
}

// getMore returns the next batch of a cursor. On a tailable cursor with
// awaitData it waits up to maxTimeMS (1 s by default, as the server) for
// new entries, and returns an empty batch and the open cursor if none
// came.
func (c *conn) getMore(ctx context.Context, req request) (bson.D, error) {
	id, ok := asInt64(req.body.Lookup("getMore"))
	coll, ok2 := req.body.Lookup("collection").StringValueOK()
	if !ok || !ok2 {
		return nil, errTypeMismatch("getMore needs a cursor id and a collection name")
	}
	cur := c.s.take(id)
	if cur == nil {
		return nil, &cmdError{43, "CursorNotFound", "cursor id " + itoa(id) + " not found", false}
	}
	if ns := req.db + "." + coll; ns != cur.ns {
		c.s.keep(cur)
		return nil, &cmdError{13, "Unauthorized", "Requested getMore on namespace '" + ns + "', but cursor belongs to a different namespace " + cur.ns, false}
	}
	batch := 0
	if n, ok := asInt64(req.body.Lookup("batchSize")); ok && n > 0 {
		batch = int(n)
	}
	if !cur.tailable {
		n := len(cur.rest)
		if batch > 0 && batch < n {
			n = batch
		}
		docs := cur.rest[:n]
		cur.rest = cur.rest[n:]
		if len(cur.rest) == 0 {
			return cursorReply("nextBatch", 0, cur.ns, docs), nil
		}
		c.s.keep(cur)
		return cursorReply("nextBatch", cur.id, cur.ns, docs), nil
	}
	wait := time.Second
	if ms, ok := asInt64(req.body.Lookup("maxTimeMS")); ok && ms > 0 {
		wait = time.Duration(ms) * time.Millisecond
	}
	// maxTimeMS is the client's own deadline, in real time whatever the
	// simulation's clock.
	waited, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	poll := time.NewTicker(pollEvery)
	defer poll.Stop()
	for {
		if c.s.unreachable(c.n) {
			return nil, errClose
		}
		entries, covered := c.s.cluster.ReadOplog(cur.set, cur.pos, 0)
		if !covered {
			return nil, &cmdError{136, "CappedPositionLost", "CollectionScan died due to position in capped collection being deleted. Last seen record id: " + itoa(int64(bsonTS(cur.pos).T)<<32|int64(cur.pos.Increment)), false}
		}
		docs := cur.scan(entries, batch)
		if cur.limit < 0 {
			return cursorReply("nextBatch", 0, cur.ns, docs), nil
		}
		if len(docs) > 0 || !cur.awaitData || waited.Err() != nil {
			c.s.keep(cur)
			return cursorReply("nextBatch", cur.id, cur.ns, docs), nil
		}
		select {
		case <-poll.C:
		case <-waited.Done():
			if ctx.Err() != nil {
				return nil, errClose
			}
		}
	}
}

// keep puts back a cursor a getMore took.
func (s *Server) keep(cur *cursor) {
	s.mu.Lock()
	s.cursors[cur.id] = cur
	s.mu.Unlock()
}

// killCursors closes cursors: {cursorsKilled, cursorsNotFound,
// cursorsAlive, cursorsUnknown}, as the server answers.
func (c *conn) killCursors(req request) (bson.D, error) {
	if _, ok := req.body.Lookup("killCursors").StringValueOK(); !ok {
		return nil, errBadValue("killCursors needs a collection name")
	}
	arr, ok := req.body.Lookup("cursors").ArrayOK()
	if !ok {
		return nil, errBadValue("killCursors needs an array of cursor ids")
	}
	vals, _ := arr.Values()
	killed, notFound := bson.A{}, bson.A{}
	for _, v := range vals {
		id, ok := asInt64(v)
		if !ok {
			return nil, errBadValue("cursor ids must be numbers")
		}
		if c.s.take(id) != nil {
			killed = append(killed, id)
		} else {
			notFound = append(notFound, id)
		}
	}
	return doc("cursorsKilled", killed, "cursorsNotFound", notFound, "cursorsAlive", bson.A{}, "cursorsUnknown", bson.A{}), nil
}

// oplogDoc renders an entry as local.oplog.rs holds it:
// {op, ns, o, o2, ts, t, v, wall}.
func oplogDoc(e sim.Entry) bson.Raw {
	o := bson.Raw(e.O)
	if o == nil {
		// an insert of the background load: its _id stands for the document
		o, _ = bson.Marshal(doc("_id", int64(binary.BigEndian.Uint64(tsKey(e.TS)))))
	}
	d := doc("op", e.Op, "ns", e.NS, "o", o)
	if e.O2 != nil {
		d = append(d, bson.E{Key: "o2", Value: bson.Raw(e.O2)})
	}
	d = append(d, bson.E{Key: "ts", Value: bsonTS(e.TS)}, bson.E{Key: "t", Value: e.Term},
		bson.E{Key: "v", Value: int64(2)}, bson.E{Key: "wall", Value: e.Wall})
	raw, _ := bson.Marshal(d)
	return raw
}

func tsKey(ts backup.BSONTimestamp) []byte {
	t := bsonTS(ts)
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], t.T)
	binary.BigEndian.PutUint32(b[4:], t.I)
	return b[:]
}

// projection keeps (include) or drops the named top-level fields; the
// zero projection keeps everything. _id is kept unless excluded, as the
// server does.
type projection struct {
	include bool
	fields  map[string]bool
}

// compileProjection reads {f: 1, …} or {f: 0, …} on top-level fields:
// what oplog readers use ({ts: 1}). Anything else is refused, rather than
// answered differently from a server.
func compileProjection(p bson.Raw) (projection, error) {
	elems, _ := p.Elements()
	pr := projection{fields: map[string]bool{}}
	set := false
	for _, e := range elems {
		key := e.Key()
		if strings.ContainsAny(key, ".$") {
			return pr, errBadValue("the simulation projects top-level fields only, not %s", key)
		}
		in := truthy(e.Value())
		if _, isDoc := e.Value().DocumentOK(); isDoc {
			return pr, errBadValue("the simulation projects top-level fields only, not %s", key)
		}
		pr.fields[key] = in
		if key == "_id" {
			continue
		}
		if set && in != pr.include {
			return pr, errBadValue("Cannot do %s on field %s in %s projection", kind(in), key, kind(pr.include))
		}
		pr.include, set = in, true
	}
	if !set && len(pr.fields) > 0 { // only _id named
		pr.include = pr.fields["_id"]
	}
	return pr, nil
}

func kind(include bool) string {
	if include {
		return "inclusion"
	}
	return "exclusion"
}

func (pr projection) apply(d bson.Raw) bson.Raw {
	if len(pr.fields) == 0 {
		return d
	}
	elems, _ := d.Elements()
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		in, named := pr.fields[e.Key()]
		keep := !named && !pr.include || named && in
		if e.Key() == "_id" && !named {
			keep = true
		}
		if keep {
			out = append(out, e...)
		}
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out
}
