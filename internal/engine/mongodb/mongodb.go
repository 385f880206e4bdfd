// Package mongodb drives a real sharded cluster for the checkpoint
// procedure (engine.Take) with the official Go driver: the balancer
// through a mongos, the tokens and their discovery on each member set's
// primary.
//
// Open discovers the topology through the mongos: listShards names each
// shard and its replica set's hosts ("rs0/h1:27018,h2:27018"), and
// getShardMap names the config server replica set under its "config" key.
// It then connects to every shard's and the config server's replica set as
// a replica set (the driver follows its primary), with the mongos
// connection string's authentication and TLS settings.
//
// The balancer is stopped with balancerStop and a maxTimeMS of the
// procedure's stop timeout, and started with balancerStart, on servers
// from 3.4 on. Before 3.4 the balancer runs in the mongos processes and
// the commands do not exist: stopping sets {stopped: true} on the
// config.settings document {_id: "balancer"} (what sh.setBalancerState
// does) and then waits, within the same timeout, for the balancer lock in
// config.locks to be released (what sh.stopBalancer adds), and starting
// sets {stopped: false}. The mongos' buildInfo version chooses the way.
//
// A token is an appendOplogNote on the member set's primary (admin
// database), whose data names the cluster and the checkpoint, so that it
// shows up in local.oplog.rs as {op: "n", ns: "", o: <data>}. Discovery
// reads local.oplog.rs with a tailable, awaiting cursor on
// {op: "n", o.checkpointdToken: <checkpoint id>, o.cluster: <cluster id>,
// ts: {$gte: <bound>}}, where the bound is the note's operationTime when
// the server returned one (3.6+) and otherwise the oplog's newest entry
// before the note was written; a cursor that dies (an empty match on some
// servers) is reopened until the wait is over. The token's entry's ts is
// the part's tokenTimestamp.
package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// Defaults of Config.
const (
	// DefaultOpTimeout bounds one command to a member set: long enough
	// for the driver to find a new primary after a step-down (an election
	// takes about 10 s), short enough that an unreachable shard does not
	// hold the balancer stopped for long.
	DefaultOpTimeout = 15 * time.Second
	// DefaultPollInterval spaces the reads of the oplog when a tailable
	// cursor cannot be kept open, and of config.locks before 3.4.
	DefaultPollInterval = 500 * time.Millisecond
)

// Config is what Open needs.
type Config struct {
	// Client holds the mongos' connection string (ApplyURI) and any
	// settings made in code (TLS configuration, credentials). Its
	// authentication and TLS settings are used for the member sets too.
	Client *options.ClientOptions
	// OpTimeout bounds each command to a member set; zero means
	// DefaultOpTimeout.
	OpTimeout time.Duration
	// PollInterval; zero means DefaultPollInterval.
	PollInterval time.Duration
	Logger       *slog.Logger // nil discards
}

// Topology is a sharded cluster as its mongos describes it.
type Topology struct {
	// Version is the mongos' server version, e.g. "4.0.28".
	Version string
	Shards  []Shard
	// Config is the config server replica set.
	Config ReplicaSet
}

// Shard is one shard of the topology.
type Shard struct {
	Name string
	ReplicaSet
}

// ReplicaSet is a replica set's name and seed hosts.
type ReplicaSet struct {
	Name  string
	Hosts []string
}

// Cluster is a connection to a sharded cluster; it implements
// engine.Cluster. It is safe for concurrent use.
type Cluster struct {
	cfg      Config
	log      *slog.Logger
	mongos   *mongo.Client
	topology Topology
	legacy   bool // before 3.4: the balancer is driven through config.settings

	mu      sync.Mutex
	members map[string]*mongo.Client    // by replica set name
	bounds  map[tokenKey]bson.Timestamp // where each written token's search starts
}

type tokenKey struct {
	set string
	tok engine.Token
}

