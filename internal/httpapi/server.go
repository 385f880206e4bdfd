package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/httpapi/openapi"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// Store is what the API reads, and the snapshot schedules and backup
// configurations it writes. *sqlite.DB satisfies it. Each read is one
// read transaction that also resolves the project and cluster it names,
// and decides what the caller in its context (backup.WithPrincipal) may
// read of them.
type Store interface {
	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)
	ProjectByName(ctx context.Context, name string) (backup.Project, error)
	Projects(ctx context.Context, page backup.PageRequest) (backup.Page[backup.Project], error)
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)
	Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (backup.Page[backup.Cluster], error)
	Checkpoints(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], error)
	Checkpoint(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Checkpoint, error)
	UpdateBackup(ctx context.Context, ref backup.ClusterRef, change func(*backup.Cluster) error) (backup.Cluster, error)
	PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)
	RestoreStore
}

// The checkpoints a Store returns are never modified afterwards, by the
// store or anyone: a store may hand the same array to many requests (the
// stores' caches do), and the API keeps pages' encoded bodies by their
// Version (pageBodies).

// Config holds the settings of the API. The zero value serves with links
// built from each request's Host and lenient paging.
type Config struct {
	// ExternalURL, when set (e.g. https://backup.example.com), is the base
	// of every absolute link; otherwise links use the request's scheme and
	// Host, as the service does.
	ExternalURL string
	// Paging says how out-of-range pageNum and itemsPerPage are treated.
	Paging PagingMode
	// Version and GitHash fill X-MongoDB-Service-Version.
	Version, GitHash string
	// MaxURLBytes and MaxHeaderBytes bound a request's target and headers;
	// larger requests get 414 or 431 in the API's error format.
	// Zero means 8 KiB and 32 KiB.
	MaxURLBytes, MaxHeaderBytes int
	// Auth authenticates every request; nil serves without authentication,
	// every request acting as the server itself (backup.System).
	Auth Authenticator
	// OAuth serves POST /api/oauth/token and /api/oauth/revoke; nil leaves
	// them unrouted.
	OAuth OAuthEndpoints
	// UI, when set, serves the web view under /ui/ (and redirects /ui
	// there) behind the same size limits, Authenticator and log line as
	// the API; only GET and HEAD reach it. A 404 it answers is replaced
	// by the API's RESOURCE_NOT_FOUND error. nil leaves /ui unrouted.
	UI http.Handler
	// Admin serves checkpointd's administration API under
	// /api/checkpointd/v1 (clusters, their schedules, agents' reports);
	// nil leaves it unrouted.
	Admin AdminStore
	// ClusterAdmin creates and changes clusters for the administration
	// API; required with Admin.
	ClusterAdmin ClusterAdmin
	// Logger receives one line per request and every internal error.
	Logger *slog.Logger
	// Clock bounds how far ahead an agent's report may be and spaces the
	// outage warnings; nil means clock.System.
	Clock clock.Clock
	// IDs makes the ids of the restore jobs (and their batches) the API
	// creates; nil means a source of its own.
	IDs *backup.IDSource
	// RestoreJobsCreated, if set, is called after restore jobs are
	// created, so that what carries out simulated clusters' jobs
	// (engine.Restores) need not poll.
	RestoreJobsCreated func()
	// Metrics, if set, counts and times every request and authentication
	// failure.
	Metrics Metrics
	// PageBodyCacheSize bounds, in bytes, the encoded pages of checkpoints
	// kept (pageBodies) and the encoded single checkpoints (a quarter of
	// it, checkpointBodies); 0 means DefaultPageBodyCacheSize, a negative
	// size keeps none.
	PageBodyCacheSize int64
	// PagesInFlight bounds the pages of checkpoints being read, encoded
	// and written at once, in pages of MaxItemsPerPage (a smaller page
	// counts its share): a list request beyond it waits, until its
	// client goes away. 0 means DefaultPagesInFlight per CPU
	// (GOMAXPROCS), at most MaxDefaultPagesInFlight; a negative number
	// bounds nothing.
	PagesInFlight int
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	cfg       Config
	store     Store
	log       *slog.Logger
	mux       *http.ServeMux
	table     []*route   // every route, as the mux serves them (routes)
	fast      fastRoutes // the checkpoint routes, found without the mux
	notFound  *routeSet  // the catch-all, also for paths the mux would redirect
	svcVerHdr []string
	// pageBodies keeps the encoded results of pages of checkpoints that
	// the store served from its cache (with a Version).
	pageBodies *pageBodies
	// checkpointBodies keeps the encoded results of single checkpoints.
	checkpointBodies *checkpointBodies
	// pageWork bounds the pages of checkpoints under way and keeps their
	// bodies' buffers.
	pageWork *pageWork
	// ids makes the ids of restore jobs and their batches.
	ids *backup.IDSource
	// lastBase is the last base URL baseURL made.
	lastBase atomic.Pointer[string]

	// docYAML and docJSON are the OpenAPI document, info.version filled.
	docYAML, docJSON []byte

	// unavailableWarn keeps a store outage to a warning every few seconds.
	unavailableWarn warnLimiter
	// damagedLogged is set once a damaged database has been logged: it
	// stays damaged until the operator acts, so once is enough.
	damagedLogged atomic.Bool
}

