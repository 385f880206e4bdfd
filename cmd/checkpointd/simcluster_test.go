package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestSimcluster: simcluster prints its mongos' connection string first,
// then each replica set's; the official driver lists the shards through
// the mongos and writes a note on a shard reached as a replica set; the
// command returns when its context ends.
func TestSimcluster(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"simcluster", "--addr", "127.0.0.1:0", "--shards", "3", "--name", "Sim"}, noEnv, pw, stderr)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var lines []string
	for len(lines) < 5 && sc.Scan() {
		lines = append(lines, sc.Text())
	}
	go io.Copy(io.Discard, pr)
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "mongodb://127.0.0.1:") {
		t.Fatalf("printed %q; stderr:\n%s", lines, stderr.String())
	}
	for i, name := range []string{"Sim-shard-2", "Sim-shard-1", "Sim-shard-0", "Sim-config-0"} {
		if !strings.HasPrefix(lines[i+1], name+" mongodb://127.0.0.1:") || !strings.HasSuffix(lines[i+1], "/?replicaSet="+name) {
			t.Errorf("line %d = %q, want %s's connection string", i+1, lines[i+1], name)
		}
	}

	client, err := mongo.Connect(options.Client().ApplyURI(lines[0]).SetServerSelectionTimeout(5 * time.Second).SetHeartbeatInterval(500 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background()) // if the test fails first
	var res struct {
		Shards []struct {
			ID   string `bson:"_id"`
			Host string `bson:"host"`
		} `bson:"shards"`
	}
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "listShards", Value: 1}}).Decode(&res); err != nil {
		t.Fatal(err)
	}
	if len(res.Shards) != 3 || res.Shards[0].ID != "Sim-shard-0" {
		t.Fatalf("listShards = %+v", res.Shards)
	}

	_, shardURI, _ := strings.Cut(lines[3], " ")
	shard, err := mongo.Connect(options.Client().ApplyURI(shardURI).SetServerSelectionTimeout(5 * time.Second).SetHeartbeatInterval(500 * time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer shard.Disconnect(context.Background())
	if err := shard.Database("admin").RunCommand(ctx, bson.D{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: bson.D{{Key: "hello", Value: "sim"}}}}).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := shard.Database("local").Collection("oplog.rs").CountDocuments(ctx, bson.D{{Key: "o.hello", Value: "sim"}}); err == nil {
		t.Errorf("count answered %d: the simulation serves no aggregate", n)
	}
	if err := shard.Database("local").Collection("oplog.rs").FindOne(ctx, bson.D{{Key: "o.hello", Value: "sim"}}).Err(); err != nil {
		t.Errorf("the note is not in the shard's oplog: %v", err)
	}

	// The clients end their sessions while the cluster still answers.
	client.Disconnect(ctx)
	shard.Disconnect(ctx)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("simcluster returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("simcluster did not stop after its context was cancelled")
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
	} {
		var out strings.Builder
		err := run(context.Background(), append([]string{"simcluster", "--addr", "127.0.0.1:0"}, args...), noEnv, &out, io.Discard)
		if err == nil || out.Len() != 0 {
			t.Errorf("simcluster %v: err %v, printed %q", args, err, out.String())
		}
	}
}