// Open connects to the mongos, discovers the topology and connects to
// every member set. The member sets are connected lazily by the driver,
// so an unreachable shard does not fail Open; its commands fail.
func Open(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Client == nil {
		return nil, errors.New("mongodb: no connection string")
	}
	if cfg.OpTimeout <= 0 {
		cfg.OpTimeout = DefaultOpTimeout
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mongos, err := mongo.Connect(cfg.Client)
	if err != nil {
		return nil, fmt.Errorf("mongodb: connect to the mongos: %w", err)
	}
	c := &Cluster{cfg: cfg, log: log, mongos: mongos, members: map[string]*mongo.Client{}, bounds: map[tokenKey]bson.Timestamp{}}
	if err := c.Refresh(ctx); err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

// Close disconnects from the mongos and every member set, within 5 s:
// without a deadline the driver's Disconnect may wait for a monitoring
// connection's next heartbeat (10 s).
func (c *Cluster) Close(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := []error{c.mongos.Disconnect(ctx)}
	for name, m := range c.members {
		errs = append(errs, m.Disconnect(ctx))
		delete(c.members, name)
	}
	return errors.Join(errs...)
}

// Topology returns the topology found by the last Refresh.
func (c *Cluster) Topology() Topology {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.topology
}

// Refresh rediscovers the topology through the mongos and connects to
// member sets that are new, disconnecting from those that are gone.
func (c *Cluster) Refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.OpTimeout)
	defer cancel()
	t, err := discover(ctx, c.mongos)
	if err != nil {
		return err
	}
	legacy := versionBefore(t.Version, 3, 4)
	c.mu.Lock()
	defer c.mu.Unlock()
	want := map[string]ReplicaSet{t.Config.Name: t.Config}
	for _, s := range t.Shards {
		want[s.Name] = s.ReplicaSet
	}
	for name, cl := range c.members {
		if _, ok := want[name]; !ok || !slices.Equal(want[name].Hosts, c.hostsOf(name)) {
			_ = cl.Disconnect(context.WithoutCancel(ctx))
			delete(c.members, name)
		}
	}
	for _, rs := range want {
		if c.members[rs.Name] != nil {
			continue
		}
		cl, err := mongo.Connect(c.memberOptions(rs))
		if err != nil {
			return fmt.Errorf("mongodb: connect to replica set %s: %w", rs.Name, err)
		}
		c.members[rs.Name] = cl
	}
	c.topology, c.legacy = t, legacy
	return nil
}

// Check reports how c, a cluster as the checkpointd server describes
// it, differs from the topology found by the last Refresh: its shards
// (name and replica set) and config server replica set must be the
// cluster's, or the checkpoint parts would name member sets the tokens
// never reach.
func (c *Cluster) Check(b backup.Cluster) error {
	t := c.Topology()
	var diffs []string
	real := map[string]string{}
	for _, s := range t.Shards {
		real[s.Name] = s.ReplicaSet.Name
	}
	for _, s := range b.Shards {
		switch rs, ok := real[s.Name]; {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("shard %s is not in the cluster", s.Name))
		case rs != s.ReplicaSetName:
			diffs = append(diffs, fmt.Sprintf("shard %s is replica set %s, not %s", s.Name, rs, s.ReplicaSetName))
		}
		delete(real, s.Name)
	}
	for name := range real {
		diffs = append(diffs, fmt.Sprintf("the cluster's shard %s is missing", name))
	}
	if b.Config.ReplicaSetName != t.Config.Name {
		diffs = append(diffs, fmt.Sprintf("the config servers are replica set %s, not %q", t.Config.Name, b.Config.ReplicaSetName))
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		return fmt.Errorf("mongodb: the server's description of %s differs from the cluster's topology: %s", b.Name, strings.Join(diffs, "; "))
	}
	return nil
}

// hostsOf returns the hosts the current topology gives a replica set.
func (c *Cluster) hostsOf(name string) []string {
	if c.topology.Config.Name == name {
		return c.topology.Config.Hosts
	}
	for _, s := range c.topology.Shards {
		if s.ReplicaSet.Name == name {
			return s.Hosts
		}
	}
	return nil
}

// memberOptions are the mongos' settings that concern who connects and
// how (credentials, TLS, compression, dialer, timeouts), pointed at one
// replica set. The connection string itself is not carried over: its
// hosts, an SRV record or loadBalanced would name the mongos.
func (c *Cluster) memberOptions(rs ReplicaSet) *options.ClientOptions {
	from := c.cfg.Client
	o := options.Client().SetHosts(rs.Hosts).SetReplicaSet(rs.Name)
	o.AppName, o.Auth, o.TLSConfig, o.Compressors = from.AppName, from.Auth, from.TLSConfig, from.Compressors
	o.ConnectTimeout, o.ServerSelectionTimeout, o.Dialer = from.ConnectTimeout, from.ServerSelectionTimeout, from.Dialer
	o.HeartbeatInterval, o.ServerAPIOptions, o.ZlibLevel, o.ZstdLevel = from.HeartbeatInterval, from.ServerAPIOptions, from.ZlibLevel, from.ZstdLevel
	o.DisableOCSPEndpointCheck, o.DisableCertificateRevocationCheck = from.DisableOCSPEndpointCheck, from.DisableCertificateRevocationCheck
	return o
}

