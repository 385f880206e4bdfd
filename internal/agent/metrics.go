package agent

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// Metrics is the agent's Prometheus instrumentation, on a registry of its
// own with the Go runtime and process collectors, served on the agent's
// metrics listener. It implements engine.Observer. A nil *Metrics records
// nothing.
type Metrics struct {
	reg         *prometheus.Registry
	log         *slog.Logger
	slots       *prometheus.CounterVec
	slotTime    prometheus.Histogram
	pending     prometheus.Gauge
	delivered   prometheus.Counter
	rejected    prometheus.Counter
	stopped     prometheus.Gauge
	lastRestore prometheus.Gauge
}

// NewMetrics returns the agent's metrics; log receives scrape errors.
func NewMetrics(log *slog.Logger) *Metrics {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: log,
		slots: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "checkpointd_agent_slots_total",
			Help: "Checkpoint slots this agent claimed, by outcome (restorable, not_restorable, skipped, not_stored).",
		}, []string{"outcome"}),
		slotTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "checkpointd_agent_slot_duration_seconds",
			Help:    "Time from claiming a slot to its checkpoint spooled.",
			Buckets: []float64{0.5, 1, 2, 5, 10, 30, 60, 120, 300},
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "checkpointd_agent_reports_pending",
			Help: "Checkpoint reports spooled on disk and not yet acknowledged by the server.",
		}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "checkpointd_agent_reports_delivered_total",
			Help: "Checkpoint reports the server acknowledged.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "checkpointd_agent_reports_rejected_total",
			Help: "Checkpoint reports the server refused for good, kept in the spool's rejected directory.",
		}),
		stopped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "checkpointd_agent_balancer_stopped",
			Help: "1 while the balancer is stopped by this agent (a checkpoint under way, or a restart that keeps failing).",
		}),
		lastRestore: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "checkpointd_agent_last_restorable_timestamp_seconds",
			Help: "Timestamp (Unix seconds) of the newest restorable checkpoint this agent took.",
		}),
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.slots, m.slotTime, m.pending, m.delivered, m.rejected, m.stopped, m.lastRestore)
	for _, o := range []engine.Outcome{engine.OutcomeRestorable, engine.OutcomeNotRestorable, engine.OutcomeSkipped, engine.OutcomeNotStored} {
		m.slots.WithLabelValues(string(o))
	}
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: errorLog{m.log}})
}

// Gatherer is the registry, for tests.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

type errorLog struct{ log *slog.Logger }

func (l errorLog) Println(v ...any) { l.log.Error("metrics", "err", v) }

// SlotDone implements engine.Observer.
func (m *Metrics) SlotDone(_ backup.Cluster, o engine.Outcome, took time.Duration) {
	if m == nil {
		return
	}
	m.slots.WithLabelValues(string(o)).Inc()
	m.slotTime.Observe(took.Seconds())
}

func (m *Metrics) restorable(ts time.Time) {
	if m != nil {
		m.lastRestore.Set(float64(ts.Unix()))
	}
}

func (m *Metrics) spool(pending, delivered, rejected int) {
	if m != nil {
		m.pending.Set(float64(pending))
		m.delivered.Add(float64(delivered))
		m.rejected.Add(float64(rejected))
	}
}

func (m *Metrics) balancerStopped(on bool) {
	if m != nil {
		m.stopped.Set(map[bool]float64{true: 1}[on])
	}
}