// New returns the API over st.
func New(cfg Config, st Store) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	if cfg.IDs == nil {
		cfg.IDs = backup.NewIDSource()
	}
	if cfg.Admin != nil && cfg.ClusterAdmin == nil {
		panic("httpapi: Config.Admin without Config.ClusterAdmin")
	}
	if cfg.MaxURLBytes == 0 {
		cfg.MaxURLBytes = 8 << 10
	}
	if cfg.MaxHeaderBytes == 0 {
		cfg.MaxHeaderBytes = 32 << 10
	}
	if cfg.PageBodyCacheSize == 0 {
		cfg.PageBodyCacheSize = DefaultPageBodyCacheSize
	}
	cfg.ExternalURL = strings.TrimRight(cfg.ExternalURL, "/")
	gh := cfg.GitHash
	if gh == "" {
		gh = strings.Repeat("0", 40)
	}
	ver := cfg.Version
	if ver == "" {
		ver = "dev"
	}
	s := &Server{
		cfg:        cfg,
		store:      st,
		log:        cfg.Logger,
		mux:        http.NewServeMux(),
		svcVerHdr:  []string{"gitHash=" + gh + "; versionString=" + ver},
		pageBodies: newPageBodies(cfg.PageBodyCacheSize - cfg.PageBodyCacheSize/checkpointBodyShare),
		ids:        cfg.IDs,

		checkpointBodies: newCheckpointBodies(cfg.PageBodyCacheSize / checkpointBodyShare),
		pageWork:         newPageWork(pagesInFlight(cfg.PagesInFlight)),

		unavailableWarn: warnLimiter{every: unavailableWarnEvery},
	}
	s.docYAML, s.docJSON = openapi.Documents(ver)
	s.routes()
	return s
}

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// fastRoutes takes only clean paths.
	var pv pathValues
	if set, ok := s.fast.match(r, &pv); ok {
		s.serve(w, r, set.match(r.Method), &pv)
		return
	}
	// net/http's mux answers a path with empty, "." or ".." segments with
	// a redirect to its cleaned form and an HTML body; no API path has
	// such segments, so they are an unknown resource, in the API's format.
	if !cleanPath(r.URL.Path) {
		s.notFound.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// cleanPath reports whether p is absolute and has no empty, "." or ".."
// segment (a trailing slash is left to routing).
func cleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	start := 1 // of the current segment
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		seg := p[start:i]
		if seg == "." || seg == ".." || seg == "" && i < len(p) {
			return false
		}
		start = i + 1
	}
	return true
}

