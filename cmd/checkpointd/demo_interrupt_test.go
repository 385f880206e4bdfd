package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoFirstStartInterrupted starts `serve --demo` on a new file and
// stops it at a random moment of its start (SIGKILL, as a crash or the
// OOM killer, or SIGINT, as Ctrl-C), again and again, each time on a new
// file, then starts it again on that file: the second start always
// serves, with the whole demo data set (three clusters, each with
// checkpoints), whether the first had stored nothing, part of it or all
// of it; and an interrupted first start never reports a cancellation but
// as an interruption. The moments are drawn over the time a first start
// takes to listen, measured first, so that most land while the data set
// is being created. (internal/demo's TestSeedInterrupted stops a seeding
// after each of its writes.)
func TestDemoFirstStartInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	rng := rand.New(rand.NewPCG(crashSeed(t), 0))
	bin := buildBinary(t)
	dir := t.TempDir()
	args := func(db string) []string {
		return []string{"serve", "--addr", "127.0.0.1:0", "--database", db, "--demo", "--engine=false"}
	}

	// How long a first start takes to listen.
	began := time.Now()
	ref := startInstance(t, bin, "reference", args(filepath.Join(dir, "reference.db"))...)
	window := time.Since(began)
	ref.stop(t)
	t.Logf("a first start listens after %v", window.Round(time.Millisecond))

	counts := regexp.MustCompile(`(?m)^  cluster (\S+) .*: (\d+) checkpoints$`)
	outcomes := map[string]int{}
	for round := range 24 {
		db := filepath.Join(dir, fmt.Sprintf("round%d.db", round))
		sig, name := syscall.SIGKILL, "SIGKILL"
		if round%2 == 1 {
			sig, name = syscall.SIGINT, "SIGINT"
		}
		after := time.Duration(rng.Int64N(int64(window + window/4)))

		first := exec.Command(bin, args(db)...)
		first.Env = append(os.Environ(), "CHECKPOINTD_ADDR=", "CHECKPOINTD_DATABASE=")
		var out bytes.Buffer
		first.Stdout, first.Stderr = &out, &out
		if err := first.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(after)
		_ = first.Process.Signal(sig)
		_ = first.Wait()
		said := out.String()
		if strings.Contains(said, "context canceled") && !strings.Contains(said, "interrupted") {
			t.Errorf("round %d: first start stopped by %s after %v reports a cancellation as a failure:\n%s", round, name, after, said)
		}

		again := startInstance(t, bin, fmt.Sprintf("round %d, again", round), args(db)...)
		outcome := "?"
		for _, o := range []string{"created", "completed", "already present"} {
			if strings.Contains(again.printed, "demo data set "+o) {
				outcome = o
			}
		}
		outcomes[outcome]++
		got := counts.FindAllStringSubmatch(again.printed, -1)
		if outcome == "?" || len(got) != 3 {
			t.Fatalf("round %d: start after a %s %v into the first prints:\n%s", round, name, after, again.printed)
		}
		for _, m := range got {
			if n, _ := strconv.Atoi(m[2]); n < 100 {
				t.Errorf("round %d: after a %s %v into the first start, cluster %s has %s checkpoints", round, name, after, m[1], m[2])
			}
		}
		waitReady(t, again)
		again.stop(t)
	}
	t.Logf("second starts: %v", outcomes)
}
