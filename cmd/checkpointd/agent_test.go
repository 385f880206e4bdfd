package main

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/agent/agenttest"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
)

// commandLog records the commands a simulated cluster answered, in the
// order it answered them, from mongowire's debug records.
type commandLog struct {
	mu   sync.Mutex
	cmds []string
}

func (l *commandLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *commandLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *commandLog) WithGroup(string) slog.Handler            { return l }
func (l *commandLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "cmd" {
			l.mu.Lock()
			l.cmds = append(l.cmds, a.Value.String())
			l.mu.Unlock()
			return false
		}
		return true
	})
	return nil
}

func (l *commandLog) since(i int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.cmds[i:])
}

func (l *commandLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cmds)
}

// TestAgentKilled runs `checkpointd agent` as a process against a
// wire-simulated cluster and a server, kills it with SIGKILL while the
// balancer it stopped is stopped (a shard answers slowly, so the tokens
// take long), and starts it again: the new process restarts the balancer
// before it sends any other balancer command or token, clears its record,
// and goes on taking checkpoints.
func TestAgentKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	const speed = 900
	epoch := time.Now()
	clk := clock.Accelerated(clock.System, epoch, speed)

	api := agenttest.NewServer(t, clk)
	c := api.Cluster
	sc, err := sim.New(c, clock.System, 1, sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var cmds commandLog
	srv, err := mongowire.Start(sc, mongowire.Options{Logger: slog.New(&cmds)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	// The first shard in part order answers in 20 s: the first slot's
	// balancer stays stopped that long.
	sc.SetFaults(sim.Faults{Slow: map[string]time.Duration{"Shop0-shard-1": 20 * time.Second}})

	state := t.TempDir()
	start := func() (*exec.Cmd, *syncBuffer, chan struct{}) {
		cmd := exec.Command(bin, "agent", "--base-url", api.URL, "--public-key", api.PublicKey,
			"--project", api.Project(), "--cluster", c.Name, "--state-dir", state, "--refresh", "200ms",
			"--op-timeout", "1m", "--log-level", "debug",
			"--clock-speed", strconv.Itoa(speed), "--clock-epoch", strconv.FormatInt(epoch.UnixMilli(), 10))
		cmd.Env = append(os.Environ(), "CHECKPOINTD_MONGODB_URI="+srv.URI(), "CHECKPOINTD_PRIVATE_KEY="+api.PrivateKey)
		logs := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(done)
		}()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-done
			if t.Failed() {
				t.Logf("agent's log:\n%s", logs.String())
			}
		})
		return cmd, logs, done
	}
	first, _, done := start()
	agenttest.WaitFor(t, "the balancer stopped", func() bool { return !sc.BalancerEnabled() })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if _, err := os.Stat(filepath.Join(state, "balancer.json")); err != nil {
		t.Fatalf("no record of the stopped balancer: %v", err)
	}
	if sc.BalancerEnabled() {
		t.Fatal("the balancer runs after the kill: nothing to recover")
	}
	sc.SetFaults(sim.Faults{})

	mark := cmds.len()
	second, _, done := start()
	agenttest.WaitFor(t, "a checkpoint by the second agent", func() bool { return len(api.Checkpoints(t)) > 0 })
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done
	if !second.ProcessState.Success() {
		t.Errorf("the second agent exited with %v", second.ProcessState)
	}
	var order []string
	for _, cmd := range cmds.since(mark) {
		switch cmd {
		case "balancerStart", "balancerStop", "appendOplogNote":
			order = append(order, cmd)
		}
	}
	if len(order) < 3 || order[0] != "balancerStart" || order[1] != "balancerStop" {
		t.Errorf("the second agent's balancer commands and tokens: %v; want balancerStart first, then a checkpoint", order)
	}
	if _, err := os.Stat(filepath.Join(state, "balancer.json")); !os.IsNotExist(err) {
		t.Errorf("the record is still there: %v", err)
	}
	if !sc.BalancerEnabled() {
		t.Error("balancer left stopped")
	}
}
