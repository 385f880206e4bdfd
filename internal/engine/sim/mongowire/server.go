package mongowire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// MongosName names the mongos in sim.Faults.Unreachable.
const MongosName = "mongos"

// DefaultVersion is the MongoDB version the simulated servers report.
const DefaultVersion = "7.0.14"

// Options configure a Server.
type Options struct {
	// Addr is the mongos' listen address; "127.0.0.1:0" when empty.
	// Each replica set's primary listens on its own free 127.0.0.1 port.
	Addr string
	// Version is the MongoDB version buildInfo reports (DefaultVersion
	// when empty). Before 3.4 the mongos answers balancerStop,
	// balancerStart and balancerStatus with CommandNotFound, and the
	// balancer is driven through config.settings as 3.2 did.
	Version string
	// NoopInterval is how often each primary appends a periodic no-op to
	// its oplog, as an idle primary does every 10 s (the default);
	// negative: never.
	NoopInterval time.Duration
	// Logger receives one debug record per command; nil: discard.
	Logger *slog.Logger
}

// Server serves a simulated sharded cluster over the wire protocol: a
// mongos and one single-member replica set per shard and for the config
// servers, each on its own port. It is safe for concurrent use.
type Server struct {
	cluster *sim.Cluster
	version string
	legacy  bool // before 3.4: no balancer commands
	wire    int32
	log     *slog.Logger

	mongos *node
	nodes  []*node          // replica sets, in part order
	byName map[string]*node // replica sets by name

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	conns   map[*conn]struct{}
	cursors map[int64]*cursor

	nextConn   atomic.Int32
	nextCursor atomic.Int64
}

// node is one listening server: the mongos, or a replica set's primary.
type node struct {
	set       string // replica set name; "" for the mongos
	config    bool   // the config server replica set
	ln        net.Listener
	addr      string // host:port
	processID bson.ObjectID
}

func (n *node) name() string {
	if n.set == "" {
		return MongosName
	}
	return n.set
}

// Start serves c, a simulated sharded cluster with a config server
// replica set, until Close. The sim cluster's faults apply to what the
// servers answer from then on.
func Start(c *sim.Cluster, opt Options) (*Server, error) {
	if opt.Addr == "" {
		opt.Addr = "127.0.0.1:0"
	}
	if opt.Version == "" {
		opt.Version = DefaultVersion
	}
	if opt.NoopInterval == 0 {
		opt.NoopInterval = 10 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	major, minor, err := parseVersion(opt.Version)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cluster: c,
		version: opt.Version,
		legacy:  major < 3 || major == 3 && minor < 4,
		wire:    wireVersion(major, minor),
		log:     opt.Logger,
		byName:  map[string]*node{},
		ctx:     ctx,
		cancel:  cancel,
		conns:   map[*conn]struct{}{},
		cursors: map[int64]*cursor{},
	}
	hasConfig := false
	for _, m := range c.Members() {
		if m.ReplicaSetName == "" {
			s.closeListeners()
			return nil, errors.New("mongowire: mirrored config servers are not served; use a config server replica set")
		}
		n, err := s.listen("127.0.0.1:0", m.ReplicaSetName)
		if err != nil {
			s.closeListeners()
			return nil, err
		}
		n.config = m.Type == backup.PartConfigReplicaSet
		hasConfig = hasConfig || n.config
		s.nodes = append(s.nodes, n)
		s.byName[n.set] = n
	}
	if !hasConfig {
		s.closeListeners()
		return nil, errors.New("mongowire: only a sharded cluster is served")
	}
	if s.mongos, err = s.listen(opt.Addr, ""); err != nil {
		s.closeListeners()
		return nil, err
	}
	for _, n := range s.nodes {
		// A replica set's oplog is never empty: its first entry is the
		// set's initiation.
		if c.LastTimestamp(n.set).Date.IsZero() {
			c.Noop(n.set, "initiating set")
		}
	}
	for _, n := range append([]*node{s.mongos}, s.nodes...) {
		s.wg.Add(1)
		go s.accept(n)
	}
	if opt.NoopInterval > 0 {
		s.wg.Add(1)
		go s.noops(opt.NoopInterval)
	}
	return s, nil
}

func (s *Server) listen(addr, set string) (*node, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mongowire: %w", err)
	}
	return &node{set: set, ln: ln, addr: ln.Addr().String(), processID: bson.NewObjectID()}, nil
}

func (s *Server) closeListeners() {
	for _, n := range append([]*node{s.mongos}, s.nodes...) {
		if n != nil {
			n.ln.Close()
		}
	}
}