// discover reads the topology through the mongos.
func discover(ctx context.Context, mongos *mongo.Client) (Topology, error) {
	admin := mongos.Database("admin")
	var t Topology
	var build struct {
		Version string `bson:"version"`
	}
	if err := admin.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&build); err != nil {
		return t, fmt.Errorf("mongodb: buildInfo on the mongos: %w", err)
	}
	t.Version = build.Version
	var shards struct {
		Shards []struct {
			ID   string `bson:"_id"`
			Host string `bson:"host"`
		} `bson:"shards"`
	}
	if err := admin.RunCommand(ctx, bson.D{{Key: "listShards", Value: 1}}).Decode(&shards); err != nil {
		return t, fmt.Errorf("mongodb: listShards on the mongos: %w", err)
	}
	if len(shards.Shards) == 0 {
		return t, errors.New("mongodb: listShards lists no shard: is this a mongos of a sharded cluster?")
	}
	for _, s := range shards.Shards {
		rs, err := parseHost(s.Host)
		if err != nil {
			return t, fmt.Errorf("mongodb: shard %s: %w", s.ID, err)
		}
		t.Shards = append(t.Shards, Shard{Name: s.ID, ReplicaSet: rs})
	}
	var sm struct {
		Map         map[string]string `bson:"map"`
		ConnStrings map[string]string `bson:"connStrings"`
	}
	if err := admin.RunCommand(ctx, bson.D{{Key: "getShardMap", Value: 1}}).Decode(&sm); err != nil {
		return t, fmt.Errorf("mongodb: getShardMap on the mongos: %w", err)
	}
	cfg := sm.Map["config"]
	if cfg == "" {
		// connStrings maps each connection string to its shard's name,
		// "config" for the config servers.
		for cs, name := range sm.ConnStrings {
			if name == "config" {
				cfg = cs
			}
		}
	}
	if cfg == "" {
		return t, errors.New("mongodb: getShardMap names no config server")
	}
	rs, err := parseHost(cfg)
	if err != nil {
		return t, fmt.Errorf("mongodb: config servers: %w", err)
	}
	t.Config = rs
	return t, nil
}

// parseHost reads a replica set's connection string as config.shards and
// getShardMap print it: "name/host1:port,host2:port". A list of hosts
// without a name is mirrored config servers (SCCC) or a standalone shard,
// neither of which has an oplog to write a note to.
func parseHost(s string) (ReplicaSet, error) {
	name, hosts, ok := strings.Cut(s, "/")
	if !ok || name == "" || hosts == "" {
		return ReplicaSet{}, fmt.Errorf("%q is not a replica set (name/host:port,...); mirrored config servers and standalone shards are not supported", s)
	}
	return ReplicaSet{Name: name, Hosts: strings.Split(hosts, ",")}, nil
}

// versionBefore reports whether version (major.minor.patch) is before
// major.minor. An unreadable version counts as current.
func versionBefore(version string, major, minor int) bool {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma < major || ma == major && mi < minor
}

// Server error codes the driver tells apart.
const (
	codeMaxTimeMSExpired = 50
)

// StopBalancer implements engine.Cluster.
func (c *Cluster) StopBalancer(ctx context.Context, timeout time.Duration) error {
	c.mu.Lock()
	legacy := c.legacy
	c.mu.Unlock()
	// The server bounds the wait with maxTimeMS; the context only guards
	// against a mongos that never answers.
	ctx, cancel := context.WithTimeout(ctx, timeout+c.cfg.OpTimeout)
	defer cancel()
	if legacy {
		return c.stopLegacy(ctx, timeout)
	}
	err := c.mongos.Database("admin").RunCommand(ctx, bson.D{
		{Key: "balancerStop", Value: 1}, {Key: "maxTimeMS", Value: timeout.Milliseconds()},
	}).Err()
	var se mongo.ServerError
	if errors.As(err, &se) && se.HasErrorCode(codeMaxTimeMSExpired) {
		return fmt.Errorf("%w: balancerStop: %w", engine.ErrBalancerTimeout, err)
	}
	if err != nil {
		return fmt.Errorf("mongodb: balancerStop: %w", err)
	}
	return nil
}

