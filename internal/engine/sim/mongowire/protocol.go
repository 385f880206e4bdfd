package mongowire

import (
	"context"
	"fmt"
	"io"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// request is one command as the handlers see it, whichever opcode
// carried it.
type request struct {
	name string   // the command: the body's first key
	db   string   // $db, or the OP_QUERY namespace's database
	body bson.Raw // with OP_MSG document sequences folded in as arrays
}

// handle parses one message and returns the reply to write, or nil when
// the request asked for none (OP_MSG moreToCome). An awaitable hello
// that allows exhaust is answered with moreToCome, and c.streaming is set
// to it: the connection then streams hello replies (see stream).
func (c *conn) handle(ctx context.Context, msg []byte) ([]byte, error) {
	_, reqID, _, op, rest, ok := wiremessage.ReadHeader(msg)
	if !ok {
		return nil, fmt.Errorf("mongowire: short header")
	}
	switch op {
	case wiremessage.OpQuery:
		req, err := parseQuery(rest)
		if err != nil {
			return nil, err
		}
		doc, err := c.command(ctx, req, true)
		if err != nil {
			return nil, err
		}
		return replyOpReply(reqID, doc), nil
	case wiremessage.OpMsg:
		req, flags, err := parseMsg(rest)
		if err != nil {
			return nil, err
		}
		doc, err := c.command(ctx, req, false)
		if err != nil {
			return nil, err
		}
		if flags&wiremessage.MoreToCome != 0 {
			return nil, nil
		}
		var out wiremessage.MsgFlag
		if flags&wiremessage.ExhaustAllowed != 0 && awaitable(req) {
			out = wiremessage.MoreToCome
			c.streaming = &req
		}
		reply, id := replyOpMsg(reqID, doc, out)
		c.lastReply = id
		return reply, nil
	default:
		return nil, fmt.Errorf("mongowire: opcode %v not served", op)
	}
}

// parseQuery reads an OP_QUERY, which the driver sends only for the first
// hello of a connection (legacy hello, on admin.$cmd).
func parseQuery(b []byte) (request, error) {
	_, b, ok := wiremessage.ReadQueryFlags(b)
	var ns string
	if ok {
		ns, b, ok = wiremessage.ReadQueryFullCollectionName(b)
	}
	if ok {
		_, b, ok = wiremessage.ReadQueryNumberToSkip(b)
	}
	if ok {
		_, b, ok = wiremessage.ReadQueryNumberToReturn(b)
	}
	var q bsoncore.Document
	if ok {
		q, _, ok = wiremessage.ReadQueryQuery(b)
	}
	if !ok || q.Validate() != nil {
		return request{}, fmt.Errorf("mongowire: malformed OP_QUERY")
	}
	db, coll, _ := strings.Cut(ns, ".")
	if coll != "$cmd" {
		return request{}, fmt.Errorf("mongowire: OP_QUERY on %s: only commands are served", ns)
	}
	body := bson.Raw(q)
	// A command may come wrapped as {$query: {...}, $readPreference: ...}.
	if inner, ok := body.Lookup("$query").DocumentOK(); ok {
		body = inner
	}
	return newRequest(body, db)
}

// parseMsg reads an OP_MSG: its body section, plus any document sequence
// (the driver sends inserts' and updates' documents that way), which is
// folded into the body as an array field of the sequence's name.
func parseMsg(b []byte) (request, wiremessage.MsgFlag, error) {
	flags, b, ok := wiremessage.ReadMsgFlags(b)
	if !ok {
		return request{}, 0, fmt.Errorf("mongowire: malformed OP_MSG")
	}
	if flags&wiremessage.ChecksumPresent != 0 {
		if len(b) < 4 {
			return request{}, 0, fmt.Errorf("mongowire: malformed OP_MSG")
		}
		b = b[:len(b)-4]
	}
	var body bsoncore.Document
	var seqs []struct {
		id   string
		docs []bsoncore.Document
	}
	for len(b) > 0 {
		var st wiremessage.SectionType
		st, b, ok = wiremessage.ReadMsgSectionType(b)
		if !ok {
			return request{}, 0, fmt.Errorf("mongowire: malformed OP_MSG section")
		}
		switch st {
		case wiremessage.SingleDocument:
			body, b, ok = wiremessage.ReadMsgSectionSingleDocument(b)
		case wiremessage.DocumentSequence:
			var id string
			var docs []bsoncore.Document
			id, docs, b, ok = wiremessage.ReadMsgSectionDocumentSequence(b)
			seqs = append(seqs, struct {
				id   string
				docs []bsoncore.Document
			}{id, docs})
		default:
			ok = false
		}
		if !ok {
			return request{}, 0, fmt.Errorf("mongowire: malformed OP_MSG section")
		}
	}
	if body == nil || body.Validate() != nil {
		return request{}, 0, fmt.Errorf("mongowire: OP_MSG without a valid body")
	}
	if len(seqs) > 0 {
		idx, doc := bsoncore.AppendDocumentStart(nil)
		elems, _ := body.Elements()
		for _, e := range elems {
			doc = append(doc, e...)
		}
		for _, sq := range seqs {
			var aidx int32
			aidx, doc = bsoncore.AppendArrayElementStart(doc, sq.id)
			for i, d := range sq.docs {
				doc = bsoncore.AppendDocumentElement(doc, fmt.Sprint(i), d)
			}
			doc, _ = bsoncore.AppendArrayEnd(doc, aidx)
		}
		doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
		body = doc
	}
	db, _ := bson.Raw(body).Lookup("$db").StringValueOK()
	req, err := newRequest(bson.Raw(body), db)
	return req, flags, err
}

func newRequest(body bson.Raw, db string) (request, error) {
	first, err := body.IndexErr(0)
	if err != nil {
		return request{}, fmt.Errorf("mongowire: empty command")
	}
	return request{name: first.Key(), db: db, body: body}, nil
}

// replyOpMsg returns an OP_MSG answering the message reqID, and its own
// request id.
func replyOpMsg(reqID int32, doc []byte, flags wiremessage.MsgFlag) ([]byte, int32) {
	id := wiremessage.NextRequestID()
	idx, b := wiremessage.AppendHeaderStart(nil, id, reqID, wiremessage.OpMsg)
	b = wiremessage.AppendMsgFlags(b, flags)
	b = wiremessage.AppendMsgSectionType(b, wiremessage.SingleDocument)
	b = append(b, doc...)
	return bsoncore.UpdateLength(b, idx, int32(len(b[idx:]))), id
}

func replyOpReply(reqID int32, doc []byte) []byte {
	idx, b := wiremessage.AppendHeaderStart(nil, wiremessage.NextRequestID(), reqID, wiremessage.OpReply)
	b = wiremessage.AppendReplyFlags(b, wiremessage.AwaitCapable)
	b = wiremessage.AppendReplyCursorID(b, 0)
	b = wiremessage.AppendReplyStartingFrom(b, 0)
	b = wiremessage.AppendReplyNumberReturned(b, 1)
	b = append(b, doc...)
	return bsoncore.UpdateLength(b, idx, int32(len(b[idx:])))
}

// doc builds a document from alternating keys and values.
func doc(kv ...any) bson.D {
	d := make(bson.D, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		d = append(d, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return d
}

// flag reads an optional boolean field; absent or not a boolean is false.
func flag(body bson.Raw, key string) bool {
	b, _ := body.Lookup(key).BooleanOK()
	return b
}

// awaitable reports whether req is an awaitable hello: one with the
// topologyVersion and maxAwaitTimeMS of the driver's streaming monitor.
func awaitable(req request) bool {
	if req.name != "hello" && req.name != "isMaster" && req.name != "ismaster" {
		return false
	}
	_, tv := req.body.Lookup("topologyVersion").DocumentOK()
	_, wait := asInt64(req.body.Lookup("maxAwaitTimeMS"))
	return tv && wait
}

// stream answers an exhausted awaitable hello as a 4.4+ server does:
// after each reply it waits for the node's state to change, or for
// maxAwaitTimeMS, and sends the next, moreToCome set, each answering the
// one before, until the client closes the connection (a driver
// disconnecting) or the server stops.
func (c *conn) stream(ctx context.Context, r io.Reader, req request, last []byte) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // the client sends nothing more: a read ends when it closes
		_, _ = io.Copy(io.Discard, r)
		cancel()
	}()
	wait, _ := asInt64(req.body.Lookup("maxAwaitTimeMS"))
	for {
		counter, _ := asInt64(bson.Raw(last).Lookup("topologyVersion", "counter"))
		next := req
		next.body, _ = bson.Marshal(doc(
			req.name, int32(1),
			"topologyVersion", doc("processId", c.n.processID, "counter", counter),
			"maxAwaitTimeMS", wait,
			"$db", "admin",
		))
		d, err := c.command(ctx, next, false)
		if err != nil {
			return err
		}
		reply, id := replyOpMsg(c.lastReply, d, wiremessage.MoreToCome)
		if _, err := c.nc.Write(reply); err != nil {
			return err
		}
		c.lastReply, last = id, d
	}
}
