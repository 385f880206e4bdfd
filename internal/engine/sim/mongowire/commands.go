package mongowire

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// cmdError is a command's failure as the server reports it:
// {ok: 0.0, errmsg, code, codeName}.
type cmdError struct {
	code int32
	name string
	msg  string
	// topologyVersion: state change errors carry the node's, as 4.4+
	// servers send them.
	topology bool
}

func (e *cmdError) Error() string { return fmt.Sprintf("%s (%d): %s", e.name, e.code, e.msg) }

// The error codes the simulated servers answer, with the names
// src/mongo/base/error_codes.yml gives them.
func errBadValue(format string, a ...any) *cmdError {
	return &cmdError{2, "BadValue", fmt.Sprintf(format, a...), false}
}
func errFailedToParse(format string, a ...any) *cmdError {
	return &cmdError{9, "FailedToParse", fmt.Sprintf(format, a...), false}
}
func errTypeMismatch(format string, a ...any) *cmdError {
	return &cmdError{14, "TypeMismatch", fmt.Sprintf(format, a...), false}
}

var (
	errMaxTime = &cmdError{50, "MaxTimeMSExpired", "operation exceeded time limit", false}
	errNotPrim = &cmdError{10107, "NotWritablePrimary", "not primary", true}
	errNoSecOk = &cmdError{13435, "NotPrimaryNoSecondaryOk", "not primary and secondaryOk=false", true}
)

func errNoCommand(name string) *cmdError {
	return &cmdError{59, "CommandNotFound", fmt.Sprintf("no such command: '%s'", name), false}
}

func errAdminOnly(name string) *cmdError {
	return &cmdError{13, "Unauthorized", name + " may only be run against the admin database.", false}
}

func errHostUnreachable(err error) *cmdError {
	return &cmdError{6, "HostUnreachable", err.Error(), false}
}

// command runs one request and returns its reply document. An error
// returned ends the connection without a reply.
func (c *conn) command(ctx context.Context, req request, legacy bool) (bson.Raw, error) {
	start := time.Now() // elapsed, for the log
	c.opTime = backup.BSONTimestamp{}
	reply, err := c.dispatch(ctx, req, legacy)
	if errors.Is(err, errClose) {
		return nil, err
	}
	var ce *cmdError
	if errors.As(err, &ce) {
		d := doc("ok", 0.0, "errmsg", ce.msg, "code", ce.code, "codeName", ce.name)
		if ce.topology {
			d = append(d, bson.E{Key: "topologyVersion", Value: c.topologyVersion()})
		}
		reply = d
	} else if err != nil {
		return nil, err
	} else {
		reply = append(reply, bson.E{Key: "ok", Value: 1.0})
	}
	reply = append(reply, c.times()...)
	// elapsed, for the log
	c.s.log.Debug("mongowire: command", "node", c.n.name(), "cmd", req.name, "db", req.db, "took", time.Since(start), "err", err)
	return bson.Marshal(reply)
}

// dispatch returns the reply's fields before ok, or a *cmdError.
func (c *conn) dispatch(ctx context.Context, req request, legacy bool) (bson.D, error) {
	switch req.name {
	case "hello", "isMaster", "ismaster":
		return c.hello(ctx, req, legacy || req.name != "hello")
	}
	if legacy {
		return nil, fmt.Errorf("mongowire: OP_QUERY %s: only the first hello comes as OP_QUERY", req.name)
	}
	if c.n.set != "" && req.name != "appendOplogNote" {
		// A slow member is slow at everything but hello, which keeps the
		// driver's monitor from taking it for unreachable;
		// appendOplogNote is slowed by the simulation itself, under the
		// same fault.
		if err := c.s.cluster.Delay(ctx, c.n.set); err != nil {
			return nil, errClose
		}
	}
	switch req.name {
	case "ping":
		return bson.D{}, nil
	case "buildInfo", "buildinfo":
		return c.buildInfo(), nil
	case "endSessions":
		return bson.D{}, nil
	case "getMore":
		return c.getMore(ctx, req)
	case "killCursors":
		return c.killCursors(req)
	}
	if c.n.set == "" {
		return c.mongosCommand(ctx, req)
	}
	return c.memberCommand(ctx, req)
}

// times are the fields every reply of a 3.6+ replica set member or
// mongos ends with: $clusterTime (unsigned, as a cluster without keys
// sends it) and operationTime, the optime of the command's write or else
// the newest entry of the node's oplog (of any oplog, for the mongos).
func (c *conn) times() bson.D {
	op := c.opTime
	if op.Date.IsZero() {
		names := []string{c.n.set}
		if c.n.set == "" {
			names = names[:0]
			for _, n := range c.s.nodes {
				names = append(names, n.set)
			}
		}
		for _, name := range names {
			if ts := c.s.cluster.LastTimestamp(name); op.Date.IsZero() || after(ts, op) {
				op = ts
			}
		}
	}
	t := bsonTS(op)
	return doc(
		"$clusterTime", doc("clusterTime", t, "signature", doc("hash", bson.Binary{Data: make([]byte, 20)}, "keyId", int64(0))),
		"operationTime", t,
	)
}