// stopLegacy stops the balancer of a cluster before 3.4: disable it in
// config.settings, then wait for the round under way (the balancer lock
// held, state 2) to end.
func (c *Cluster) stopLegacy(ctx context.Context, timeout time.Duration) error {
	if err := c.setLegacyBalancer(ctx, true); err != nil {
		return err
	}
	deadline := clock.System.Now().Add(timeout)
	locks := c.mongos.Database("config").Collection("locks")
	for {
		var lock struct {
			State int `bson:"state"`
		}
		err := locks.FindOne(ctx, bson.D{{Key: "_id", Value: "balancer"}}).Decode(&lock)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments) || err == nil && lock.State == 0:
			return nil
		case err != nil:
			return fmt.Errorf("mongodb: read the balancer lock: %w", err)
		case !clock.System.Now().Before(deadline):
			return fmt.Errorf("%w: the balancer lock is still held after %s", engine.ErrBalancerTimeout, timeout)
		}
		if err := clock.System.Sleep(ctx, c.cfg.PollInterval); err != nil {
			return err
		}
	}
}

func (c *Cluster) setLegacyBalancer(ctx context.Context, stopped bool) error {
	_, err := c.mongos.Database("config").Collection("settings").UpdateOne(ctx,
		bson.D{{Key: "_id", Value: "balancer"}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "stopped", Value: stopped}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongodb: set config.settings balancer stopped=%t: %w", stopped, err)
	}
	return nil
}

// StartBalancer implements engine.Cluster.
func (c *Cluster) StartBalancer(ctx context.Context) error {
	c.mu.Lock()
	legacy := c.legacy
	c.mu.Unlock()
	if legacy {
		return c.setLegacyBalancer(ctx, false)
	}
	if err := c.mongos.Database("admin").RunCommand(ctx, bson.D{{Key: "balancerStart", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("mongodb: balancerStart: %w", err)
	}
	return nil
}

// BalancerStopped reports whether the balancer is disabled: balancerStatus'
// mode "off" from 3.4 on, config.settings' stopped flag before.
func (c *Cluster) BalancerStopped(ctx context.Context) (bool, error) {
	c.mu.Lock()
	legacy := c.legacy
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.OpTimeout)
	defer cancel()
	if legacy {
		var s struct {
			Stopped bool `bson:"stopped"`
		}
		err := c.mongos.Database("config").Collection("settings").FindOne(ctx, bson.D{{Key: "_id", Value: "balancer"}}).Decode(&s)
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("mongodb: read config.settings balancer: %w", err)
		}
		return s.Stopped, nil
	}
	var st struct {
		Mode string `bson:"mode"`
	}
	if err := c.mongos.Database("admin").RunCommand(ctx, bson.D{{Key: "balancerStatus", Value: 1}}).Decode(&st); err != nil {
		return false, fmt.Errorf("mongodb: balancerStatus: %w", err)
	}
	return st.Mode == "off", nil
}

// member returns the client of m's replica set.
func (c *Cluster) member(m engine.Member) (*mongo.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m.ReplicaSetName == "" {
		return nil, fmt.Errorf("mongodb: %s has no replica set: mirrored config servers are not supported", m.Name())
	}
	cl := c.members[m.ReplicaSetName]
	if cl == nil {
		return nil, fmt.Errorf("mongodb: replica set %s is not in the cluster's topology", m.ReplicaSetName)
	}
	return cl, nil
}

// tokenData is what a token's note carries and how discovery matches it.
func tokenData(tok engine.Token) bson.D {
	return bson.D{
		{Key: "checkpointdToken", Value: bson.ObjectID(tok.Checkpoint)},
		{Key: "cluster", Value: bson.ObjectID(tok.Cluster)},
	}
}

