// Package engine takes checkpoints of sharded clusters the way MongoDB's
// legacy backup service did, and schedules them.
//
// A checkpoint is a cut across every shard and the config server, made by
// stopping the balancer through a mongos (so no chunk is in flight between
// shards), appending a token to each member set's oplog, restarting the
// balancer, and then finding each token in the oplog as the backup agent
// tails it. A restore replays each part's oplog up to its token on top of
// the last snapshot before the checkpoint.
//
// The engine speaks to a cluster only through the small Cluster driver
// interface, reads time only through a clock.Clock, and hands checkpoints to a
// Sink and prunes them through a Pruner, each declared here by the methods
// it calls. It knows nothing of HTTP or SQL; package sim provides a
// simulated cluster that, on a clock.Virtual, drives it in tests and
// demos.
package engine