// request is one API request on its way through the pipeline. It is pooled:
// nothing may keep it after the handler returns.
type request struct {
	*http.Request
	w       http.ResponseWriter
	id      string
	route   *route
	surface *surface   // the route's
	pv      pathValues // when fastRoutes routed the request
	query   query
	base    string        // scheme://host of absolute links
	start   time.Duration // since processStart
	status  int

	pretty, envelope    bool
	contentType         []string // the Content-Type header value
	deprecation, sunset []string // the Deprecation and Sunset header values, if any

	buf, out []byte
	// spare is buf's own buffer while buf is one of pageWork's, for the
	// next request that takes rq.
	spare []byte
	// work is the share of pageWork the request holds, given back in
	// finish, once the response is written.
	work int64

	// line is the request line, for finish.
	line RequestLine

	// ctx is the request's context with its caller, once authenticate
	// has run: kept here rather than in a copy of the http.Request, which
	// would cost an allocation of the whole request.
	ctx context.Context
}

// Context is the request's context, carrying its caller once
// authenticate has set it: store calls made with anything else are
// refused.
func (rq *request) Context() context.Context {
	if rq.ctx != nil {
		return rq.ctx
	}
	return rq.Request.Context()
}

var requestPool = sync.Pool{New: func() any { return &request{buf: make([]byte, 0, 4096)} }}

// maxPooledBuf is the largest buffer a pooled request keeps: a larger
// one (a page of checkpoints, mostly) goes to pageWork's free list, which
// is bounded in bytes, rather than staying with the request, where every
// connection's request would come to hold one.
const maxPooledBuf = 64 << 10

// serve is the pipeline: every request of every route goes through it,
// and only it writes responses (the renderer: render and writeError).
//
// pv, if not nil, holds the path values fastRoutes found; otherwise the
// mux's are the request's.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt *route, pv *pathValues) {
	rq := s.begin(w, r, rt)
	if pv != nil {
		rq.pv = *pv
	}
	defer s.finish(rq)
	res, err := s.run(rq)
	if err != nil {
		s.writeError(rq, err)
		return
	}
	s.render(rq, res)
}

// run does the checks every route shares, in the service's order: size,
// authentication, then (the method being the route's) the query
// parameters of the surface, then the route's handler. A wrong method's
// route has no operation: it is refused before the query is read.
func (s *Server) run(rq *request) (result, error) {
	rt := rq.route
	if rq.surface.earlyPretty { // read leniently: the query's own errors come later, if at all
		if q, err := parseQuery(rq.URL.RawQuery, nil); err == nil {
			rq.pretty, _ = q.boolParam("pretty", false)
		}
	}
	if err := s.checkSize(rq); err != nil {
		return result{}, err
	}
	if rt.auth {
		if err := s.authenticate(rq); err != nil {
			return result{}, err
		}
	}
	if rt.op != nil {
		if err := rq.surface.readQuery(rq, rt.op); err != nil {
			return result{}, err
		}
	}
	return rt.handler(s, rq)
}

// render writes a handler's result: its status and its body, enveloped
// when the request asked for an envelope, compact or pretty-printed, with
// the surface's media type and the common headers.
func (s *Server) render(rq *request, res result) {
	if res.written {
		return
	}
	status := res.status
	if status == 0 {
		status = http.StatusOK
	}
	if res.body == nil {
		s.commonHeaders(rq, rq.w.Header())
		rq.status = status
		rq.w.WriteHeader(status)
		return
	}
	body := res.body
	switch {
	case res.shared:
	case res.list:
		// {"links":…,"results":[…] then ,"status":200 (enveloped) and
		// ,"totalCount":N}: the service's keys are in alphabetical order.
		if rq.envelope {
			body = append(body, `,"status":200`...)
		}
		body = append(body, `,"totalCount":`...)
		body = strconv.AppendInt(body, int64(res.total), 10)
		body = append(body, '}')
	case rq.envelope:
		rq.out = append(append(append(rq.out[:0], `{"content":`...), body...), `,"status":200}`...)
		body, rq.out = rq.out, body[:0]
	}
	if !res.shared {
		// Keep the grown buffer for the next request that takes rq.
		rq.buf = body[:0]
	}
	s.send(rq, status, rq.contentType, body, rq.pretty)
}