// WriteToken implements engine.Cluster.
func (c *Cluster) WriteToken(ctx context.Context, m engine.Member, tok engine.Token) error {
	cl, err := c.member(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.OpTimeout)
	defer cancel()
	var reply struct {
		OperationTime bson.Timestamp `bson:"operationTime"`
	}
	if err := cl.Database("admin").RunCommand(ctx, bson.D{
		{Key: "appendOplogNote", Value: 1}, {Key: "data", Value: tokenData(tok)},
	}).Decode(&reply); err != nil {
		return fmt.Errorf("mongodb: appendOplogNote on %s: %w", m.Name(), err)
	}
	bound := reply.OperationTime
	if bound.IsZero() {
		// No operationTime before 3.6: the newest entry is at or after
		// the note; search back from well before it so a slow
		// replication of the note is still covered.
		switch bound, err = newestEntry(ctx, cl); {
		case errors.Is(err, mongo.ErrNoDocuments):
			// An empty oplog: the search starts at its beginning.
		case err != nil:
			return fmt.Errorf("mongodb: read the oplog of %s: %w", m.Name(), err)
		default:
			bound.T = max(bound.T, 60) - 60
		}
	}
	c.mu.Lock()
	c.bounds[tokenKey{m.ReplicaSetName, tok}] = bound
	c.mu.Unlock()
	return nil
}

// newestEntry returns the timestamp of the newest entry of cl's oplog.
func newestEntry(ctx context.Context, cl *mongo.Client) (bson.Timestamp, error) {
	var e struct {
		TS bson.Timestamp `bson:"ts"`
	}
	err := cl.Database("local").Collection("oplog.rs").FindOne(ctx, bson.D{},
		options.FindOne().SetSort(bson.D{{Key: "$natural", Value: -1}}).SetProjection(bson.D{{Key: "ts", Value: 1}})).Decode(&e)
	return e.TS, err
}

// DiscoverToken implements engine.Cluster.
func (c *Cluster) DiscoverToken(ctx context.Context, m engine.Member, tok engine.Token, wait time.Duration) (backup.BSONTimestamp, error) {
	cl, err := c.member(m)
	if err != nil {
		return backup.BSONTimestamp{}, err
	}
	c.mu.Lock()
	bound := c.bounds[tokenKey{m.ReplicaSetName, tok}]
	delete(c.bounds, tokenKey{m.ReplicaSetName, tok})
	c.mu.Unlock()
	filter := bson.D{
		{Key: "op", Value: "n"},
		{Key: "o.checkpointdToken", Value: bson.ObjectID(tok.Checkpoint)},
		{Key: "o.cluster", Value: bson.ObjectID(tok.Cluster)},
		{Key: "ts", Value: bson.D{{Key: "$gte", Value: bound}}},
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	oplog := cl.Database("local").Collection("oplog.rs")
	var lastErr error
	for {
		ts, found, err := c.tail(wctx, oplog, filter)
		switch {
		case found:
			return backup.BSONTimestamp{Date: time.Unix(int64(ts.T), 0).UTC(), Increment: ts.I}, nil
		case ctx.Err() != nil:
			return backup.BSONTimestamp{}, ctx.Err()
		case err != nil && wctx.Err() == nil:
			lastErr = err
			c.log.Debug("oplog read failed; retrying", "replica_set", m.ReplicaSetName, "err", err)
		}
		if err := clock.System.Sleep(wctx, c.cfg.PollInterval); err != nil {
			return backup.BSONTimestamp{}, fmt.Errorf("%w in %s of %s after %s: %w", engine.ErrNotDiscovered, "local.oplog.rs", m.Name(), wait, errors.Join(lastErr, err))
		}
	}
}

// tail opens a tailable, awaiting cursor on the oplog and follows it until
// an entry matches, the cursor dies or ctx is done.
func (c *Cluster) tail(ctx context.Context, oplog *mongo.Collection, filter bson.D) (bson.Timestamp, bool, error) {
	cur, err := oplog.Find(ctx, filter, options.Find().
		SetCursorType(options.TailableAwait).SetMaxAwaitTime(c.cfg.PollInterval).
		SetProjection(bson.D{{Key: "ts", Value: 1}}))
	if err != nil {
		return bson.Timestamp{}, false, err
	}
	defer func() { _ = cur.Close(context.WithoutCancel(ctx)) }()
	for {
		if cur.TryNext(ctx) {
			var e struct {
				TS bson.Timestamp `bson:"ts"`
			}
			if err := cur.Decode(&e); err != nil {
				return bson.Timestamp{}, false, err
			}
			return e.TS, true, nil
		}
		if err := cur.Err(); err != nil {
			return bson.Timestamp{}, false, err
		}
		if cur.ID() == 0 {
			return bson.Timestamp{}, false, nil
		}
		if ctx.Err() != nil {
			return bson.Timestamp{}, false, ctx.Err()
		}
	}
}

var _ engine.Cluster = (*Cluster)(nil)
