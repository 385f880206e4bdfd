// Package sim simulates what the checkpoint engine drives — a sharded
// cluster (or a replica set) with per-member oplogs, a balancer that
// migrates chunks, and the backup agent tailing the oplogs — on a virtual
// clock, so that weeks of checkpoints take well under a second and the
// same seed always gives the same history.
//
// Cluster implements engine.Cluster and can be told to misbehave (a slow
// or failing balancer stop, a member whose token is never written or never
// discovered, skewed member clocks, a failing restart, a slow, unreachable
// or stepped-down primary); it runs on a clock.Virtual. Each member keeps
// a bounded oplog (Entry: its notes and tokens, the balancer's
// config.settings updates, the other writes of each second a note lands
// in), which DiscoverToken reads in process and package mongowire serves
// over the wire protocol: one cluster model, two ways to reach it.
// Backfill replays a schedule over a past period, for seeding
// demonstrations.
package sim