// Close stops every listener and connection and waits for them.
func (s *Server) Close() error {
	s.cancel()
	s.closeListeners()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// Cluster returns the simulated cluster the server serves.
func (s *Server) Cluster() *sim.Cluster { return s.cluster }

// Addr returns the mongos' host:port.
func (s *Server) Addr() string { return s.mongos.addr }

// URI returns the mongodb:// connection string of the mongos.
func (s *Server) URI() string { return "mongodb://" + s.mongos.addr + "/" }

// ReplicaSetAddr returns the host:port of the named replica set's primary
// ("" if there is none such).
func (s *Server) ReplicaSetAddr(name string) string {
	if n := s.byName[name]; n != nil {
		return n.addr
	}
	return ""
}

// ReplicaSetURI returns the connection string of the named replica set,
// as listShards' host field leads a client to build it:
// mongodb://host:port/?replicaSet=name.
func (s *Server) ReplicaSetURI(name string) string {
	return "mongodb://" + s.ReplicaSetAddr(name) + "/?replicaSet=" + name
}

func (s *Server) accept(n *node) {
	defer s.wg.Done()
	for {
		nc, err := n.ln.Accept()
		if err != nil {
			return
		}
		if s.unreachable(n) {
			nc.Close() // the port answers no more: the client sees its connection reset
			continue
		}
		c := &conn{s: s, n: n, nc: nc, id: s.nextConn.Add(1)}
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// noops appends a periodic no-op to every reachable primary's oplog.
func (s *Server) noops(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			for _, n := range s.nodes {
				s.cluster.Noop(n.set, "periodic noop")
			}
		}
	}
}

func (s *Server) unreachable(n *node) bool {
	return slices.Contains(s.cluster.Faults().Unreachable, n.name())
}

func (s *Server) steppedDown(n *node) bool {
	return n.set != "" && slices.Contains(s.cluster.Faults().SteppedDown, n.set)
}

// conn is one client connection, served one message at a time.
type conn struct {
	s  *Server
	n  *node
	nc net.Conn
	id int32
	// opTime is the optime of the write of the command being served,
	// for its reply's operationTime.
	opTime backup.BSONTimestamp
	// streaming is the awaitable hello the connection streams replies
	// to, once it asked for exhaust; lastReply is the request id of the
	// last reply sent.
	streaming *request
	lastReply int32
}

// errClose ends a connection without a reply: the node became
// unreachable.
var errClose = errors.New("mongowire: close")

func (c *conn) serve() {
	defer c.s.wg.Done()
	defer func() {
		if p := recover(); p != nil {
			c.s.log.Error("mongowire: command panicked; connection closed", "node", c.n.name(), "panic", p)
		}
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
		c.nc.Close()
	}()
	ctx, cancel := context.WithCancel(c.s.ctx)
	defer cancel()
	go func() { // the server stopping closes the connection
		<-ctx.Done()
		c.nc.Close()
	}()
	r := bufio.NewReader(c.nc)
	for {
		msg, err := readMessage(r)
		if err != nil {
			return
		}
		if c.s.unreachable(c.n) {
			return
		}
		reply, err := c.handle(ctx, msg)
		if err != nil {
			if !errors.Is(err, errClose) && !errors.Is(err, io.EOF) {
				c.s.log.Debug("mongowire: connection closed", "node", c.n.name(), "err", err)
			}
			return
		}
		if reply == nil {
			continue
		}
		if _, err := c.nc.Write(reply); err != nil {
			return
		}
		if c.streaming != nil {
			_ = c.stream(ctx, r, *c.streaming, msgBody(reply))
			return
		}
	}
}

// msgBody is the body document of an OP_MSG with one section.
func msgBody(msg []byte) []byte {
	const header, flags, kind = 16, 4, 1
	return msg[header+flags+kind:]
}

// maxMessage bounds a request, as maxMessageSizeBytes tells clients.
const maxMessage = 48_000_000

func readMessage(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.LittleEndian.Uint32(size[:]))
	if n < 16 || n > maxMessage {
		return nil, fmt.Errorf("mongowire: message of %d bytes", n)
	}
	msg := make([]byte, n)
	copy(msg, size[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}

func parseVersion(v string) (major, minor int, err error) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("mongowire: version %q is not major.minor[.patch]", v)
	}
	if major, err = strconv.Atoi(parts[0]); err == nil {
		minor, err = strconv.Atoi(parts[1])
	}
	if err != nil {
		return 0, 0, fmt.Errorf("mongowire: version %q is not major.minor[.patch]", v)
	}
	return major, minor, nil
}

// wireVersion is the maxWireVersion of a server version. The driver
// refuses servers below wire version 9 (MongoDB 4.4), so an older
// version reports 9: the version string is what tells a client which
// balancer procedure to use.
func wireVersion(major, minor int) int32 {
	known := []struct {
		major, minor int
		wire         int32
	}{{8, 0, 25}, {7, 0, 21}, {6, 0, 17}, {5, 0, 13}, {4, 4, 9}}
	for _, k := range known {
		if major > k.major || major == k.major && minor >= k.minor {
			return k.wire
		}
	}
	return 9
}
