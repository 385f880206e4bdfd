package internal_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fuzzTimeEnv sets how long TestFuzzTargets runs each fuzz target, as a Go
// duration; CI=true without it means defaultCIFuzzTime.
const fuzzTimeEnv = "CHECKPOINTD_FUZZ_TIME"

const defaultCIFuzzTime = 10 * time.Second

var fuzzFunc = regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`)

// fuzzTarget is one fuzz function and the package directory it lives in.
type fuzzTarget struct{ dir, name string }

// findFuzzTargets lists every fuzz target of the module, by reading the
// test files, so that a new target is fuzzed without being listed here.
func findFuzzTargets(t *testing.T, root string) []fuzzTarget {
	t.Helper()
	var out []fuzzTarget
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllSubmatch(b, -1) {
			out = append(out, fuzzTarget{dir: filepath.Dir(path), name: string(m[1])})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].dir != out[j].dir {
			return out[i].dir < out[j].dir
		}
		return out[i].name < out[j].name
	})
	return out
}

// TestFuzzTargets runs every fuzz target of the module with the fuzzing
// engine for a bounded time each (CHECKPOINTD_FUZZ_TIME, or 10 s when
// CI=true), one worker at a time so that it leaves the rest of the suite a
// core. `go test ./...` alone replays every target's seeds and kept corpus
// (testdata/fuzz) as ordinary tests; this goes further and looks for new
// inputs. An input that fails is written into the package's
// testdata/fuzz/<target>/ by the fuzzing engine, where it stays as a
// regression case once committed.
//
// Each package's instrumented test binary is built once, before any
// fuzzing: fuzzing instruments every dependency (the SQLite driver
// included), which takes minutes on a cold build cache and must not eat
// into one target's fuzz time. The targets then share what is left of this
// test binary's own deadline (go test's -timeout, 10 minutes by default),
// each getting the fuzz time or its share, whichever is shorter.
func TestFuzzTargets(t *testing.T) {
	d := defaultCIFuzzTime
	switch v := os.Getenv(fuzzTimeEnv); {
	case v != "":
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 {
			t.Fatalf("%s=%q: want a positive duration such as 10s", fuzzTimeEnv, v)
		}
	case os.Getenv("CI") != "true":
		t.Skipf("fuzzing runs when CI=true or %s is set (e.g. %s=30s); the seeds and corpus run in every go test", fuzzTimeEnv, fuzzTimeEnv)
	}
	if testing.Short() {
		t.Skip("fuzzing takes minutes")
	}
	root, err := filepath.Abs("..") // the module root: this file is in internal/
	if err != nil {
		t.Fatal(err)
	}
	targets := findFuzzTargets(t, root)
	if len(targets) < 10 {
		t.Fatalf("found %d fuzz targets, fewer than the module has: %v", len(targets), targets)
	}
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Duration(len(targets))*(d+time.Minute) + 15*time.Minute)
	}
	// What a run costs besides its fuzz time (start, baseline coverage of
	// the corpus, stop), and what is kept for reporting at the end.
	const perRun, margin = 5 * time.Second, 30 * time.Second

	bins, err := buildFuzzBinaries(t, root, targets, deadline.Add(-margin))
	if err != nil {
		t.Fatal(err)
	}
	cacheDir := fuzzCacheDir(t)
	for i, ft := range targets {
		rel, _ := filepath.Rel(root, ft.dir)
		t.Run(rel+"/"+ft.name, func(t *testing.T) {
			run := d
			if share := time.Until(deadline.Add(-margin))/time.Duration(len(targets)-i) - perRun; share < run {
				if share < time.Second {
					t.Fatalf("no time left to fuzz %s (deadline %s): run go test with a longer -timeout", ft.name, deadline.Format(time.TimeOnly))
				}
				run = share.Truncate(100 * time.Millisecond)
				t.Logf("%s: fuzzing %s instead of %s to end before the test deadline", ft.name, run, d)
			}
			ctx, cancel := context.WithTimeout(context.Background(), run+2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bins[ft.dir], "-test.run", "^$", "-test.fuzz", "^"+ft.name+"$",
				"-test.fuzztime", run.String(), "-test.parallel", "1",
				"-test.fuzzcachedir", filepath.Join(cacheDir, rel, ft.name))
			cmd.Dir = ft.dir // where the corpus is read and a failing input written
			out, err := cmd.CombinedOutput()
			if err != nil && deadlineRace(out, ft.name, run) {
				// The whole budget was spent and nothing failed: the fuzzing
				// coordinator of Go before 1.27 reports its own -fuzztime
				// deadline as a failure when it fires while a worker is
				// mid-input (go.dev/issue/75804).
				t.Logf("%s: ran %s; the toolchain reported its own deadline (go.dev/issue/75804), no failing input", ft.name, run)
				return
			}
			if err != nil {
				t.Fatalf("fuzzing %s (in %s): %v\n%s", ft.name, rel, err, tail(out, 60))
			}
			t.Logf("%s: %s", ft.name, lastFuzzLine(out))
		})
	}
}

// buildFuzzBinaries builds, once per package, the test binary instrumented
// for fuzzing, and returns them by package directory.
func buildFuzzBinaries(t *testing.T, root string, targets []fuzzTarget, deadline time.Time) (map[string]string, error) {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	dir := t.TempDir()
	bins := map[string]string{}
	start := time.Now()
	for _, ft := range targets {
		if bins[ft.dir] != "" {
			continue
		}
		rel, _ := filepath.Rel(root, ft.dir)
		bin := filepath.Join(dir, strings.ReplaceAll(rel, string(filepath.Separator), "_")+".test")
		cmd := exec.CommandContext(ctx, "go", "test", "-c", "-fuzz", ".", "-o", bin, ".")
		cmd.Dir = ft.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building %s for fuzzing: %v\n%s", rel, err, tail(out, 40))
		}
		bins[ft.dir] = bin
	}
	t.Logf("built %d instrumented test binaries in %s", len(bins), time.Since(start).Round(time.Second))
	return bins, nil
}

// fuzzCacheDir is where go test itself keeps the inputs the fuzzing engine
// found interesting, so that a run here goes on from earlier ones.
func fuzzCacheDir(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if c := strings.TrimSpace(string(out)); err == nil && c != "" && c != "off" {
		return filepath.Join(c, "fuzz", "checkpointd")
	}
	return t.TempDir()
}

// deadlineRace tells whether a failed `go test -fuzz` run failed only by
// the toolchain's deadline race: the target's FAIL line after at least the
// whole fuzz time, followed by nothing but "context deadline exceeded", and
// no failing input written, no panic, no message of the target's own.
func deadlineRace(out []byte, target string, fuzzTime time.Duration) bool {
	s := string(out)
	if strings.Contains(s, "Failing input written to") || strings.Contains(s, "panic:") {
		return false
	}
	m := regexp.MustCompile(`(?m)^\s*--- FAIL: ` + regexp.QuoteMeta(target) + ` \(([0-9.]+)s\)\n\s*context deadline exceeded\n\s*FAIL\n`).FindStringSubmatch(s)
	if m == nil || strings.Count(s, "--- FAIL:") != 1 {
		return false
	}
	secs, err := strconv.ParseFloat(m[1], 64)
	return err == nil && time.Duration(secs*float64(time.Second)) >= fuzzTime
}

func tail(b []byte, lines int) string {
	var all []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// lastFuzzLine is the fuzzing engine's last progress line: executions and
// inputs found.
func lastFuzzLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "fuzz: elapsed") {
			return lines[i]
		}
	}
	return lines[len(lines)-1]
}

// TestFindFuzzTargets: the discovery finds the targets of several
// packages, and only functions shaped as fuzz targets.
func TestFindFuzzTargets(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, ft := range findFuzzTargets(t, root) {
		rel, _ := filepath.Rel(root, ft.dir)
		found[rel+"."+ft.name] = true
	}
	for _, want := range []string{"internal/httpapi.FuzzRequest", "internal/auth.FuzzAuthenticate",
		"internal/auth/digest.FuzzParseAuthorization", "internal/store/codec.FuzzDecodeParts"} {
		if !found[want] {
			t.Errorf("%s not found among %v", want, found)
		}
	}
	for k := range found {
		if !strings.Contains(k, ".Fuzz") {
			t.Errorf("not a fuzz target: %s", k)
		}
	}
}

// TestDeadlineRace: only the toolchain's bare deadline report after the
// whole fuzz time is forgiven; a found input, a panic, a message of the
// target's own or an early deadline is a failure.
func TestDeadlineRace(t *testing.T) {
	const race = "fuzz: elapsed: 10s, execs: 280845 (23789/sec), new interesting: 0 (total: 17)\n" +
		"--- FAIL: FuzzParseObjectID (10.37s)\n    context deadline exceeded\nFAIL\nexit status 1\n" +
		"FAIL\tgithub.com/checkpointd/checkpointd/internal/backup\t10.407s\n"
	for _, tc := range []struct {
		name   string
		out    string
		target string
		want   bool
	}{
		{"race after the whole time", race, "FuzzParseObjectID", true},
		{"deadline before the time was spent", strings.Replace(race, "(10.37s)", "(4.02s)", 1), "FuzzParseObjectID", false},
		{"another target's line", race, "FuzzOther", false},
		{"failing input written", race + "    Failing input written to testdata/fuzz/FuzzParseObjectID/abc\n", "FuzzParseObjectID", false},
		{"a panic", strings.Replace(race, "    context deadline exceeded\n", "    context deadline exceeded\npanic: boom\n", 1), "FuzzParseObjectID", false},
		{"the target's own message", strings.Replace(race, "    context deadline exceeded\n", "    fuzz_test.go:12: bad id\n", 1), "FuzzParseObjectID", false},
		{"two failures", race + "--- FAIL: FuzzParseObjectID (10.50s)\n", "FuzzParseObjectID", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deadlineRace([]byte(tc.out), tc.target, 10*time.Second); got != tc.want {
				t.Errorf("deadlineRace = %v, want %v", got, tc.want)
			}
		})
	}
}
