package agent_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/checkpointd/checkpointd/internal/agent"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
)

// TestCheckpointsOnEveryAPI: the checkpoints an agent takes through the
// official driver of a wire-simulated cluster, on a 15-minute schedule
// run 900 times faster, are served on all three API generations, parts
// in the API's order (shards by descending name, then the config
// servers), each part's token timestamp the ts of the token's entry in
// that replica set's oplog.
func TestCheckpointsOnEveryAPI(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	stop := runAgent(t, e.config(t, e.driver(t, srv), t.TempDir(), nil))
	waitFor(t, "3 checkpoints", func() bool { return len(e.checkpoints(t)) >= 3 })
	stop()
	stored := e.checkpoints(t)
	oplogTS := oplogReader(t, srv)
	wantOrder := []string{"Shop0-shard-1", "Shop0-shard-0", "Shop0-config-0"}

	ctx := context.Background()
	for _, api := range client.APIs {
		t.Run(string(api), func(t *testing.T) {
			cl, err := client.New(client.Config{BaseURL: e.URL, API: api, Credentials: e.key})
			if err != nil {
				t.Fatal(err)
			}
			name := e.Cluster.Name
			if api == client.CloudManager {
				name = e.Cluster.ID.Hex()
			}
			page, err := cl.ListAllCheckpoints(ctx, e.Cluster.GroupID.Hex(), name, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Results) != len(stored) {
				t.Fatalf("%d checkpoints served, %d stored", len(page.Results), len(stored))
			}
			for _, cp := range page.Results {
				if !cp.Restorable || cp.Timestamp.Truncate(15*time.Minute) != cp.Timestamp || cp.Started.Before(cp.Timestamp) {
					t.Errorf("checkpoint %s: restorable %t, timestamp %s, started %s", cp.ID, cp.Restorable, cp.Timestamp, cp.Started)
				}
				var order []string
				for _, p := range cp.Parts {
					order = append(order, p.ReplicaSetName)
					if !p.TokenDiscovered || p.TokenTimestamp == nil {
						t.Errorf("checkpoint %s part %s: token not discovered", cp.ID, p.ReplicaSetName)
						continue
					}
					ts := oplogTS(p.ReplicaSetName, cp.ID)
					if got := (bson.Timestamp{T: uint32(p.TokenTimestamp.Date.Unix()), I: p.TokenTimestamp.Increment}); got != ts || ts.I == 0 {
						t.Errorf("checkpoint %s part %s: token timestamp %v, the oplog's %v", cp.ID, p.ReplicaSetName, got, ts)
					}
				}
				if !slices.Equal(order, wantOrder) {
					t.Errorf("checkpoint %s: parts %v; want %v", cp.ID, order, wantOrder)
				}
			}
		})
	}
}

// oplogReader returns a function reading the ts of a checkpoint's token
// entry in a replica set's oplog, as the simulation wrote it.
func oplogReader(t *testing.T, srv *mongowire.Server) func(set, checkpoint string) bson.Timestamp {
	clients := map[string]*mongo.Client{}
	return func(set, checkpoint string) bson.Timestamp {
		t.Helper()
		c := clients[set]
		if c == nil {
			var err error
			if c, err = mongo.Connect(options.Client().ApplyURI(srv.ReplicaSetURI(set))); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Disconnect(context.Background()) })
			clients[set] = c
		}
		id, err := bson.ObjectIDFromHex(checkpoint)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			TS bson.Timestamp `bson:"ts"`
		}
		if err := c.Database("local").Collection("oplog.rs").FindOne(context.Background(),
			bson.D{{Key: "op", Value: "n"}, {Key: "o.checkpointdToken", Value: id}}).Decode(&e); err != nil {
			t.Fatalf("token of %s in %s's oplog: %v", checkpoint, set, err)
		}
		return e.TS
	}
}

// TestLegacyBalancer: on a 3.2 cluster, which has no balancer commands,
// the balancer is stopped and started through config.settings, and the
// checkpoints are taken as on a current one.
func TestLegacyBalancer(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{Version: "3.2.22"})
	drv := e.driver(t, srv)
	if v := drv.Topology().Version; v != "3.2.22" {
		t.Fatalf("version %q", v)
	}
	stop := runAgent(t, e.config(t, drv, t.TempDir(), nil))
	waitFor(t, "2 checkpoints", func() bool { return len(e.checkpoints(t)) >= 2 })
	stop()
	st := srv.Cluster().Stats()
	if st.Stops < 2 || st.Starts < 2 || !srv.Cluster().BalancerEnabled() {
		t.Errorf("%d stops, %d starts, balancer enabled %t", st.Stops, st.Starts, srv.Cluster().BalancerEnabled())
	}
	for _, cp := range e.checkpoints(t) {
		if !cp.Restorable {
			t.Errorf("checkpoint %s not restorable", cp.ID.Hex())
		}
	}
}

// TestTopologyMismatch: a cluster the server describes with other shards
// than the mongos lists is not scheduled, and the log says how they
// differ; once the description is corrected, checkpoints are taken.
func TestTopologyMismatch(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	wrong := e.Cluster
	wrong.Shards = append(slices.Clone(wrong.Shards), backup.Shard{Name: "Shop0-shard-9", ReplicaSetName: "Shop0-shard-9"})
	e.UpdateCluster(t, wrong)
	var logs logBuffer
	m := agent.NewMetrics(nil)
	cfg := e.config(t, e.driver(t, srv), t.TempDir(), logs.logger())
	cfg.Metrics = m
	stop := runAgent(t, cfg)
	waitFor(t, "the mismatch logged", func() bool { return strings.Contains(logs.String(), "shard Shop0-shard-9 is not in the cluster") })
	time.Sleep(time.Second) // a slot passes
	if n := len(e.checkpoints(t)); n != 0 || srv.Cluster().Stats().Stops != 0 {
		t.Fatalf("%d checkpoints, %d balancer stops of a mismatched cluster", n, srv.Cluster().Stats().Stops)
	}
	e.UpdateCluster(t, e.Cluster)
	waitFor(t, "a checkpoint once corrected", func() bool { return len(e.checkpoints(t)) >= 1 })
	stop()
}
