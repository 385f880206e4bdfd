// Package metrics is checkpointd's Prometheus instrumentation: one registry
// of its own (with the Go runtime and process collectors) holding what the
// HTTP pipeline, authentication and the checkpoint engine report, and the
// age of every cluster's newest restore point, read from the store at
// scrape time.
//
// Every label value comes from a bounded set: routes are route names,
// methods and auth failure reasons are fixed lists (httpapi), clusters are
// the data set's. The request hook, which runs on every API request,
// allocates nothing once a (route, method, status) has been seen.
package metrics

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// RestorePoints is what the restore point gauges read on every scrape;
// the stores' NewestRestorable has this shape.
type RestorePoints interface {
	NewestRestorable(ctx context.Context) ([]backup.RestorePoint, error)
}

// RestorableWindows is what the objective gauges read on every scrape,
// when the Store has it: every legacy cluster with its restorable history
// over the window (the stores' RestorableSince).
type RestorableWindows interface {
	RestorableSince(ctx context.Context, since time.Time) ([]backup.ClusterHistory, error)
}

// DefaultWindow is the span of the objective gauges: the worst gap and
// the slot success ratio of the last day.
const DefaultWindow = 24 * time.Hour

// Options configures New.
type Options struct {
	// Store, if set, is read on every scrape for the restore point gauges.
	// Reading it then, rather than following this process's own
	// checkpoints, makes every process sharing a data set report the
	// same truth, checkpoints stored by other processes included.
	Store RestorePoints
	// Window is the span of the worst gap and slot ratio gauges (read
	// when Store is RestorableWindows too); zero means DefaultWindow.
	Window time.Duration
	// ScrapeTimeout bounds that read; zero means DefaultScrapeTimeout.
	ScrapeTimeout time.Duration
	// Clock is the clock of the ages; nil means clock.System.
	Clock clock.Clock
	// Logger receives scrape errors; nil discards them.
	Logger *slog.Logger
}

// DefaultScrapeTimeout bounds the store read of one scrape: well within
// Prometheus's default scrape timeout of 10 s.
const DefaultScrapeTimeout = 5 * time.Second

// Metrics holds checkpointd's metrics. It implements httpapi.Metrics and
// engine.Observer, and is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	requests      *prometheus.CounterVec
	requestTime   *prometheus.HistogramVec
	authFailures  map[string]prometheus.Counter // every reason, made at New; read-only after
	checkpoints   *prometheus.CounterVec
	checkpointDur prometheus.Histogram

	// series caches the children of requests and requestTime by label
	// values, so that the hook neither builds a label slice nor hashes
	// labels on every request: a read-locked map lookup on a key of
	// strings, which allocates nothing.
	mu     sync.RWMutex
	series map[requestKey]requestSeries
}

type requestKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// Buckets, in seconds. API requests take well under a millisecond from a
// warm cache and a few from the store; a checkpoint waits for the
// balancer to stop and for every member's token, seconds to minutes.
var (
	requestBuckets    = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	checkpointBuckets = []float64{1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900}
)

// New returns the metrics, registered on a registry of their own.
func New(o Options) *Metrics {
	m := &Metrics{
		reg:    prometheus.NewRegistry(),
		log:    o.Logger,
		series: map[requestKey]requestSeries{},
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpointd_http_requests_total",
			Help: "API requests answered, by route name, method and status code.",
		}, []string{"route", "method", "status"}),
		requestTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "checkpointd_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its response written, by route name and method.",
			Buckets: requestBuckets,
		}, []string{"route", "method"}),
		checkpoints: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpointd_engine_checkpoints_total",
			Help: "Checkpoint slots this process took, by cluster and outcome (restorable, not_restorable, skipped, not_stored).",
		}, []string{"cluster_id", "outcome"}),
		checkpointDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "checkpointd_engine_checkpoint_duration_seconds",
			Help:    "Time a checkpoint slot this process took lasted, from its claim to the checkpoint stored.",
			Buckets: checkpointBuckets,
		}),
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "checkpointd_auth_failures_total",
		Help: "API and token requests refused by authentication, by reason.",
	}, []string{"reason"})
	// Every reason exists from the start, at 0, so that rate() and
	// increase() see the first failure of each.
	m.authFailures = make(map[string]prometheus.Counter, len(httpapi.AuthFailureReasons))
	for _, r := range httpapi.AuthFailureReasons {
		m.authFailures[r] = failures.WithLabelValues(r)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestTime, failures, m.checkpoints, m.checkpointDur,
	)
	if o.Store != nil {
		clk, timeout := o.Clock, o.ScrapeTimeout
		if clk == nil {
			clk = clock.System
		}
		if timeout <= 0 {
			timeout = DefaultScrapeTimeout
		}
		m.reg.MustRegister(newRestoreCollector(o.Store, clk.Now, timeout, m.log))
		if w, ok := o.Store.(RestorableWindows); ok {
			window := o.Window
			if window <= 0 {
				window = DefaultWindow
			}
			m.reg.MustRegister(newObjectiveCollector(w, window, clk.Now, timeout, m.log))
		}
	}
	return m
}

