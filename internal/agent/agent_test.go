package agent_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/agent"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
)

// recorder records the balancer calls made through it, and can stop the
// goroutine that made a call without any cleanup, as a killed process
// stops.
type recorder struct {
	agent.Driver
	mu    sync.Mutex
	calls []string
	// dieAfterStop: the goroutine that stops the balancer exits right
	// after the stop, before anything restarts it.
	dieAfterStop atomic.Bool
}

func (r *recorder) record(s string) {
	r.mu.Lock()
	r.calls = append(r.calls, s)
	r.mu.Unlock()
}

func (r *recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *recorder) StopBalancer(ctx context.Context, timeout time.Duration) error {
	r.record("stop")
	err := r.Driver.StopBalancer(ctx, timeout)
	if err == nil && r.dieAfterStop.Load() {
		runtime.Goexit()
	}
	return err
}

func (r *recorder) StartBalancer(ctx context.Context) error {
	r.record("start")
	return r.Driver.StartBalancer(ctx)
}

func (r *recorder) WriteToken(ctx context.Context, m engine.Member, tok engine.Token) error {
	r.record("token " + m.Name())
	return r.Driver.WriteToken(ctx, m, tok)
}

// TestAgentTakesCheckpoints: an agent takes a checkpoint at every slot of
// the server's 15-minute schedule, reports it, and leaves the balancer
// running.
func TestAgentTakesCheckpoints(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	sc := srv.Cluster()
	stop := runAgent(t, e.config(t, e.driver(t, srv), t.TempDir(), nil))
	waitFor(t, "3 checkpoints", func() bool { return len(e.checkpoints(t)) >= 3 })
	stop()
	cps := e.checkpoints(t)
	for i, cp := range cps {
		if !cp.Restorable || len(cp.Parts) != 3 || cp.Timestamp.Truncate(15*time.Minute) != cp.Timestamp {
			t.Errorf("checkpoint %d: %+v", i, cp)
		}
		if i > 0 && cp.Timestamp.Sub(cps[i-1].Timestamp) != 15*time.Minute {
			t.Errorf("checkpoint %d at %s, the one before at %s: a slot missed", i, cp.Timestamp, cps[i-1].Timestamp)
		}
	}
	if !sc.BalancerEnabled() {
		t.Error("balancer left stopped")
	}
}

// TestBalancerWillNotStop: a slot whose balancer does not stop in time is
// skipped, with its reason logged, and the balancer runs as before.
func TestBalancerWillNotStop(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	sc := srv.Cluster()
	sc.SetFaults(sim.Faults{StopDelay: 2 * time.Minute}) // the stop timeout is 1 minute
	var logs logBuffer
	m := agent.NewMetrics(nil)
	cfg := e.config(t, e.driver(t, srv), t.TempDir(), logs.logger())
	cfg.Metrics = m
	stop := runAgent(t, cfg)
	waitFor(t, "2 skipped slots", func() bool { return slots(t, m, engine.OutcomeSkipped) >= 2 })
	stop()
	if n := len(e.checkpoints(t)); n != 0 {
		t.Errorf("%d checkpoints of slots whose balancer did not stop", n)
	}
	for _, want := range []string{"checkpoint slot skipped", engine.ErrBalancerTimeout.Error()} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs.String())
		}
	}
	if !sc.BalancerEnabled() || sc.Stats().Stops < 2 {
		t.Errorf("balancer enabled %t after %d stops; want it running as before", sc.BalancerEnabled(), sc.Stats().Stops)
	}
}

// slots reads the agent's count of slots with outcome o.
func slots(t *testing.T, m *agent.Metrics, o engine.Outcome) int {
	t.Helper()
	mfs, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "checkpointd_agent_slots_total" {
			continue
		}
		for _, mm := range mf.GetMetric() {
			if mm.GetLabel()[0].GetValue() == string(o) {
				return int(mm.GetCounter().GetValue())
			}
		}
	}
	return 0
}

// outage is a reverse proxy to the env's server that, while down, drops
// checkpoint reports: the first one it forwards and then drops the
// answer (the server stored it, the agent does not know), the others it
// drops unsent. delivered lists the ids the server acknowledged through
// it, in order.
type outage struct {
	proxy     *httputil.ReverseProxy
	down      atomic.Bool
	mu        sync.Mutex
	forwarded bool
	delivered []string
}

