package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// simclusterRun is a `checkpointd simcluster` a test runs, the lines it
// printed, and the driver clients the test connected to it.
type simclusterRun struct {
	t       *testing.T
	lines   []string
	clients []*mongo.Client
}

// startSimcluster runs `checkpointd simcluster` with args on a free port
// and reads the n lines it prints: the mongos' connection string, then
// one per replica set. When the test ends the clients of connect are
// disconnected, then simcluster is stopped; it must return nil within
// 10 s.
func startSimcluster(t *testing.T, n int, args ...string) *simclusterRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"simcluster", "--addr", "127.0.0.1:0"}, args...), noEnv, pw, stderr)
		pw.Close()
	}()
	r := &simclusterRun{t: t}
	t.Cleanup(func() {
		// The clients end their sessions while the cluster still answers.
		for _, c := range r.clients {
			c.Disconnect(context.Background())
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("simcluster returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("simcluster did not stop after its context was cancelled")
		}
	})
	sc := bufio.NewScanner(pr)
	for len(r.lines) < n && sc.Scan() {
		r.lines = append(r.lines, sc.Text())
	}
	go io.Copy(io.Discard, pr)
	if len(r.lines) != n || !strings.HasPrefix(r.lines[0], "mongodb://127.0.0.1:") {
		t.Fatalf("printed %q; stderr:\n%s", r.lines, stderr.String())
	}
	return r
}

// connect connects the driver to the connection string on line i (the
// mongos' is line 0).
func (r *simclusterRun) connect(i int) *mongo.Client {
	r.t.Helper()
	uri := r.lines[i]
	if i > 0 {
		_, uri, _ = strings.Cut(uri, " ")
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(5 * time.Second).SetHeartbeatInterval(500 * time.Millisecond))
	if err != nil {
		r.t.Fatal(err)
	}
	r.clients = append(r.clients, c)
	return c
}

// TestSimcluster: simcluster prints its mongos' connection string first,
// then each replica set's; the official driver lists the shards through
// the mongos and writes a note on a shard reached as a replica set; the
// command returns when its context ends.
func TestSimcluster(t *testing.T) {
	ctx := context.Background()
	r := startSimcluster(t, 5, "--shards", "3", "--name", "Sim")
	for i, name := range []string{"Sim-shard-2", "Sim-shard-1", "Sim-shard-0", "Sim-config-0"} {
		if line := r.lines[i+1]; !strings.HasPrefix(line, name+" mongodb://127.0.0.1:") || !strings.HasSuffix(line, "/?replicaSet="+name) {
			t.Errorf("line %d = %q, want %s's connection string", i+1, line, name)
		}
	}

	var res struct {
		Shards []struct {
			ID   string `bson:"_id"`
			Host string `bson:"host"`
		} `bson:"shards"`
	}
	if err := r.connect(0).Database("admin").RunCommand(ctx, bson.D{{Key: "listShards", Value: 1}}).Decode(&res); err != nil {
		t.Fatal(err)
	}
	if len(res.Shards) != 3 || res.Shards[0].ID != "Sim-shard-0" {
		t.Fatalf("listShards = %+v", res.Shards)
	}

	shard := r.connect(3)
	if err := shard.Database("admin").RunCommand(ctx, bson.D{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: bson.D{{Key: "hello", Value: "sim"}}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := shard.Database("local").Collection("oplog.rs").CountDocuments(ctx, bson.D{{Key: "o.hello", Value: "sim"}}); err == nil {
		t.Errorf("count answered %d: the simulation serves no aggregate", n)
	}
	if err := shard.Database("local").Collection("oplog.rs").FindOne(ctx, bson.D{{Key: "o.hello", Value: "sim"}}).Err(); err != nil {
		t.Errorf("the note is not in the shard's oplog: %v", err)
	}
}

// TestSimclusterFlags: bad settings are refused before anything listens.
func TestSimclusterFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--shards", "0"},
		{"--shards", "65"},
		{"--name", "bad name"},
		{"--mongodb-version", "seven"},
		{"--log-level", "loud"},
		{"--lost", "Cluster0-shard-9"},
		{"--stepped-down", "mongos"},
	} {
		var out strings.Builder
		err := run(context.Background(), append([]string{"simcluster", "--addr", "127.0.0.1:0"}, args...), noEnv, &out, io.Discard)
		if err == nil || out.Len() != 0 {
			t.Errorf("simcluster %v: err %v, printed %q", args, err, out.String())
		}
	}
}

// TestSimclusterFaults: the fault flags reach the simulation: a balancer
// that will not stop within balancerStop's maxTimeMS, a note that never
// shows up.
func TestSimclusterFaults(t *testing.T) {
	ctx := context.Background()
	r := startSimcluster(t, 3, "--shards", "1", "--stop-delay", "1h", "--lost", "Cluster0-shard-0")
	err := r.connect(0).Database("admin").RunCommand(ctx, bson.D{{Key: "balancerStop", Value: 1}, {Key: "maxTimeMS", Value: 100}}).Err()
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Name != "MaxTimeMSExpired" {
		t.Errorf("balancerStop under --stop-delay: %v", err)
	}
	shard := r.connect(1)
	if err := shard.Database("admin").RunCommand(ctx, bson.D{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: bson.D{{Key: "lost", Value: true}}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := shard.Database("local").Collection("oplog.rs").FindOne(ctx, bson.D{{Key: "o.lost", Value: true}}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("a lost note: %v, want no document", err)
	}
}
