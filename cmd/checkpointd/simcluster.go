package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
)

// simclusterConfig is every setting of simcluster.
type simclusterConfig struct {
	addr     string
	shards   int
	name     string
	version  string
	seed     uint64
	busy     bool
	logLevel string
	faults   sim.Faults
}

func newSimclusterCmd(e *env) *cobra.Command {
	var c simclusterConfig
	cmd := &cobra.Command{
		Use:   "simcluster",
		Short: "Serve a simulated sharded cluster over the MongoDB wire protocol",
		Long: `Serve a simulated sharded cluster over the MongoDB wire protocol, to try
an agent (or any MongoDB client) against without a MongoDB server: a mongos
on --addr and, on free 127.0.0.1 ports, one single-member replica set per
shard (NAME-shard-0, NAME-shard-1, …) and a config server replica set
(NAME-config-0). It prints the mongodb:// connection string of the mongos
on its first line, then each replica set's, and runs until interrupted
(SIGINT or SIGTERM).

The simulation answers the handshake, listShards, getShardMap,
balancerStop, balancerStart, balancerStatus, config.settings,
appendOplogNote and find/getMore/killCursors on each replica set's
local.oplog.rs; it has no authentication and no TLS. Its balancer runs
migrations now and then with --busy, which balancerStop waits for. With
--mongodb-version below 3.4 the balancer commands are unknown and the
balancer is driven through config.settings, as 3.2 did.

Faults, to see what a client does about them: --stop-delay makes
balancerStop wait that much longer (beyond its maxTimeMS it fails with
MaxTimeMSExpired and leaves the balancer off); --unreachable closes the
named replica sets' (or "mongos") connections; --lost acknowledges their
appendOplogNote but never shows the note in the oplog; --stepped-down
makes their primary a secondary that refuses writes with
NotWritablePrimary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(e, cmd.Flags()); err != nil {
				return err
			}
			return simcluster(cmd.Context(), e, c)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.addr, "addr", "127.0.0.1:27017", "the mongos' address (host:port); port 0 picks a free one")
	f.IntVar(&c.shards, "shards", 2, "number of shards, 1 to 64")
	f.StringVar(&c.name, "name", "Cluster0", "cluster name: the shards are NAME-shard-N, the config servers NAME-config-0")
	f.StringVar(&c.version, "mongodb-version", mongowire.DefaultVersion, "MongoDB version buildInfo reports; below 3.4 there are no balancer commands")
	f.Uint64Var(&c.seed, "seed", 1, "random seed of the simulation (migrations, other writes)")
	f.BoolVar(&c.busy, "busy", false, "a busy cluster: other writes in every oplog and a chunk migration every few minutes, now and then one of several minutes")
	f.StringVar(&c.logLevel, "log-level", "info", "log level: debug (one line per command), info, warn or error")
	f.DurationVar(&c.faults.StopDelay, "stop-delay", 0, "fault: balancerStop waits this much longer, as for a long migration")
	f.StringSliceVar(&c.faults.Unreachable, "unreachable", nil, "fault: these replica sets (or mongos) do not answer")
	f.StringSliceVar(&c.faults.Lost, "lost", nil, "fault: these replica sets' notes never show up in their oplog")
	f.StringSliceVar(&c.faults.SteppedDown, "stepped-down", nil, "fault: these replica sets' primaries stepped down")
	return cmd
}

func simcluster(ctx context.Context, e *env, c simclusterConfig) error {
	if c.shards < 1 || c.shards > 64 {
		return fmt.Errorf("--shards: %d is not between 1 and 64", c.shards)
	}
	logger, closeLog, err := newLogger(e, "text", c.logLevel)
	if err != nil {
		return err
	}
	defer closeLog()
	def := mongowire.Sharded(c.name, c.shards)
	def.MongoDBVersion = c.version
	if err := def.Validate(); err != nil {
		return fmt.Errorf("--name: %w", err)
	}
	var cfg sim.Config
	if c.busy {
		// DefaultConfig but for what the wire has no use for: the agent's
		// lag is the client's own, and a note is in the oplog at once.
		cfg = sim.DefaultConfig()
		cfg.AgentLag, cfg.Latency, cfg.Discovery, cfg.LossRate = sim.Range{}, sim.Range{}, sim.Range{}, 0
	}
	cl, err := sim.New(def, clock.System, c.seed, cfg)
	if err != nil {
		return err
	}
	names := map[string]bool{mongowire.MongosName: true}
	for _, m := range cl.Members() {
		names[m.ReplicaSetName] = true
	}
	for flag, list := range map[string][]string{"--unreachable": c.faults.Unreachable, "--lost": c.faults.Lost, "--stepped-down": c.faults.SteppedDown} {
		for _, name := range list {
			if !names[name] || name == mongowire.MongosName && flag != "--unreachable" {
				return fmt.Errorf("%s: no replica set %q in the cluster", flag, name)
			}
		}
	}
	cl.SetFaults(c.faults)
	srv, err := mongowire.Start(cl, mongowire.Options{Addr: c.addr, Version: c.version, Logger: logger})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintln(e.stdout, srv.URI())
	for _, m := range cl.Members() {
		fmt.Fprintf(e.stdout, "%s %s\n", m.ReplicaSetName, srv.ReplicaSetURI(m.ReplicaSetName))
	}
	logger.Info("simulated cluster serving", "cluster", c.name, "shards", c.shards, "mongos", srv.Addr(), "version", c.version)
	<-ctx.Done()
	logger.Info("simulated cluster stopping")
	return nil
}
