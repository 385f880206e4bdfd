// Package sim simulates what the checkpoint engine drives — a sharded
// cluster (or a replica set) with per-member oplogs, a balancer that
// migrates chunks, and the backup agent tailing the oplogs — on a virtual
// clock, so that weeks of checkpoints take well under a second and the
// same seed always gives the same history.
//
// Cluster implements engine.Cluster and can be told to misbehave (a slow
// or failing balancer stop, a member whose token is never written or never
// discovered, skewed member clocks, a failing restart); it runs on a
// clock.Virtual. Backfill replays a schedule over a past period, for
// seeding demonstrations.
package sim