// Gatherer is the registry, for tests and for serving it elsewhere.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Handler serves the registry in the Prometheus exposition formats. A
// collector that fails (the store unreadable) is logged and left out of
// that scrape, and counted in promhttp_metric_handler_errors_total; the
// other metrics are served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      errorLog{m.log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	}))
}

// errorLog is promhttp's logger on slog.
type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) {
	l.log.Error("metrics: scrape", "err", slog.AnyValue(v))
}

// ObserveRequest implements httpapi.Metrics: it counts and times one
// request. It allocates nothing once the label values have been seen.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	k := requestKey{route, method, status}
	m.mu.RLock()
	s, ok := m.series[k]
	m.mu.RUnlock()
	if !ok {
		s = m.newSeries(k)
	}
	s.count.Inc()
	s.duration.Observe(d.Seconds())
}

// newSeries makes (once) the children of a new set of label values.
func (m *Metrics) newSeries(k requestKey) requestSeries {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.series[k]; ok {
		return s
	}
	s := requestSeries{
		count:    m.requests.WithLabelValues(k.route, k.method, strconv.Itoa(k.status)),
		duration: m.requestTime.WithLabelValues(k.route, k.method),
	}
	m.series[k] = s
	return s
}

// AuthFailure implements httpapi.Metrics. A reason outside
// httpapi.AuthFailureReasons counts as httpapi.AuthOther, so that the
// label stays bounded whatever an Authenticator says.
func (m *Metrics) AuthFailure(reason string) {
	c, ok := m.authFailures[reason]
	if !ok {
		c = m.authFailures[httpapi.AuthOther]
	}
	c.Inc()
}

// SlotDone implements engine.Observer.
func (m *Metrics) SlotDone(c backup.Cluster, outcome engine.Outcome, took time.Duration) {
	m.checkpoints.WithLabelValues(c.ID.Hex(), string(outcome)).Inc()
	m.checkpointDur.Observe(took.Seconds())
}

var (
	_ httpapi.Metrics = (*Metrics)(nil)
	_ engine.Observer = (*Metrics)(nil)
)

// restoreCollector exports each legacy cluster's newest restore point,
// read from the store when scraped.
type restoreCollector struct {
	st      RestorePoints
	now     func() time.Time
	timeout time.Duration
	log     *slog.Logger
	age, ts *prometheus.Desc
}

func newRestoreCollector(st RestorePoints, now func() time.Time, timeout time.Duration, log *slog.Logger) *restoreCollector {
	labels := []string{"group_id", "cluster_id", "cluster_name"}
	return &restoreCollector{st: st, now: now, timeout: timeout, log: log,
		age: prometheus.NewDesc("checkpointd_newest_restorable_checkpoint_age_seconds",
			"Seconds since the timestamp of the cluster's newest restorable checkpoint, whoever stored it; +Inf while the cluster has none.",
			labels, nil),
		ts: prometheus.NewDesc("checkpointd_newest_restorable_checkpoint_timestamp_seconds",
			"Unix time of the cluster's newest restorable checkpoint, whoever stored it; absent while the cluster has none.",
			labels, nil),
	}
}