func after(a, b backup.BSONTimestamp) bool {
	return a.Date.After(b.Date) || a.Date.Equal(b.Date) && a.Increment > b.Increment
}

func (c *conn) topologyVersion() bson.D {
	return doc("processId", c.n.processID, "counter", c.s.cluster.Generation())
}

// hello answers hello and the legacy isMaster. An awaitable hello (one
// with topologyVersion and maxAwaitTimeMS, as the driver's streaming
// monitor sends it) waits until the node's state changes or
// maxAwaitTimeMS passes.
func (c *conn) hello(ctx context.Context, req request, legacyName bool) (bson.D, error) {
	if tv, ok := req.body.Lookup("topologyVersion").DocumentOK(); ok {
		wait, ok := asInt64(req.body.Lookup("maxAwaitTimeMS"))
		if !ok {
			return nil, errBadValue("topologyVersion must be sent with maxAwaitTimeMS")
		}
		pid, _ := tv.Lookup("processId").ObjectIDOK()
		counter, _ := asInt64(tv.Lookup("counter"))
		if pid == c.n.processID && counter == c.s.cluster.Generation() {
			t := time.NewTimer(time.Duration(wait) * time.Millisecond)
			select {
			case <-t.C:
			case <-c.s.cluster.FaultsChanged():
			case <-ctx.Done():
			}
			t.Stop()
			if ctx.Err() != nil || c.s.unreachable(c.n) {
				return nil, errClose
			}
		}
	}
	primary := !c.s.steppedDown(c.n)
	d := bson.D{}
	if flag(req.body, "helloOk") {
		d = append(d, bson.E{Key: "helloOk", Value: true})
	}
	d = append(d, bson.E{Key: "topologyVersion", Value: c.topologyVersion()})
	if legacyName {
		d = append(d, bson.E{Key: "ismaster", Value: primary})
	} else {
		d = append(d, bson.E{Key: "isWritablePrimary", Value: primary})
	}
	now := c.s.cluster.Now()
	if c.n.set == "" {
		d = append(d, bson.E{Key: "msg", Value: "isdbgrid"})
	} else {
		last := c.s.cluster.LastTimestamp(c.n.set)
		term := c.s.cluster.Term(c.n.set)
		opTime := doc("ts", bsonTS(last), "t", term)
		d = append(d,
			bson.E{Key: "secondary", Value: !primary},
			bson.E{Key: "setName", Value: c.n.set},
			bson.E{Key: "setVersion", Value: int32(1)},
			bson.E{Key: "hosts", Value: bson.A{c.n.addr}},
		)
		if primary {
			d = append(d, bson.E{Key: "primary", Value: c.n.addr})
		}
		d = append(d, bson.E{Key: "me", Value: c.n.addr})
		if primary {
			d = append(d, bson.E{Key: "electionId", Value: electionID(term)})
		}
		d = append(d, bson.E{Key: "lastWrite", Value: doc(
			"opTime", opTime,
			"lastWriteDate", last.Date,
			"majorityOpTime", opTime,
			"majorityWriteDate", last.Date,
		)})
	}
	d = append(d,
		bson.E{Key: "maxBsonObjectSize", Value: int32(16 * 1024 * 1024)},
		bson.E{Key: "maxMessageSizeBytes", Value: int32(maxMessage)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(100000)},
		bson.E{Key: "localTime", Value: now},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
		bson.E{Key: "connectionId", Value: c.id},
		bson.E{Key: "minWireVersion", Value: int32(0)},
		bson.E{Key: "maxWireVersion", Value: c.s.wire},
		bson.E{Key: "readOnly", Value: false},
	)
	return d, nil
}

// electionID is the ObjectId a primary reports for its term: it grows
// with the term, as the driver requires of a newer primary.
func electionID(term int64) bson.ObjectID {
	var id bson.ObjectID
	id[0] = 0x7f
	for i := range 8 {
		id[11-i] = byte(term >> (8 * i))
	}
	return id
}

func (c *conn) buildInfo() bson.D {
	var arr bson.A
	for _, p := range strings.SplitN(c.s.version+".0.0", ".", 4)[:3] {
		var n int32
		fmt.Sscan(p, &n)
		arr = append(arr, n)
	}
	arr = append(arr, int32(0))
	return doc(
		"version", c.s.version,
		"gitVersion", "0000000000000000000000000000000000000000",
		"versionArray", arr,
		"bits", int32(64),
		"debug", false,
		"maxBsonObjectSize", int32(16*1024*1024),
	)
}