// checkSize bounds the request target and headers. net/http itself refuses
// headers beyond http.Server.MaxHeaderBytes with a plain-text 431; the
// serve command sets that limit well above these so that ordinary oversized
// requests are answered in the API's own format.
func (s *Server) checkSize(rq *request) error {
	if len(rq.RequestURI) > s.cfg.MaxURLBytes {
		return httpErrorf(http.StatusRequestURITooLong, backup.CodeRequestTooLarge, "The request URI is longer than %d bytes.", s.cfg.MaxURLBytes)
	}
	n := 0
	for k, vs := range rq.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	if n > s.cfg.MaxHeaderBytes {
		return httpErrorf(http.StatusRequestHeaderFieldsTooLarge, backup.CodeRequestTooLarge, "The request headers are larger than %d bytes.", s.cfg.MaxHeaderBytes)
	}
	return nil
}

func (s *Server) begin(w http.ResponseWriter, r *http.Request, rt *route) *request {
	rq := requestPool.Get().(*request)
	rq.Request, rq.w, rq.route, rq.surface = r, w, rt, rt.surface
	rq.contentType = rt.surface.contentType
	// A request's duration, logged and counted, is real elapsed time,
	// on the monotonic clock, whatever the server's clock: its start is
	// a reading of that clock alone, half the cost of time.Now's two.
	rq.start = time.Since(processStart) // elapsed since the process started
	var idHeader []string
	rq.id, idHeader = requestID(r)
	rq.base = s.baseURL(r)
	w.Header()["X-Request-Id"] = idHeader // canonical: as Set, without checking the key
	return rq
}

func (s *Server) finish(rq *request) {
	if p := recover(); p != nil {
		s.log.Error("panic serving request", "request_id", rq.id, "panic", p)
		s.writeError(rq, backup.ErrUnexpected())
	}
	opName := ""
	if rq.route.op != nil {
		opName = rq.route.op.name
	}
	// One reading of the clock: the wall clock the line is dated by, as
	// slog.Logger dates records, and the end of the real elapsed time
	// (monotonic, see begin).
	now := time.Now() // the wall clock and the end of the elapsed time
	took := now.Sub(processStart) - rq.start
	if h := s.log.Handler(); h.Enabled(rq.Context(), slog.LevelInfo) {
		// In the pooled request: a line of its own would escape to the
		// heap through the handler's interface.
		l := &rq.line
		*l = RequestLine{Time: now, PC: requestLinePC(), ID: rq.id, API: rq.surface.name, Op: opName,
			Method: rq.Method, Path: rq.URL.Path, Status: rq.status, Duration: took}
		if lh, ok := h.(RequestLineHandler); ok {
			_ = lh.HandleRequestLine(rq.Context(), l)
		} else {
			_ = h.Handle(rq.Context(), l.Record())
		}
	}
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.ObserveRequest(rq.route.label, methodLabel(rq.Method), rq.status, took)
	}
	buf, out, spare, q := rq.buf, rq.out, rq.spare, rq.query
	s.pageWork.release(rq.work)
	*rq = request{}
	if cap(buf) > maxPooledBuf {
		s.pageWork.recycle(buf)
		buf = spare
	}
	if cap(buf) <= maxPooledBuf {
		rq.buf = buf[:0]
	}
	if cap(out) <= maxPooledBuf {
		rq.out = out[:0]
	} else {
		s.pageWork.recycle(out)
	}
	rq.query = q[:0]
	requestPool.Put(rq)
}

// processStart is what requests' start readings are measured from
// (begin): a monotonic reading, as time.Now's always have.
var processStart = time.Now() // the start of elapsed times