func (o *outage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/checkpoints") {
		o.proxy.ServeHTTP(w, r)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	if o.down.Load() && r.Header.Get("Authorization") == "" {
		// The Digest challenge: answered, so that the report itself comes.
		o.proxy.ServeHTTP(w, r)
		return
	}
	if o.down.Load() {
		o.mu.Lock()
		first := !o.forwarded
		o.forwarded = true
		o.mu.Unlock()
		if first {
			rec := httptest.NewRecorder()
			o.proxy.ServeHTTP(rec, r)
		}
		panic(http.ErrAbortHandler) // the connection is closed without an answer
	}
	rec := httptest.NewRecorder()
	o.proxy.ServeHTTP(rec, r)
	if rec.Code == http.StatusOK || rec.Code == http.StatusCreated {
		o.mu.Lock()
		id, _, _ := strings.Cut(strings.TrimPrefix(string(body), `{"id":"`), `"`)
		o.delivered = append(o.delivered, id)
		o.mu.Unlock()
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// TestServerUnreachable: reports the server does not acknowledge are
// kept on disk, across a restart of the agent too, and delivered in the
// order they were taken once it answers again: none lost, none stored
// twice (one of them reached the server though its answer was lost).
func TestServerUnreachable(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	target, _ := url.Parse(e.URL)
	o := &outage{proxy: httputil.NewSingleHostReverseProxy(target)}
	o.down.Store(true)
	front := httptest.NewServer(o)
	t.Cleanup(front.Close)
	dir := t.TempDir()
	m := agent.NewMetrics(nil)
	cfg := e.config(t, e.driver(t, srv), dir, nil)
	cfg.Server, cfg.Metrics = e.server(t, front.URL), m
	stop := runAgent(t, cfg)
	spooled := func() int {
		names, _ := filepath.Glob(filepath.Join(dir, "spool", "*.json"))
		return len(names)
	}
	waitFor(t, "3 spooled reports", func() bool { return spooled() >= 3 })
	stop()
	taken := slots(t, m, engine.OutcomeRestorable)
	if got := spooled(); got != taken {
		t.Fatalf("%d reports spooled for %d checkpoints taken", got, taken)
	}
	if n := len(e.checkpoints(t)); n != 1 {
		t.Fatalf("%d checkpoints stored during the outage; want the one whose answer was lost", n)
	}

	// The server answers again; a new run of the agent delivers what the
	// last one spooled, and goes on.
	o.down.Store(false)
	m2 := agent.NewMetrics(nil)
	cfg.Metrics = m2
	stop = runAgent(t, cfg)
	waitFor(t, "the spool delivered and one more checkpoint", func() bool {
		return spooled() == 0 && len(e.checkpoints(t)) > taken
	})
	stop()
	cps := e.checkpoints(t)
	total := taken + slots(t, m2, engine.OutcomeRestorable)
	if len(cps) != total {
		t.Errorf("%d checkpoints stored, %d taken", len(cps), total)
	}
	seen := map[backup.ObjectID]bool{}
	for i, cp := range cps {
		if seen[cp.ID] || i > 0 && !cp.Timestamp.After(cps[i-1].Timestamp) {
			t.Errorf("checkpoint %d (%s at %s) repeated or out of order", i, cp.ID.Hex(), cp.Timestamp)
		}
		seen[cp.ID] = true
	}
	o.mu.Lock()
	delivered := o.delivered
	o.mu.Unlock()
	var want []string
	for _, cp := range cps {
		want = append(want, cp.ID.Hex())
	}
	if !slices.Equal(delivered, want) {
		t.Errorf("delivered in the order %v; taken in the order %v", delivered, want)
	}
}

// TestKilledAfterBalancerStop: an agent killed between stopping the
// balancer and restarting it leaves a record; the next run restarts the
// balancer before it does anything else.
func TestKilledAfterBalancerStop(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	sc := srv.Cluster()
	dir := t.TempDir()
	r := &recorder{Driver: e.driver(t, srv)}
	r.dieAfterStop.Store(true)
	stop := runAgent(t, e.config(t, r, dir, nil))
	waitFor(t, "the balancer stopped", func() bool { return !sc.BalancerEnabled() })
	stop()
	if _, err := os.Stat(filepath.Join(dir, "balancer.json")); err != nil {
		t.Fatalf("no record of the stopped balancer: %v", err)
	}
	if sc.BalancerEnabled() {
		t.Fatal("the killed agent's balancer runs: nothing to recover")
	}

	r2 := &recorder{Driver: e.driver(t, srv)}
	stop = runAgent(t, e.config(t, r2, dir, nil))
	waitFor(t, "a checkpoint after the restart", func() bool { return len(e.checkpoints(t)) >= 1 })
	stop()
	calls := r2.Calls()
	if len(calls) == 0 || calls[0] != "start" {
		t.Errorf("calls after the restart: %v; want the balancer started first", calls)
	}
	if _, err := os.Stat(filepath.Join(dir, "balancer.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the record is still there: %v", err)
	}
	if !sc.BalancerEnabled() {
		t.Error("balancer left stopped")
	}
}

// TestShardUnreachable: a shard whose primary cannot be reached gets no
// token; the checkpoint is reported not restorable with that part
// undiscovered, and the balancer is restarted.
func TestShardUnreachable(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	sc := srv.Cluster()
	sc.SetFaults(sim.Faults{Unreachable: []string{"Shop0-shard-1"}})
	stop := runAgent(t, e.config(t, e.driver(t, srv), t.TempDir(), nil))
	waitFor(t, "a checkpoint", func() bool { return len(e.checkpoints(t)) >= 1 })
	stop()
	cp := e.checkpoints(t)[0]
	if cp.Restorable || len(cp.Parts) != 3 {
		t.Fatalf("checkpoint %+v; want 3 parts, not restorable", cp)
	}
	for _, p := range cp.Parts {
		if p.TokenDiscovered == (p.ReplicaSetName == "Shop0-shard-1") {
			t.Errorf("part %s: tokenDiscovered %t", p.ReplicaSetName, p.TokenDiscovered)
		}
	}
	if !sc.BalancerEnabled() {
		t.Error("balancer left stopped")
	}
}

// TestTwoAgents: two agents of one cluster, each with its own state,
// take one checkpoint per slot between them: the server's slot claim
// lets one of them take each slot.
func TestTwoAgents(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	sc := srv.Cluster()
	r1, r2 := &recorder{Driver: e.driver(t, srv)}, &recorder{Driver: e.driver(t, srv)}
	stop1 := runAgent(t, e.config(t, r1, t.TempDir(), nil))
	stop2 := runAgent(t, e.config(t, r2, t.TempDir(), nil))
	waitFor(t, "4 checkpoints", func() bool { return len(e.checkpoints(t)) >= 4 })
	stop1()
	stop2()
	cps := e.checkpoints(t)
	for i := 1; i < len(cps); i++ {
		if cps[i].Timestamp.Equal(cps[i-1].Timestamp) {
			t.Errorf("two checkpoints of the slot %s", cps[i].Timestamp)
		}
	}
	stops := 0
	for _, r := range []*recorder{r1, r2} {
		for _, c := range r.Calls() {
			if c == "stop" {
				stops++
			}
		}
	}
	if stops != len(cps) || sc.Stats().Stops != len(cps) {
		t.Errorf("%d balancer stops (%d seen by the cluster) for %d checkpoints; want one per slot", stops, sc.Stats().Stops, len(cps))
	}
}

// TestOperatorStoppedBalancer: a balancer the operator stopped before the
// slot stays stopped; the checkpoint is taken, and the log says so.
func TestOperatorStoppedBalancer(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	sc := srv.Cluster()
	if err := sc.StopBalancer(context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	dir := t.TempDir()
	r := &recorder{Driver: e.driver(t, srv)}
	stop := runAgent(t, e.config(t, r, dir, logs.logger()))
	waitFor(t, "a checkpoint", func() bool { return len(e.checkpoints(t)) >= 1 })
	stop()
	if sc.BalancerEnabled() || sc.Stats().Starts != 0 {
		t.Errorf("the operator's stopped balancer was started (%d starts)", sc.Stats().Starts)
	}
	if !e.checkpoints(t)[0].Restorable {
		t.Error("checkpoint not restorable")
	}
	if !strings.Contains(logs.String(), "balancer already stopped by the operator") {
		t.Errorf("the log does not say the balancer was left stopped:\n%s", logs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "balancer.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a record of a stop the agent did not make: %v", err)
	}
}

// TestCancelledMidCheckpoint: an agent stopped (SIGTERM cancels its
// context) while the balancer it stopped is stopped restarts the
// balancer before it returns, and clears its record.
func TestCancelledMidCheckpoint(t *testing.T) {
	e := newEnv(t)
	srv := e.wire(t, mongowire.Options{})
	sc := srv.Cluster()
	// The first shard in part order answers slowly: the tokens take long.
	sc.SetFaults(sim.Faults{Slow: map[string]time.Duration{"Shop0-shard-1": time.Minute}})
	dir := t.TempDir()
	stop := runAgent(t, e.config(t, e.driver(t, srv), dir, nil))
	waitFor(t, "the balancer stopped", func() bool { return !sc.BalancerEnabled() })
	stop()
	if !sc.BalancerEnabled() {
		t.Error("balancer left stopped by a cancelled agent")
	}
	if _, err := os.Stat(filepath.Join(dir, "balancer.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the record is still there: %v", err)
	}
}