// mongosCommand runs what only the mongos answers.
func (c *conn) mongosCommand(ctx context.Context, req request) (bson.D, error) {
	adminOnly := func() error {
		if req.db != "admin" {
			return errAdminOnly(req.name)
		}
		return nil
	}
	switch req.name {
	case "listShards":
		if err := adminOnly(); err != nil {
			return nil, err
		}
		return doc("shards", c.s.shardDocs()), nil
	case "getShardMap":
		if err := adminOnly(); err != nil {
			return nil, err
		}
		return c.s.shardMap(), nil
	case "balancerStop", "balancerStart", "balancerStatus":
		if c.s.legacy {
			return nil, errNoCommand(req.name)
		}
		if err := adminOnly(); err != nil {
			return nil, err
		}
		return c.balancer(ctx, req)
	case "find":
		return c.mongosFind(req)
	case "update":
		return c.mongosUpdate(ctx, req)
	}
	return nil, errNoCommand(req.name)
}

func (s *Server) shardDocs() bson.A {
	var out bson.A
	members := s.cluster.Members()
	// config.shards is read in _id order.
	slices.SortFunc(members, func(a, b engine.Member) int { return strings.Compare(a.ShardName, b.ShardName) })
	for _, m := range members {
		if m.Type != backup.PartReplicaSet {
			continue
		}
		out = append(out, doc(
			"_id", m.ShardName,
			"host", m.ReplicaSetName+"/"+s.byName[m.ReplicaSetName].addr,
			"state", int32(1),
		))
	}
	return out
}

// shardMap is getShardMap's reply: map (shard name or "config" to its
// connection string), hosts (host:port to its shard), connStrings
// (connection string to its shard).
func (s *Server) shardMap() bson.D {
	var m, hosts, conns bson.D
	for _, mm := range s.cluster.Members() {
		n := s.byName[mm.ReplicaSetName]
		name := mm.ShardName
		if n.config {
			name = "config"
		}
		cs := n.set + "/" + n.addr
		m = append(m, bson.E{Key: name, Value: cs})
		hosts = append(hosts, bson.E{Key: n.addr, Value: name})
		conns = append(conns, bson.E{Key: cs, Value: name})
	}
	return doc("map", m, "hosts", hosts, "connStrings", conns)
}

// balancer runs balancerStop, balancerStart and balancerStatus.
func (c *conn) balancer(ctx context.Context, req request) (bson.D, error) {
	cl := c.s.cluster
	switch req.name {
	case "balancerStop":
		timeout := 60 * time.Second // balancerStop's documented default
		if ms, ok := asInt64(req.body.Lookup("maxTimeMS")); ok && ms > 0 {
			timeout = time.Duration(ms) * time.Millisecond
		}
		err := cl.DisableBalancer(ctx, timeout)
		switch {
		case errors.Is(err, engine.ErrBalancerTimeout):
			return nil, errMaxTime
		case ctx.Err() != nil:
			return nil, errClose
		case err != nil:
			return nil, errHostUnreachable(err)
		}
		return bson.D{}, nil
	case "balancerStart":
		if err := cl.EnableBalancer(); err != nil {
			return nil, errHostUnreachable(err)
		}
		return bson.D{}, nil
	default:
		mode := "off"
		if cl.BalancerEnabled() {
			mode = "full"
		}
		return doc(
			"mode", mode,
			"inBalancerRound", cl.Migrating(),
			"numBalancerRounds", int64(cl.Stats().Migrations),
		), nil
	}
}

// memberCommand runs what a replica set primary answers.
func (c *conn) memberCommand(ctx context.Context, req request) (bson.D, error) {
	switch req.name {
	case "appendOplogNote":
		if req.db != "admin" {
			return nil, errAdminOnly(req.name)
		}
		data, ok := req.body.Lookup("data").DocumentOK()
		if !ok {
			return nil, errBadValue("appendOplogNote: 'data' must be an object")
		}
		ts, err := c.s.cluster.AppendNote(ctx, c.n.set, data)
		c.opTime = ts
		switch {
		case errors.Is(err, sim.ErrNotPrimary):
			return nil, errNotPrim
		case errors.Is(err, sim.ErrUnreachable), ctx.Err() != nil:
			return nil, errClose
		case err != nil:
			return nil, errHostUnreachable(err)
		}
		return bson.D{}, nil
	case "find":
		return c.memberFind(req)
	}
	return nil, errNoCommand(req.name)
}

func bsonTS(ts backup.BSONTimestamp) bson.Timestamp {
	if ts.Date.IsZero() {
		return bson.Timestamp{}
	}
	return bson.Timestamp{T: uint32(ts.Date.Unix()), I: ts.Increment}
}

// asInt64 reads a number of any BSON numeric type, as servers accept
// them in commands.
func asInt64(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return int64(v.Int32()), true
	case bson.TypeInt64:
		return v.Int64(), true
	case bson.TypeDouble:
		return int64(v.Double()), true
	}
	return 0, false
}