func (c *restoreCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.age
	ch <- c.ts
}

// Collect reads the restore points, one store statement per scrape. A
// cluster without a restorable checkpoint has an age of +Inf, so that an
// alert on the age fires for it too, and no timestamp: 0 would read as
// 1970, a time that never was a restore point.
func (c *restoreCollector) Collect(ch chan<- prometheus.Metric) {
	// Monitoring is the server's own reading of every project.
	ctx, cancel := context.WithTimeout(backup.WithPrincipal(context.Background(), backup.System), c.timeout)
	defer cancel()
	points, err := c.st.NewestRestorable(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.age, err)
		return
	}
	now := c.now()
	for _, p := range points {
		group, cluster := p.GroupID.Hex(), p.ClusterID.Hex()
		if p.Timestamp.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, math.Inf(1), group, cluster, p.ClusterName)
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, now.Sub(p.Timestamp).Seconds(), group, cluster, p.ClusterName)
		ch <- prometheus.MustNewConstMetric(c.ts, prometheus.GaugeValue, float64(p.Timestamp.Unix()), group, cluster, p.ClusterName)
	}
}

// objectiveCollector exports, per legacy cluster, how its restore points
// kept up over the window: the worst gap between them, the share of its
// slots that left a restorable checkpoint, and its recovery point
// objective, read from the store when scraped (backup.Measure, as the
// administration API's rpo route measures).
type objectiveCollector struct {
	st                         RestorableWindows
	window                     time.Duration
	now                        func() time.Time
	timeout                    time.Duration
	log                        *slog.Logger
	worstGap, ratio, objective *prometheus.Desc
}

func newObjectiveCollector(st RestorableWindows, window time.Duration, now func() time.Time, timeout time.Duration, log *slog.Logger) *objectiveCollector {
	labels := []string{"group_id", "cluster_id", "cluster_name"}
	return &objectiveCollector{st: st, window: window, now: now, timeout: timeout, log: log,
		worstGap: prometheus.NewDesc("checkpointd_restorable_worst_gap_seconds",
			"Longest stretch between consecutive restorable checkpoints of the cluster over the last "+window.String()+
				", the one across the window's start whole and the one still open at the scrape included.",
			labels, nil),
		ratio: prometheus.NewDesc("checkpointd_slot_success_ratio",
			"Share of the cluster's checkpoint slots of the last "+window.String()+" that left a restorable checkpoint (its slot records', or its interval's grid without any); absent while none was due.",
			labels, nil),
		objective: prometheus.NewDesc("checkpointd_recovery_point_objective_seconds",
			"The cluster's recovery point objective; absent while it declares none. Compare with checkpointd_newest_restorable_checkpoint_age_seconds.",
			labels, nil),
	}
}

func (c *objectiveCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.worstGap
	ch <- c.ratio
	ch <- c.objective
}

// Collect reads every legacy cluster's window, one store statement per
// scrape.
func (c *objectiveCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(backup.WithPrincipal(context.Background(), backup.System), c.timeout)
	defer cancel()
	now := c.now()
	since := now.Add(-c.window)
	hs, err := c.st.RestorableSince(ctx, since)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.worstGap, err)
		return
	}
	for i := range hs {
		cl, h := &hs[i].Cluster, &hs[i].History
		h.To = now
		r := backup.Measure(cl, h, backup.RangeSlots(cl, h, since, now, hs[i].Slots), now)
		labels := []string{cl.GroupID.Hex(), cl.ID.Hex(), cl.Name}
		ch <- prometheus.MustNewConstMetric(c.worstGap, prometheus.GaugeValue, r.WorstGap.Length().Seconds(), labels...)
		if ratio, ok := r.SlotRatio(); ok {
			ch <- prometheus.MustNewConstMetric(c.ratio, prometheus.GaugeValue, ratio, labels...)
		}
		if r.Objective > 0 {
			ch <- prometheus.MustNewConstMetric(c.objective, prometheus.GaugeValue, r.Objective.Seconds(), labels...)
		}
	}
}