// RequestLogMessage is the message of the line logged, at info level, for
// every request.
const RequestLogMessage = "request"

// requestLogPC is the program counter of the request line's source (for
// a handler with AddSource): in finish, as Logger.LogAttrs would find it.
var requestLogPC atomic.Uintptr

// requestLinePC is requestLogPC, found once: as Logger.LogAttrs, but for
// its runtime.Callers on every line (a sixth of the line's cost in the
// load test's profile).
func requestLinePC() uintptr {
	pc := requestLogPC.Load()
	if pc == 0 {
		var pcs [1]uintptr
		runtime.Callers(2, pcs[:]) // finish, which calls this
		pc = pcs[0]
		requestLogPC.Store(pc)
	}
	return pc
}

// RequestLine is the line logged for every request: the record with the
// message RequestLogMessage at info level, its attributes in this order.
type RequestLine struct {
	Time     time.Time
	PC       uintptr // the source, for a handler with AddSource
	ID       string  // request_id
	API      string  // api: the surface
	Op       string  // op: the operation, if any
	Method   string
	Path     string
	Status   int
	Duration time.Duration
}

// Record is the line as a slog record.
func (l *RequestLine) Record() slog.Record {
	r := slog.NewRecord(l.Time, slog.LevelInfo, RequestLogMessage, l.PC)
	r.AddAttrs(
		slog.String("request_id", l.ID),
		slog.String("api", l.API),
		slog.String("op", l.Op),
		slog.String("method", l.Method),
		slog.String("path", l.Path),
		slog.Int("status", l.Status),
		slog.Duration("duration", l.Duration))
	return r
}

// RequestLineHandler is a slog.Handler that writes the request line from
// its values, without the slog.Record (whose attributes beyond the fifth
// cost an allocation): the server calls HandleRequestLine rather than
// Handle for the request line, once Enabled at info level said yes. It
// must write what Handle would for l.Record().
type RequestLineHandler interface {
	slog.Handler
	// HandleRequestLine must not keep l: the server reuses it.
	HandleRequestLine(ctx context.Context, l *RequestLine) error
}

// baseURL is scheme://host for absolute links.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.ExternalURL != "" {
		return s.cfg.ExternalURL
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	// The last one made, for the next request with the same Host (most
	// are, behind one name).
	if b := s.lastBase.Load(); b != nil && len(*b) == len(scheme)+len(host) &&
		strings.HasPrefix(*b, scheme) && (*b)[len(scheme):] == host {
		return *b
	}
	b := scheme + host
	s.lastBase.Store(&b)
	return b
}

// requestIDs makes request ids: a random per-process prefix and a counter,
// unique without asking the kernel for randomness on every request.
var requestIDs struct {
	prefix [8]byte
	n      atomic.Uint64
	// block is the ids being handed out (idBlock).
	block atomic.Pointer[idBlock]
}

func init() {
	var b [4]byte
	_, _ = rand.Read(b[:])
	hex.Encode(requestIDs.prefix[:], b[:])
}

// idBlockLen is how many request ids are made at once.
const idBlockLen = 32

// idLen is the length of a request id the server makes: 24 hex digits.
const idLen = 24

// idBlock is idBlockLen request ids made at once, each already the value
// of an X-Request-Id header: two allocations for idBlockLen requests
// rather than two for each (the id's string and the header's slice).
// The ids are consecutive numbers; the requests that take them run at
// once, so the order in which they are handed out and the order of the
// requests may differ, as the order of the counter's increments and of
// the requests' ends always could.
type idBlock struct {
	next   atomic.Int32
	values [idBlockLen]string
}

