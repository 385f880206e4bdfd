package internal_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wallClock matches a direct read of the wall clock.
var wallClock = regexp.MustCompile(`\btime\.(Now|Since|Until)\b`)

// TestOneClock keeps time to one source: outside package clock, the
// server's code reads the time from the clock.Clock it is given, never
// from the wall clock directly, except to measure real elapsed time (for
// logs, metrics, rate limits), which a comment on the line or just above
// it must say ("elapsed" or "wall clock").
func TestOneClock(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == "clock" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		var above []string // the comment lines just above the current line
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, "//") {
				above = append(above, line)
				continue
			}
			if wallClock.MatchString(line) && !explained(append(above, line)) {
				t.Errorf("%s:%d reads the wall clock: take a clock.Clock, or say why it measures elapsed time: %s", path, n, line)
			}
			above = above[:0]
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}

func explained(lines []string) bool {
	for _, l := range lines {
		if _, c, ok := strings.Cut(l, "//"); ok && (strings.Contains(c, "elapsed") || strings.Contains(c, "wall clock")) {
			return true
		}
	}
	return false
}
