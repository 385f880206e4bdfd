package mongowire_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

const (
	shard0 = "Cluster0-shard-0"
	shard1 = "Cluster0-shard-1"
	config = "Cluster0-config-0"
)

func start(t *testing.T, opt mongowire.Options) *mongowire.Server {
	t.Helper()
	cl, err := sim.New(mongowire.Sharded("Cluster0", 2), clock.System, 1, sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mongowire.Start(cl, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// connect opens a driver client. A short server selection timeout makes
// the fault tests fail fast where a real client would wait 30 s; a short
// heartbeat bounds how long Disconnect can wait for the monitor's
// awaitable hello when it races the client's first heartbeats (the
// driver's, with any 4.4+ server).
func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(2 * time.Second).SetHeartbeatInterval(500 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

func run(t *testing.T, c *mongo.Client, db string, cmd bson.D) bson.Raw {
	t.Helper()
	raw, err := c.Database(db).RunCommand(context.Background(), cmd).Raw()
	if err != nil {
		t.Fatalf("%s: %v", cmd[0].Key, err)
	}
	return raw
}

// code returns the server's error code of a command error, or 0.
func code(err error) int32 {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

func note(t *testing.T, c *mongo.Client, data bson.D) {
	t.Helper()
	run(t, c, "admin", bson.D{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: data}})
}

func oplog(c *mongo.Client) *mongo.Collection { return c.Database("local").Collection("oplog.rs") }

// TestMongos: the mongos answers the handshake as a mongos, and lists
// the shards and the config server where they listen.
func TestMongos(t *testing.T) {
	srv := start(t, mongowire.Options{})
	c := connect(t, srv.URI())

	hello := run(t, c, "admin", bson.D{{Key: "hello", Value: 1}})
	if msg, _ := hello.Lookup("msg").StringValueOK(); msg != "isdbgrid" {
		t.Errorf("hello.msg = %q", msg)
	}
	if w, ok := hello.Lookup("isWritablePrimary").BooleanOK(); !w || !ok {
		t.Errorf("hello.isWritablePrimary = %v", hello.Lookup("isWritablePrimary"))
	}
	if v, ok := hello.Lookup("maxWireVersion").Int32OK(); !ok || v != 21 {
		t.Errorf("hello.maxWireVersion = %v, want int32 21 (7.0)", hello.Lookup("maxWireVersion"))
	}

	shards := run(t, c, "admin", bson.D{{Key: "listShards", Value: 1}})
	if ok, isDouble := shards.Lookup("ok").DoubleOK(); !isDouble || ok != 1 {
		t.Errorf("listShards ok = %v, want the double 1.0", shards.Lookup("ok"))
	}
	vals, _ := shards.Lookup("shards").Array().Values()
	if len(vals) != 2 {
		t.Fatalf("listShards: %d shards", len(vals))
	}
	for i, name := range []string{shard0, shard1} {
		d := vals[i].Document()
		if id := d.Lookup("_id").StringValue(); id != name {
			t.Errorf("shard %d _id = %q, want %q", i, id, name)
		}
		if host, want := d.Lookup("host").StringValue(), name+"/"+srv.ReplicaSetAddr(name); host != want {
			t.Errorf("shard %s host = %q, want %q", name, host, want)
		}
		if st, ok := d.Lookup("state").Int32OK(); !ok || st != 1 {
			t.Errorf("shard %s state = %v, want int32 1", name, d.Lookup("state"))
		}
	}

	m := run(t, c, "admin", bson.D{{Key: "getShardMap", Value: 1}})
	if got, want := m.Lookup("map", "config").StringValue(), config+"/"+srv.ReplicaSetAddr(config); got != want {
		t.Errorf("getShardMap map.config = %q, want %q", got, want)
	}
	if got := m.Lookup("hosts", srv.ReplicaSetAddr(shard1)).StringValue(); got != shard1 {
		t.Errorf("getShardMap hosts[%s] = %q", srv.ReplicaSetAddr(shard1), got)
	}

	info := run(t, c, "admin", bson.D{{Key: "buildInfo", Value: 1}})
	if v := info.Lookup("version").StringValue(); v != mongowire.DefaultVersion {
		t.Errorf("buildInfo.version = %q", v)
	}
	run(t, c, "admin", bson.D{{Key: "ping", Value: 1}})

	for _, tt := range []struct {
		db   string
		cmd  string
		code int32
	}{
		{"test", "listShards", 13},       // admin only
		{"admin", "appendOplogNote", 59}, // a shard's command
		{"admin", "noSuchCommand", 59},
	} {
		err := c.Database(tt.db).RunCommand(context.Background(), bson.D{{Key: tt.cmd, Value: 1}}).Err()
		if code(err) != tt.code {
			t.Errorf("%s on %s: %v, want code %d", tt.cmd, tt.db, err, tt.code)
		}
	}
}

// TestReplicaSets: each replica set, reached as a replica set, has its
// primary; a note appended is in its oplog with a timestamp of this
// second and the replica set's own ordinal within it.
func TestReplicaSets(t *testing.T) {
	srv := start(t, mongowire.Options{})
	ctx := context.Background()
	for _, name := range []string{shard0, shard1, config} {
		c := connect(t, srv.ReplicaSetURI(name))
		hello := run(t, c, "admin", bson.D{{Key: "hello", Value: 1}})
		if got := hello.Lookup("setName").StringValue(); got != name {
			t.Errorf("%s: setName %q", name, got)
		}
		if p, me := hello.Lookup("primary").StringValue(), hello.Lookup("me").StringValue(); p != me || me != srv.ReplicaSetAddr(name) {
			t.Errorf("%s: primary %q, me %q", name, p, me)
		}

		before := time.Now().Unix()
		for i := range 3 {
			note(t, c, bson.D{{Key: "checkpointToken", Value: bson.D{{Key: "n", Value: int32(i)}, {Key: "rs", Value: name}}}})
		}
		cur, err := oplog(c).Find(ctx, bson.D{{Key: "op", Value: "n"}, {Key: "o.checkpointToken.rs", Value: name}})
		if err != nil {
			t.Fatal(err)
		}
		var entries []struct {
			Op   string         `bson:"op"`
			NS   string         `bson:"ns"`
			TS   bson.Timestamp `bson:"ts"`
			T    int64          `bson:"t"`
			V    int64          `bson:"v"`
			Wall time.Time      `bson:"wall"`
			O    struct {
				Token struct {
					N int32 `bson:"n"`
				} `bson:"checkpointToken"`
			} `bson:"o"`
		}
		if err := cur.All(ctx, &entries); err != nil {
			t.Fatal(err)
		}
		if len(entries) != 3 {
			t.Fatalf("%s: %d notes in the oplog, want 3", name, len(entries))
		}
		for i, e := range entries {
			if e.O.Token.N != int32(i) || e.NS != "" || e.T != 1 || e.V != 2 {
				t.Errorf("%s: entry %d = %+v", name, i, e)
			}
			if int64(e.TS.T) < before || int64(e.TS.T) > time.Now().Unix() || e.TS.I < 1 {
				t.Errorf("%s: entry %d ts = %v", name, i, e.TS)
			}
			if i > 0 && !after(e.TS, entries[i-1].TS) {
				t.Errorf("%s: ts %v not after %v", name, e.TS, entries[i-1].TS)
			}
			if e.TS.T == entries[0].TS.T && e.TS.I != entries[0].TS.I+uint32(i) {
				// no other writes on a quiet cluster: ordinals in one second are consecutive
				t.Errorf("%s: entry %d ts %v after %v", name, i, e.TS, entries[0].TS)
			}
		}

		// $gt on ts: only what follows.
		n, err := oplog(c).CountDocuments(ctx, bson.D{{Key: "op", Value: "n"}, {Key: "ts", Value: bson.D{{Key: "$gt", Value: entries[0].TS}}}})
		if err == nil {
			t.Errorf("%s: count through aggregate answered %d; the simulation serves find only", name, n)
		}
		cur, err = oplog(c).Find(ctx, bson.D{{Key: "o.checkpointToken.rs", Value: name}, {Key: "ts", Value: bson.D{{Key: "$gt", Value: entries[0].TS}}}})
		if err != nil {
			t.Fatal(err)
		}
		var later []bson.Raw
		if err := cur.All(ctx, &later); err != nil || len(later) != 2 {
			t.Errorf("%s: $gt the first note: %d entries, %v", name, len(later), err)
		}
	}
}

func after(a, b bson.Timestamp) bool { return a.T > b.T || a.T == b.T && a.I > b.I }

// TestTailableCursor: a tailable awaitData cursor opened before a note is
// written returns it when it comes, as an oplog tailer reads it.
func TestTailableCursor(t *testing.T) {
	srv := start(t, mongowire.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := connect(t, srv.ReplicaSetURI(shard1))
	id := bson.NewObjectID()
	start := bson.Timestamp{T: uint32(time.Now().Unix() - 1)}
	cur, err := oplog(c).Find(ctx,
		bson.D{{Key: "ts", Value: bson.D{{Key: "$gte", Value: start}}}, {Key: "op", Value: "n"}, {Key: "o.checkpointToken.checkpointId", Value: id}},
		options.Find().SetCursorType(options.TailableAwait).SetMaxAwaitTime(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	if cur.TryNext(ctx) {
		t.Fatalf("found %v before it was written", cur.Current)
	}
	note(t, c, bson.D{{Key: "checkpointToken", Value: bson.D{{Key: "checkpointId", Value: bson.NewObjectID()}}}}) // another checkpoint's
	note(t, c, bson.D{{Key: "checkpointToken", Value: bson.D{{Key: "checkpointId", Value: id}}}})
	if !cur.Next(ctx) {
		t.Fatalf("tailable cursor: %v", cur.Err())
	}
	if got := cur.Current.Lookup("o", "checkpointToken", "checkpointId").ObjectID(); got != id {
		t.Errorf("got the note of %v", got)
	}
	if cur.ID() == 0 {
		t.Error("the tailable cursor died")
	}
}

// TestOneOplog: a token the in-process driver writes is in the oplog the
// wire serves, at the timestamp the in-process discovery returns.
func TestOneOplog(t *testing.T) {
	srv := start(t, mongowire.Options{})
	ctx := context.Background()
	cl := srv.Cluster()
	m := cl.Members()[0]
	tok := engine.Token{Checkpoint: backup.MustParseObjectID("6b8cd61180eef547110159d9")}
	if err := cl.WriteToken(ctx, m, tok); err != nil {
		t.Fatal(err)
	}
	ts, err := cl.DiscoverToken(ctx, m, tok, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := connect(t, srv.ReplicaSetURI(m.ReplicaSetName))
	var e struct {
		TS bson.Timestamp `bson:"ts"`
	}
	err = oplog(c).FindOne(ctx, bson.D{{Key: "o.checkpointToken.checkpointId", Value: bson.ObjectID(tok.Checkpoint)}}).Decode(&e)
	if err != nil {
		t.Fatal(err)
	}
	if e.TS.T != uint32(ts.Date.Unix()) || e.TS.I != ts.Increment {
		t.Errorf("wire ts %v, in-process %v", e.TS, ts)
	}
}

func balancerMode(t *testing.T, c *mongo.Client) (string, bool) {
	t.Helper()
	st := run(t, c, "admin", bson.D{{Key: "balancerStatus", Value: 1}})
	if _, ok := st.Lookup("numBalancerRounds").Int64OK(); !ok {
		t.Errorf("balancerStatus.numBalancerRounds = %v, want a long", st.Lookup("numBalancerRounds"))
	}
	return st.Lookup("mode").StringValue(), st.Lookup("inBalancerRound").Boolean()
}

// TestBalancer: balancerStop and balancerStart through the mongos turn
// the simulation's balancer off and on, and balancerStatus says so.
func TestBalancer(t *testing.T) {
	srv := start(t, mongowire.Options{})
	c := connect(t, srv.URI())
	if mode, _ := balancerMode(t, c); mode != "full" {
		t.Errorf("mode %q at start", mode)
	}
	run(t, c, "admin", bson.D{{Key: "balancerStop", Value: 1}, {Key: "maxTimeMS", Value: int32(5000)}})
	if mode, _ := balancerMode(t, c); mode != "off" || srv.Cluster().BalancerEnabled() {
		t.Errorf("after balancerStop: mode %q, enabled %v", mode, srv.Cluster().BalancerEnabled())
	}
	var setting struct {
		Stopped bool   `bson:"stopped"`
		Mode    string `bson:"mode"`
	}
	if err := c.Database("config").Collection("settings").FindOne(context.Background(), bson.D{{Key: "_id", Value: "balancer"}}).Decode(&setting); err != nil || !setting.Stopped || setting.Mode != "off" {
		t.Errorf("config.settings balancer = %+v, %v", setting, err)
	}
	run(t, c, "admin", bson.D{{Key: "balancerStart", Value: 1}})
	if mode, _ := balancerMode(t, c); mode != "full" || !srv.Cluster().BalancerEnabled() {
		t.Errorf("after balancerStart: mode %q", mode)
	}
	if st := srv.Cluster().Stats(); st.Stops != 1 || st.Starts != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestBalancerWillNotStop: with a migration running longer than
// balancerStop's maxTimeMS, the command fails with MaxTimeMSExpired and
// the balancer is left disabled, the migration still running.
func TestBalancerWillNotStop(t *testing.T) {
	srv := start(t, mongowire.Options{})
	c := connect(t, srv.URI())
	srv.Cluster().Migrate(time.Hour)
	err := c.Database("admin").RunCommand(context.Background(), bson.D{{Key: "balancerStop", Value: 1}, {Key: "maxTimeMS", Value: int32(200)}}).Err()
	if code(err) != 50 {
		t.Fatalf("balancerStop during a migration: %v, want MaxTimeMSExpired (50)", err)
	}
	if mode, round := balancerMode(t, c); mode != "off" || !round {
		t.Errorf("mode %q, inBalancerRound %v; want off and in a round", mode, round)
	}

	srv.Cluster().SetFaults(sim.Faults{StartErr: errors.New("config server unreachable")})
	if err := c.Database("admin").RunCommand(context.Background(), bson.D{{Key: "balancerStart", Value: 1}}).Err(); code(err) != 6 {
		t.Errorf("balancerStart under StartErr: %v, want HostUnreachable (6)", err)
	}
	if srv.Cluster().BalancerEnabled() {
		t.Error("a failed start enabled the balancer")
	}
}

// TestLegacyBalancer: a 3.2 mongos knows no balancer commands; the
// balancer is stopped by setting config.settings' stopped, and its lock
// says whether a migration still runs.
func TestLegacyBalancer(t *testing.T) {
	srv := start(t, mongowire.Options{Version: "3.2.22"})
	c := connect(t, srv.URI())
	ctx := context.Background()
	if v := run(t, c, "admin", bson.D{{Key: "buildInfo", Value: 1}}).Lookup("version").StringValue(); v != "3.2.22" {
		t.Errorf("buildInfo.version = %q", v)
	}
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "balancerStop", Value: 1}}).Err(); code(err) != 59 {
		t.Errorf("balancerStop on 3.2: %v, want CommandNotFound (59)", err)
	}
	srv.Cluster().Migrate(time.Hour)
	settings := c.Database("config").Collection("settings")
	res, err := settings.UpdateOne(ctx, bson.D{{Key: "_id", Value: "balancer"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "stopped", Value: true}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Fatalf("update config.settings: %+v, %v", res, err)
	}
	if srv.Cluster().BalancerEnabled() {
		t.Error("balancer still enabled")
	}
	var lock struct {
		State int32 `bson:"state"`
	}
	if err := c.Database("config").Collection("locks").FindOne(ctx, bson.D{{Key: "_id", Value: "balancer"}}).Decode(&lock); err != nil || lock.State != 2 {
		t.Errorf("balancer lock during the migration: %+v, %v", lock, err)
	}
	if _, err := settings.UpdateOne(ctx, bson.D{{Key: "_id", Value: "balancer"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "stopped", Value: false}}}}); err != nil || !srv.Cluster().BalancerEnabled() {
		t.Errorf("restart through config.settings: %v, enabled %v", err, srv.Cluster().BalancerEnabled())
	}
}

// TestUnreachableShard: an unreachable shard's port answers nothing, the
// others go on, and it answers again once the fault is cleared.
func TestUnreachableShard(t *testing.T) {
	srv := start(t, mongowire.Options{})
	ctx := context.Background()
	c1 := connect(t, srv.ReplicaSetURI(shard1))
	run(t, c1, "admin", bson.D{{Key: "ping", Value: 1}})
	srv.Cluster().SetFaults(sim.Faults{Unreachable: []string{shard1}})

	c0 := connect(t, srv.ReplicaSetURI(shard0))
	note(t, c0, bson.D{{Key: "x", Value: 1}})
	err := c1.Database("admin").RunCommand(ctx, bson.D{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: bson.D{{Key: "x", Value: 1}}}}).Err()
	if err == nil {
		t.Fatal("appendOplogNote on an unreachable shard succeeded")
	}
	fresh, _ := mongo.Connect(options.Client().ApplyURI(srv.ReplicaSetURI(shard1)).SetServerSelectionTimeout(500 * time.Millisecond))
	defer fresh.Disconnect(ctx)
	if err := fresh.Ping(ctx, nil); err == nil {
		t.Fatal("a new client reached an unreachable shard")
	}

	srv.Cluster().SetFaults(sim.Faults{})
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := c1.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("shard still unreachable after the fault was cleared: %v", err)
		}
	}
}

// TestSlowShard: every command of a slow shard takes its delay.
func TestSlowShard(t *testing.T) {
	srv := start(t, mongowire.Options{})
	c := connect(t, srv.ReplicaSetURI(shard0))
	run(t, c, "admin", bson.D{{Key: "ping", Value: 1}})
	const delay = 300 * time.Millisecond
	srv.Cluster().SetFaults(sim.Faults{Slow: map[string]time.Duration{shard0: delay}})
	for _, cmd := range []bson.D{
		{{Key: "ping", Value: 1}},
		{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: bson.D{{Key: "x", Value: 1}}}},
	} {
		began := time.Now()
		run(t, c, "admin", cmd)
		if took := time.Since(began); took < delay {
			t.Errorf("%s on a slow shard took %v, less than its %v", cmd[0].Key, took, delay)
		}
	}
}

// TestLostToken: a lost note is acknowledged but never shows up in the
// oplog; the next one does.
func TestLostToken(t *testing.T) {
	srv := start(t, mongowire.Options{})
	ctx := context.Background()
	c := connect(t, srv.ReplicaSetURI(config))
	srv.Cluster().SetFaults(sim.Faults{Lost: []string{config}})
	note(t, c, bson.D{{Key: "lost", Value: true}})
	srv.Cluster().SetFaults(sim.Faults{})
	note(t, c, bson.D{{Key: "lost", Value: false}})
	cur, err := oplog(c).Find(ctx, bson.D{{Key: "o.lost", Value: bson.D{{Key: "$exists", Value: true}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []bson.Raw
	if err := cur.All(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Lookup("o", "lost").Boolean() {
		t.Errorf("oplog holds %v; want only the note not lost", got)
	}
}

// TestStepDown: a primary that stepped down answers hello as a
// secondary and refuses notes with NotWritablePrimary; the replica set
// has no primary until it is elected again, in a new term.
func TestStepDown(t *testing.T) {
	srv := start(t, mongowire.Options{})
	ctx := context.Background()
	rs := connect(t, srv.ReplicaSetURI(shard0))
	note(t, rs, bson.D{{Key: "term", Value: 1}})
	oldElection := run(t, rs, "admin", bson.D{{Key: "hello", Value: 1}}).Lookup("electionId").ObjectID()

	srv.Cluster().SetFaults(sim.Faults{SteppedDown: []string{shard0}})
	direct := connect(t, "mongodb://"+srv.ReplicaSetAddr(shard0)+"/?directConnection=true")
	hello := run(t, direct, "admin", bson.D{{Key: "hello", Value: 1}})
	if hello.Lookup("isWritablePrimary").Boolean() || !hello.Lookup("secondary").Boolean() {
		t.Errorf("hello after step-down: %v", hello)
	}
	if _, err := hello.LookupErr("primary"); err == nil {
		t.Errorf("hello after step-down names a primary: %v", hello)
	}
	err := direct.Database("admin").RunCommand(ctx, bson.D{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: bson.D{{Key: "x", Value: 1}}}}).Err()
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != 10107 || ce.Name != "NotWritablePrimary" {
		t.Errorf("appendOplogNote on a stepped-down primary: %v", err)
	}
	if err := rs.Database("admin").RunCommand(ctx, bson.D{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: bson.D{{Key: "x", Value: 1}}}}).Err(); err == nil {
		t.Error("the replica set took a write with no primary")
	}

	srv.Cluster().SetFaults(sim.Faults{})
	note(t, rs, bson.D{{Key: "term", Value: 2}})
	var e struct {
		T int64 `bson:"t"`
	}
	if err := oplog(rs).FindOne(ctx, bson.D{{Key: "o.term", Value: 2}}).Decode(&e); err != nil || e.T != 2 {
		t.Errorf("note after re-election: t %d, %v", e.T, err)
	}
	newElection := run(t, rs, "admin", bson.D{{Key: "hello", Value: 1}}).Lookup("electionId").ObjectID()
	if newElection.Hex() <= oldElection.Hex() {
		t.Errorf("electionId %v after re-election, not above %v", newElection, oldElection)
	}
}

// TestCursors: a find larger than its batch leaves a cursor that getMore
// reads and killCursors closes; a filter operator the simulation does
// not know is refused as the server refuses it.
func TestCursors(t *testing.T) {
	srv := start(t, mongowire.Options{})
	ctx := context.Background()
	c := connect(t, srv.ReplicaSetURI(shard0))
	for i := range 5 {
		note(t, c, bson.D{{Key: "i", Value: int32(i)}})
	}
	cur, err := oplog(c).Find(ctx, bson.D{{Key: "o.i", Value: bson.D{{Key: "$in", Value: bson.A{1, 2, 3, int64(4)}}}}}, options.Find().SetBatchSize(2))
	if err != nil {
		t.Fatal(err)
	}
	var got []bson.Raw
	if err := cur.All(ctx, &got); err != nil || len(got) != 4 {
		t.Errorf("batched find: %d documents, %v", len(got), err)
	}

	cur, err = oplog(c).Find(ctx, bson.D{{Key: "op", Value: "n"}}, options.Find().SetBatchSize(2).SetSort(bson.D{{Key: "$natural", Value: -1}}))
	if err != nil {
		t.Fatal(err)
	}
	id := cur.ID()
	if !cur.Next(ctx) || cur.Current.Lookup("o", "i").Int32() != 4 {
		t.Errorf("reverse natural order starts with %v", cur.Current)
	}
	if id == 0 {
		t.Fatal("no cursor left open after a partial batch")
	}
	if err := cur.Close(ctx); err != nil {
		t.Fatal(err)
	}
	err = c.Database("local").RunCommand(ctx, bson.D{{Key: "getMore", Value: id}, {Key: "collection", Value: "oplog.rs"}}).Err()
	if code(err) != 43 {
		t.Errorf("getMore on a killed cursor: %v, want CursorNotFound (43)", err)
	}

	for _, tt := range []struct {
		projection bson.D
		keys       string
	}{
		{bson.D{{Key: "ts", Value: 1}}, "ts"},
		{bson.D{{Key: "o", Value: 0}, {Key: "wall", Value: false}}, "op ns ts t v"},
	} {
		raw, err := oplog(c).FindOne(ctx, bson.D{{Key: "o.i", Value: 3}}, options.FindOne().SetProjection(tt.projection)).Raw()
		if err != nil {
			t.Fatal(err)
		}
		elems, _ := raw.Elements()
		var keys []string
		for _, e := range elems {
			keys = append(keys, e.Key())
		}
		if got := strings.Join(keys, " "); got != tt.keys {
			t.Errorf("projection %v: fields %q, want %q", tt.projection, got, tt.keys)
		}
	}
	for _, p := range []bson.D{{{Key: "o.i", Value: 1}}, {{Key: "ts", Value: 1}, {Key: "o", Value: 0}}} {
		if err := oplog(c).FindOne(ctx, bson.D{}, options.FindOne().SetProjection(p)).Err(); code(err) != 2 {
			t.Errorf("projection %v: %v, want BadValue (2)", p, err)
		}
	}

	_, err = oplog(c).Find(ctx, bson.D{{Key: "o.i", Value: bson.D{{Key: "$regex", Value: "x"}}}})
	if code(err) != 2 || !strings.Contains(err.Error(), "$regex") {
		t.Errorf("find with $regex: %v, want BadValue (2)", err)
	}
}

// TestMonitorStreams: the driver's monitor awaits hello replies (the
// awaitable hello, answered with moreToCome, then streamed), and a change
// of state reaches it at once rather than at its next heartbeat, 10 s
// away.
func TestMonitorStreams(t *testing.T) {
	srv := start(t, mongowire.Options{})
	awaited := make(chan struct{}, 100)
	kinds := make(chan string, 100)
	mon := &event.ServerMonitor{
		ServerHeartbeatSucceeded: func(e *event.ServerHeartbeatSucceededEvent) {
			if e.Awaited {
				awaited <- struct{}{}
			}
		},
		ServerDescriptionChanged: func(e *event.ServerDescriptionChangedEvent) { kinds <- e.NewDescription.Kind },
	}
	c, err := mongo.Connect(options.Client().ApplyURI(srv.ReplicaSetURI(shard0)).SetServerMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(context.Background())
	if err := c.Ping(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	srv.Cluster().SetFaults(sim.Faults{}) // a new topology version answers the awaiting hello now
	select {
	case <-awaited:
	case <-time.After(15 * time.Second):
		t.Fatal("no awaited heartbeat: the monitor does not stream")
	}
	srv.Cluster().SetFaults(sim.Faults{SteppedDown: []string{shard0}})
	timeout := time.After(5 * time.Second)
	for {
		select {
		case k := <-kinds:
			if k == "RSSecondary" {
				return
			}
		case <-timeout:
			t.Fatal("the step-down did not reach the monitor before its next heartbeat")
		}
	}
}

// TestCappedPositionLost: a tailable cursor whose position rolled off the
// bounded oplog dies with CappedPositionLost, as on a real capped
// collection.
func TestCappedPositionLost(t *testing.T) {
	cl, err := sim.New(mongowire.Sharded("Cluster0", 1), clock.System, 1, sim.Config{OplogSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mongowire.Start(cl, mongowire.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	c := connect(t, srv.ReplicaSetURI(shard0))
	cur, err := oplog(c).Find(ctx, bson.D{{Key: "o.never", Value: true}}, options.Find().SetCursorType(options.Tailable))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	for i := range 20 {
		note(t, c, bson.D{{Key: "i", Value: int32(i)}})
	}
	// The first TryNext only consumes the empty first batch; a getMore
	// follows.
	for range 3 {
		if cur.TryNext(ctx) {
			t.Fatalf("read %v", cur.Current)
		}
		if cur.Err() != nil {
			break
		}
	}
	if code(cur.Err()) != 136 {
		t.Errorf("getMore behind the oplog: %v, want CappedPositionLost (136)", cur.Err())
	}
}

// TestMalformedMessages: a connection that sends what is not a wire
// protocol message (too short, an unknown opcode, an OP_MSG without a
// body, a command as OP_QUERY other than hello) is closed; the server
// goes on answering others.
func TestMalformedMessages(t *testing.T) {
	srv := start(t, mongowire.Options{})
	header := func(length, op int32, rest ...byte) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(length))
		b = binary.LittleEndian.AppendUint32(b, 1) // requestID
		b = binary.LittleEndian.AppendUint32(b, 0) // responseTo
		b = binary.LittleEndian.AppendUint32(b, uint32(op))
		return append(b, rest...)
	}
	ping, _ := bson.Marshal(bson.D{{Key: "ping", Value: 1}})
	query := append(append([]byte{0, 0, 0, 0}, "admin.$cmd\x00"...), 0, 0, 0, 0, 1, 0, 0, 0)
	query = append(query, ping...)
	for name, msg := range map[string][]byte{
		"short":          {1, 0, 0, 0},
		"huge length":    header(1<<30, 2013),
		"unknown opcode": header(20, 9999, 0, 0, 0, 0),
		"empty OP_MSG":   header(20, 2013, 0, 0, 0, 0),
		"OP_QUERY ping":  header(int32(16+len(query)), 2004, query...),
	} {
		nc, err := net.Dial("tcp", srv.ReplicaSetAddr(shard0))
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write(msg)
		if n, err := nc.Read(make([]byte, 1024)); err == nil {
			t.Errorf("%s: answered %d bytes", name, n)
		}
		nc.Close()
	}
	run(t, connect(t, srv.ReplicaSetURI(shard0)), "admin", bson.D{{Key: "ping", Value: 1}})
}