func newIDBlock() *idBlock {
	n := requestIDs.n.Add(idBlockLen) - idBlockLen + 1
	var text [idBlockLen * idLen]byte
	copy(text[:], requestIDs.prefix[:])
	for j := idLen - 1; j >= len(requestIDs.prefix); j-- {
		text[j] = "0123456789abcdef"[n&0xf]
		n >>= 4
	}
	// Each next id is the one before plus one, in hex digits: the digits
	// carried over are the only ones written again.
	for i := 1; i < idBlockLen; i++ {
		b := text[i*idLen : (i+1)*idLen]
		copy(b, text[(i-1)*idLen:i*idLen])
		for j := idLen - 1; j >= len(requestIDs.prefix); j-- {
			switch b[j] {
			case 'f':
				b[j] = '0' // and carry
				continue
			case '9':
				b[j] = 'a'
			default:
				b[j]++
			}
			break
		}
	}
	all := string(text[:])
	blk := &idBlock{}
	for i := range blk.values {
		blk.values[i] = all[i*idLen : (i+1)*idLen]
	}
	return blk
}

// requestID echoes a sane client-sent X-Request-Id or makes one, and
// returns it as the header's value too (which net/http only reads).
func requestID(r *http.Request) (string, []string) {
	if vs := r.Header["X-Request-Id"]; len(vs) > 0 {
		if id := vs[0]; id != "" && len(id) <= 64 && printableToken(id) {
			return id, vs[:1:1]
		}
	}
	for {
		blk := requestIDs.block.Load()
		if blk != nil {
			if i := blk.next.Add(1) - 1; i < idBlockLen {
				v := blk.values[i : i+1 : i+1]
				return v[0], v
			}
		}
		// Spent (or none yet): the request that swaps in a new block
		// takes from it like any other; a block made by a request that
		// lost the race is dropped, its numbers unused.
		requestIDs.block.CompareAndSwap(blk, newIDBlock())
	}
}

func printableToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// send writes any response, success or error: the common headers, the
// body compact or pretty-printed, and its length.
func (s *Server) send(rq *request, status int, contentType []string, body []byte, pretty bool) {
	h := rq.w.Header()
	h["Content-Type"] = contentType
	s.commonHeaders(rq, h)
	if pretty {
		rq.out = wire.Pretty(rq.out[:0], body)
		body = rq.out
	}
	h["Content-Length"] = contentLength(len(body)) // canonical: as Set, without checking the key
	rq.status = status
	rq.w.WriteHeader(status)
	_, _ = rq.w.Write(body)
}

// contentLengths are the Content-Length values of bodies shorter than
// its length, made the first time a body of that length is sent, shared
// by every response after (net/http only reads a header's values; their
// capacity is their length, so an append copies): a single checkpoint,
// an error, a small page, each needs two allocations less.
// At most some 400 KB once every length has been sent.
var contentLengths [16 << 10]atomic.Pointer[[1]string]

// contentLength is the Content-Length value of a body of n bytes.
func contentLength(n int) []string {
	if n < 0 || n >= len(contentLengths) {
		return []string{strconv.Itoa(n)}
	}
	v := contentLengths[n].Load()
	if v == nil {
		v = &[1]string{strconv.Itoa(n)}
		contentLengths[n].Store(v) // another request's equal value may be replaced: either will do
	}
	return v[:]
}

// Header values shared by every response. Assigning these slices directly
// (rather than Header.Set) saves an allocation per header per request;
// net/http only reads them.
var (
	hdrNosniff  = []string{"nosniff"}
	hdrDeny     = []string{"DENY"}
	hdrReferrer = []string{"strict-origin-when-cross-origin"}
)

// commonHeaders are on every API response, errors included.
func (s *Server) commonHeaders(rq *request, h http.Header) {
	h["X-Mongodb-Service-Version"] = s.svcVerHdr
	h["X-Content-Type-Options"] = hdrNosniff
	h["X-Frame-Options"] = hdrDeny
	h["Referrer-Policy"] = hdrReferrer
	if rq.deprecation != nil {
		h["Deprecation"] = rq.deprecation
	}
	if rq.sunset != nil {
		h["Sunset"] = rq.sunset
	}
}
