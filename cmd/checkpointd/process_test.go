package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Helpers of the tests that run checkpointd as a real process
// (TestMultiInstance, TestCrashSafety): buildBinary builds it once per
// test, startInstance runs it.

// buildBinary builds this command into a temporary directory of t and
// returns the binary's path.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "checkpointd")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// instance is one `checkpointd serve` process.
type instance struct {
	name    string
	cmd     *exec.Cmd
	base    string
	printed string
	logs    *syncBuffer
	done    chan struct{} // closed once the process has been waited for
}

// startInstance starts bin with args and waits for its "listening on"
// line; when the test ends it stops the process (SIGTERM, then SIGKILL).
func startInstance(t *testing.T, bin, name string, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "CHECKPOINTD_ADDR=", "CHECKPOINTD_DATABASE=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{name: name, cmd: cmd, logs: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = in.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(in.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-in.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s server did not stop on SIGTERM", name)
			_ = cmd.Process.Kill()
			<-in.done
		}
		if t.Failed() {
			t.Logf("%s server's log:\n%s", name, in.logs.String())
		}
	})
	type line struct {
		printed, base string
	}
	got := make(chan line, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if base, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				got <- line{b.String(), base}
				break
			}
		}
		close(got)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-got:
		if !ok {
			<-in.done
			t.Fatalf("%s server exited before listening:\n%s", name, in.logs.String())
		}
		in.printed, in.base = l.printed, l.base
	case <-time.After(30 * time.Second):
		t.Fatalf("%s server did not listen within 30s:\n%s", name, in.logs.String())
	}
	return in
}

// kill ends the process with SIGKILL, as a crash or the OOM killer would,
// and returns once it has been waited for and its log fully read.
func (in *instance) kill(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s server: %v", in.name, err)
	}
	<-in.done
}

// stop asks the process to stop (SIGTERM) and fails t unless it exits
// with status 0 within 15 seconds.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("stop %s server: %v", in.name, err)
	}
	select {
	case <-in.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("%s server did not stop within 15s of SIGTERM", in.name)
	}
	if !in.cmd.ProcessState.Success() {
		t.Errorf("%s server stopped with %v", in.name, in.cmd.ProcessState)
	}
}
