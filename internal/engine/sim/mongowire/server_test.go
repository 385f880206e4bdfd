package mongowire_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func start(t *testing.T, shards int, opt mongowire.Options) *mongowire.Server {
	t.Helper()
	cl, err := sim.New(mongowire.Sharded("Cluster0", shards), clock.System, 1, sim.Config{})
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

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(3 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

func TestSmoke(t *testing.T) {
	srv := start(t, 2, mongowire.Options{})
	ctx := context.Background()
	c := connect(t, srv.URI())
	var res bson.M
	if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "listShards", Value: 1}}).Decode(&res); err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", res)
	rs := connect(t, srv.ReplicaSetURI("Cluster0-shard-0"))
	if err := rs.Database("admin").RunCommand(ctx, bson.D{{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: bson.D{{Key: "x", Value: 1}}}}).Err(); err != nil {
		t.Fatal(err)
	}
	cur, err := rs.Database("local").Collection("oplog.rs").Find(ctx, bson.D{{Key: "op", Value: "n"}}, options.Find().SetCursorType(options.TailableAwait))
	if err != nil {
		t.Fatal(err)
	}
	for cur.TryNext(ctx) {
		t.Logf("%v", cur.Current)
	}
	if cur.Err() != nil {
		t.Fatal(cur.Err())
	}
}
