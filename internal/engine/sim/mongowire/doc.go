// Package mongowire serves a simulated sharded cluster (a sim.Cluster)
// over the MongoDB wire protocol, so that code written against the
// official Go driver — the agent's real code path, its real commands —
// runs against it unmodified on 127.0.0.1, with the simulation's fault
// injection.
//
// # Usage
//
//	def := mongowire.Sharded("Cluster0", 2) // Cluster0-shard-0, -1, Cluster0-config-0
//	cl, err := sim.New(def, clock.System, seed, sim.Config{})
//	srv, err := mongowire.Start(cl, mongowire.Options{}) // mongos on 127.0.0.1:<free port>
//	defer srv.Close()
//	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI()))
//	rs, err := mongo.Connect(options.Client().ApplyURI(srv.ReplicaSetURI("Cluster0-shard-0")))
//
// The mongos listens on Options.Addr; each replica set (the shards and
// the config servers, one member each, its primary) on its own free
// 127.0.0.1 port, as listShards and getShardMap report it
// ("Cluster0-shard-0/127.0.0.1:PORT"). A client connects to a replica
// set with ?replicaSet=<name>.
//
// The simulation's clock governs the balancer (migrations, balancerStop's
// wait) and the oplog's timestamps; serve a cluster on clock.System.
// sim.Config{} is a quiet cluster; sim.DefaultConfig() a busy one (its
// Discovery delays a note's visibility in the oplog by up to 30 s).
//
// # Faults
//
// Set with Server.Cluster().SetFaults(sim.Faults{...}); they apply to
// commands received from then on. Replica sets are named by their
// replica set name, the mongos by MongosName.
//
//   - A balancer that will not stop: Cluster().Migrate(d) starts a
//     migration of length d (or Faults.StopDelay adds to any stop);
//     balancerStop with a shorter maxTimeMS fails with MaxTimeMSExpired
//     (code 50), and the balancer stays disabled (mode "off"), as a real
//     one does. Faults.StopErr / StartErr make balancerStop / balancerStart
//     fail with HostUnreachable (code 6).
//   - A slow shard: Faults.Slow[name] delays every command that member
//     answers but hello, so that the driver's monitor still finds it up
//     (a delay beyond connectTimeoutMS would read as unreachable).
//   - An unreachable shard (or mongos): Faults.Unreachable. Its port
//     accepts and at once closes every new connection and closes the open
//     ones at their next request, so the driver sees network errors and
//     server selection times out. Clearing the fault makes it answer
//     again on the same port.
//   - A token that never appears: Faults.Lost. appendOplogNote succeeds,
//     but the entry never shows up in local.oplog.rs.
//   - A primary stepping down: Faults.SteppedDown. hello answers
//     isWritablePrimary false, secondary true, no primary;
//     appendOplogNote fails with NotWritablePrimary (code 10107), find
//     with primary read preference with NotPrimaryNoSecondaryOk (13435),
//     both with the node's topologyVersion. Clearing the fault elects it
//     again in a new term (a greater electionId, t one higher in new
//     oplog entries). Awaitable hellos return at once on any SetFaults,
//     so the driver's monitor sees the change without waiting for its
//     heartbeat.
//   - Balancer state for assertions: Cluster().BalancerEnabled(),
//     Cluster().Migrating(), Cluster().Stats() (stops and starts
//     received).
//   - An old server: Options.Version "3.2.22" makes balancerStop,
//     balancerStart and balancerStatus unknown commands; the balancer is
//     then stopped through config.settings (see below). The driver
//     refuses wire versions below 9 (MongoDB 4.4), so such a server still
//     reports maxWireVersion 9: a client tells the versions apart by
//     buildInfo's version, as it must for 3.4 to 4.2 too.
//
// # Commands
//
// Every server: hello and legacy isMaster (the driver's first hello on a
// connection comes as OP_QUERY isMaster, answered with OP_REPLY; helloOk
// makes it use hello over OP_MSG afterwards; an awaitable hello with
// topologyVersion and maxAwaitTimeMS waits for a change of state or
// maxAwaitTimeMS, and when it allows exhaust the server streams the
// following replies with moreToCome, as 4.4+ servers do), ping,
// buildInfo, endSessions, getMore, killCursors. Every reply carries
// $clusterTime (unsigned) and operationTime: the optime of the command's
// write (appendOplogNote's note), else of the node's newest oplog entry.
//
// A driver client disconnected within moments of connecting can wait up
// to its heartbeatFrequencyMS (10 s by default) for its monitor's first
// awaitable hello, with this server as with a real one: tests that
// connect and disconnect quickly set a short heartbeat.
//
// The mongos: listShards, getShardMap, balancerStop (maxTimeMS, default
// 60000), balancerStart, balancerStatus (admin database only, else
// Unauthorized, code 13), find on config.settings ({_id:"balancer",
// mode, stopped}), config.locks ({_id:"balancer", state: 2 while a
// migration runs, else 0}) and config.shards, update of config.settings'
// balancer document with {$set: {stopped: bool}} or {$set: {mode}}
// (stops or starts the balancer without waiting, as 3.2's
// sh.setBalancerState). appendOplogNote is not served by the mongos.
//
// Each replica set primary: appendOplogNote (admin only; data must be a
// document) appends {op:"n", ns:"", o:data, ts, t, v:2, wall}, its ts
// the second and a per-replica-set ordinal within it; find on
// local.oplog.rs with filters of equality (dotted paths into o
// included), $eq $ne $gt $gte $lt $lte $in $nin $exists $and $or $nor
// (anything else: BadValue, code 2), sort {$natural: ±1}, limit,
// batchSize, singleBatch, tailable and awaitData (getMore waits up to
// its maxTimeMS, 1 s by default, for new entries), projection of
// top-level fields ({ts: 1}). Every other collection is empty. Besides
// notes the oplog holds the other writes (inserts into app.events), the
// balancer's config.settings updates on the config server, the set's
// initiation ({msg: "initiating set"}) and a periodic no-op {msg:
// "periodic noop"} every Options.NoopInterval. Unknown commands:
// CommandNotFound (59), "no such command: '<name>'".
//
// # Replies checked against the documentation
//
// Every reply ends with ok as a double (1.0, or 0.0 with errmsg, code
// as an int32 and codeName), as the manual's command pages show and the
// driver reads it. The shapes below were checked against the MongoDB
// manual's pages (mongodb.com/docs, the current manual and v4.0 to v8.0,
// and their sources in the mongodb/docs repository):
//
//   - hello (reference/command/hello): isWritablePrimary, topologyVersion
//     {processId, counter}, maxBsonObjectSize, maxMessageSizeBytes,
//     maxWriteBatchSize, localTime, logicalSessionTimeoutMinutes,
//     connectionId, minWireVersion, maxWireVersion, readOnly; mongos:
//     msg "isdbgrid"; replica set: setName, setVersion, hosts, primary,
//     me, secondary, electionId, lastWrite {opTime, lastWriteDate,
//     majorityOpTime, majorityWriteDate}. Legacy isMaster answers
//     ismaster instead of isWritablePrimary, with the same other fields
//     (reference/command/isMaster).
//   - listShards (reference/command/listShards): shards [{_id, host
//     "rs/host:port", state 1}].
//   - getShardMap (reference/command/getShardMap): map, hosts,
//     connStrings, the config server under "config".
//   - $clusterTime {clusterTime, signature {hash, keyId}} and
//     operationTime, as the listShards and sh.isBalancerRunning example
//     replies show them.
//   - balancerStatus (reference/command/balancerStatus): mode "full" or
//     "off", inBalancerRound bool, numBalancerRounds as a long.
//   - balancerStop / balancerStart (reference/command/balancerStop,
//     balancerStart): admin only, maxTimeMS default 60000, a bare {ok}.
//   - appendOplogNote (reference/command/appendOplogNote): {appendOplogNote:
//     1, data: <document>} on admin, a no-op entry in the oplog.
//   - find / getMore / killCursors (the killCursors page's example, which
//     shows both replies): cursor {firstBatch | nextBatch, id as a long,
//     ns}; killCursors' cursorsKilled, cursorsNotFound, cursorsAlive,
//     cursorsUnknown. That awaitData needs tailable, and getMore's
//     CursorNotFound and CappedPositionLost, follow the server's
//     behaviour rather than a page.
//   - the oplog entry {op, ns, o, ts, t (long), v (long 2), wall (date)}:
//     the appendOplogNote page's example entry; o2 on the balancer's
//     updates follows the server, not a page.
//   - config.settings' balancer document {_id:"balancer", mode, stopped}:
//     stopped is what sh.setBalancerState sets before 3.4 and mode what
//     3.4 added (sh.setBalancerState's page, SERVER-34504); config.locks'
//     balancer lock and its state 2 follow 3.2's server, not a page.
//   - error codes and names (reference/error-codes, and for the two
//     "not primary" codes the driver specifications' SDAM error list):
//     BadValue 2, HostUnreachable 6, FailedToParse 9, Unauthorized 13,
//     TypeMismatch 14, CursorNotFound 43, MaxTimeMSExpired 50,
//     CommandNotFound 59, CappedPositionLost 136, NotWritablePrimary
//     10107, NotPrimaryNoSecondaryOk 13435. The error messages follow the
//     server's where known; clients should not match on them.
//
// Not served: authentication (connect without credentials), TLS,
// compression, sessions beyond accepting lsid, aggregate (so no
// CountDocuments), projections other than of top-level fields,
// mirrored (SCCC) config servers, replica sets of more than one member.
package mongowire
