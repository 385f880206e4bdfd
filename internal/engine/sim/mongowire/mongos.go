package mongowire

import (
	"context"
	"errors"
	"strconv"

	"github.com/checkpointd/checkpointd/internal/engine"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The config database documents the mongos serves: config.settings'
// balancer document (how 3.2 and earlier stop the balancer, and what
// later versions still keep up to date), config.locks' balancer lock
// (held while a migration runs: what a 3.2 client waits on after
// stopping the balancer) and config.shards.

func (s *Server) balancerSetting() bson.Raw {
	mode, stopped := "full", false
	if !s.cluster.BalancerEnabled() {
		mode, stopped = "off", true
	}
	d, _ := bson.Marshal(doc("_id", "balancer", "mode", mode, "stopped", stopped))
	return d
}

func (s *Server) balancerLock() bson.Raw {
	state := int32(0) // unlocked
	if s.cluster.Migrating() {
		state = 2 // locked
	}
	d, _ := bson.Marshal(doc("_id", "balancer", "state", state, "who", "ConfigServer:Balancer", "why", "CSRS Balancer"))
	return d
}

// mongosFind answers find on the config collections above; every other
// collection is empty.
func (c *conn) mongosFind(req request) (bson.D, error) {
	o, err := parseFind(req)
	if err != nil {
		return nil, err
	}
	var all []bson.Raw
	switch o.ns {
	case "config.settings":
		all = []bson.Raw{c.s.balancerSetting()}
	case "config.locks":
		all = []bson.Raw{c.s.balancerLock()}
	case "config.shards":
		for _, sh := range c.s.shardDocs() {
			d, _ := bson.Marshal(sh)
			all = append(all, d)
		}
	}
	var docs []bson.Raw
	for _, d := range all {
		if o.match(d) {
			docs = append(docs, d)
		}
	}
	return c.s.firstBatch(o, docs), nil
}

// mongosUpdate answers update on config.settings' balancer document:
// {$set: {stopped: bool}} (sh.setBalancerState before 3.4) or {$set:
// {mode: "off"|"full"}} stops or starts the balancer without waiting for
// a running migration. Updates of anything else match nothing.
func (c *conn) mongosUpdate(ctx context.Context, req request) (bson.D, error) {
	coll, _ := req.body.Lookup("update").StringValueOK()
	arr, ok := req.body.Lookup("updates").ArrayOK()
	if !ok {
		return nil, errBadValue("update needs an array of updates")
	}
	vals, _ := arr.Values()
	n, modified := int32(0), int32(0)
	for _, v := range vals {
		u, ok := v.DocumentOK()
		if !ok {
			return nil, errBadValue("each update must be an object")
		}
		if req.db+"."+coll != "config.settings" {
			continue
		}
		q, _ := u.Lookup("q").DocumentOK()
		m, err := compileFilter(q)
		if err != nil {
			return nil, err
		}
		if !m(c.s.balancerSetting()) {
			continue
		}
		stop, ok := balancerUpdate(u.Lookup("u"))
		if !ok {
			return nil, errBadValue("the simulation updates config.settings' balancer document with $set of stopped or mode only")
		}
		n++
		if stop == !c.s.cluster.BalancerEnabled() {
			continue
		}
		modified++
		if stop {
			// As setting stopped does, without waiting for the migration.
			if err := c.s.cluster.DisableBalancer(ctx, 0); err != nil && !errors.Is(err, engine.ErrBalancerTimeout) {
				return nil, errHostUnreachable(err)
			}
		} else if err := c.s.cluster.EnableBalancer(); err != nil {
			return nil, errHostUnreachable(err)
		}
	}
	return doc("n", n, "nModified", modified), nil
}

// balancerUpdate reads {$set: {stopped: b}} or {$set: {mode: m}}.
func balancerUpdate(u bson.RawValue) (stop, ok bool) {
	set, ok := u.Document().Lookup("$set").DocumentOK()
	if !ok {
		return false, false
	}
	if b, ok := set.Lookup("stopped").BooleanOK(); ok {
		return b, true
	}
	if m, ok := set.Lookup("mode").StringValueOK(); ok && (m == "off" || m == "full") {
		return m == "off", true
	}
	return false, false
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
