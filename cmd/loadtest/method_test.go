package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/open"
)

// TestMain lets the test binary serve as a ceiling process, as the
// program does (startCeiling runs os.Executable()).
func TestMain(m *testing.M) {
	if file := os.Getenv(ceilingEnv); file != "" {
		if err := serveCeiling(file, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "ceiling:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestMethod runs the method briefly with the built-in generator: a
// checkpointd serve process per phase in both configurations, the
// ceiling process, the walks, the memory readings and the report. Any
// answer but 200, a ceiling answering otherwise than checkpointd, a
// shipped server logging no request line or a stripped one logging
// some, or a high-water mark not reset, fails the run. With
// CHECKPOINTD_TEST_POSTGRES set it measures PostgreSQL too, in a
// scratch database it drops afterwards.
func TestMethod(t *testing.T) {
	stores := "sqlite"
	pg := os.Getenv("CHECKPOINTD_TEST_POSTGRES")
	if pg != "" {
		stores = "sqlite,postgres"
		t.Cleanup(func() {
			conn, err := pgx.Connect(context.Background(), pg)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS checkpointd_load_250_1200"); err != nil {
				t.Error(err)
			}
		})
	}
	var out strings.Builder
	args := []string{"-generator", "builtin", "-duration", "100ms", "-reps", "2", "-connections", "2,3", "-small", "250", "-big", "1200",
		"-stores", stores, "-postgres", pg, "-dir", t.TempDir(),
		"-phases", `^get-one$|^digest$|^walk 1200 uncached 500$|^walk 250 cached 500$`}
	if _, err := load(context.Background(), args, &out); err != nil {
		t.Fatalf("method: %v\n%s", err, out.String())
	}
	report := out.String()
	want := []string{
		"cores, load average (1 min) ", "2 repetitions of 100ms per side of each figure, the sides taking turns, by the built-in generator",
		"#### SQLite, shipped configuration", "#### SQLite, stripped configuration",
		"| get-one | get-one | 2 | ceiling | ", "| get-one | get-one | 3 | ceiling | ",
		"| digest | get-one, digest vs bearer | 2 | bearer, built-in | ",
		"| digest | list-100, digest vs bearer | 3 | bearer, built-in | ",
		"| walk 1200 uncached 500 | 500 a page, includeCount=false | 2 | ceiling | ",
		"| walk 250 cached 500 | 500 a page, includeCount=true | 3 | ceiling | ",
		"#### Uncached walk over 1200 against cached walk over 250",
		"| SQLite | shipped | 500 | true | 2 | ", "| SQLite | stripped | 500 | false | 3 | ",
		"#### Shipped against stripped configuration",
		"| phase | SQLite, shipped | SQLite, stripped |",
		"RSS target (≤ 64.0 MiB under random 500-item pages at 1200), SQLite, shipped: ",
	}
	if pg != "" {
		want = append(want, "#### PostgreSQL, stripped configuration", "| PostgreSQL | shipped | 500 | true | 2 | ")
	}
	for _, w := range want {
		if !strings.Contains(report, w) {
			t.Errorf("report lacks %q:\n%s", w, report)
		}
	}
	// Two repetitions of each side: a median and a range of two values.
	if !regexp.MustCompile(`\| get-one \| get-one \| 2 \| ceiling \| \d+ \(\d+–\d+\) \| [0-9.]+ \([0-9.]+–[0-9.]+\) \| checkpointd, bearer \| \d+ \(\d+–\d+\) \|`).MatchString(report) {
		t.Errorf("no median and range in:\n%s", report)
	}
	if strings.Contains(report, "| get-one | list-100") || strings.Contains(report, "walk 250 uncached") {
		t.Errorf("phases not asked for were measured:\n%s", report)
	}
}

// TestMethodFlags: bad flags are refused before anything runs.
func TestMethodFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-stores", "sqlite,mysql"}, `-stores: "mysql" is none of sqlite, postgres`},
		{[]string{"-configs", "fast"}, `-configs: "fast" is none of shipped, stripped`},
		{[]string{"-connections", "16,x"}, `-connections: "x" is not a positive number`},
		{[]string{"-reps", "0"}, "-reps: at least 1"},
		{[]string{"-phases", "("}, "-phases: "},
		{[]string{"-generator", "ab"}, `-generator: "ab" is none of wrk, builtin or auto`},
		{[]string{"-duration", "-1s"}, "-duration and -small must be positive"},
		{[]string{"extra"}, `unexpected arguments ["extra"]`},
		{[]string{"-run", "get-one"}, "-run applies to -inprocess only"},
		{[]string{"-cpuprofile", "x"}, "-cpuprofile applies to -inprocess only"},
	} {
		_, err := load(context.Background(), tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestMethodSkipsPostgres: a PostgreSQL server that does not answer is
// skipped with a message saying so, and the rest is measured.
func TestMethodSkipsPostgres(t *testing.T) {
	var out strings.Builder
	args := []string{"-generator", "builtin", "-duration", "50ms", "-reps", "1", "-connections", "1", "-small", "100", "-big", "0",
		"-stores", "sqlite,postgres", "-configs", "stripped", "-postgres", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2",
		"-dir", t.TempDir(), "-phases", "^get-one$"}
	if _, err := load(context.Background(), args, &out); err != nil {
		t.Fatalf("method: %v\n%s", err, out.String())
	}
	for _, w := range []string{"PostgreSQL: SKIPPED: no PostgreSQL server answers at postgres://postgres@127.0.0.1:1/", "PostgreSQL skipped: ", "#### SQLite, stripped configuration"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("report lacks %q:\n%s", w, out.String())
		}
	}
}

// TestCeiling: the ceiling process answers a captured request with the
// very response the server sent (status line, headers but Date, body,
// framing), and a page it holds no capture of with a captured page of the
// same query chosen by pageNum.
func TestCeiling(t *testing.T) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.atlas.2023-01-01+json;charset=utf-8")
		w.Header().Set("X-Request-Page", r.URL.Query().Get("pageNum"))
		body := strings.Repeat(`{"page":"`+r.URL.Query().Get("pageNum")+`"}`, 1+len(r.URL.Query().Get("pageNum"))*1000)
		if r.URL.Query().Get("itemsPerPage") == "1" {
			w.Header().Set("Content-Length", fmt.Sprint(len(body))) // framed by length, as a small answer is
		}
		_, _ = io.WriteString(w, body)
	}))
	defer api.Close()
	var resps []captured
	for _, uri := range []string{"/x?itemsPerPage=1&pageNum=3", "/x?itemsPerPage=100&pageNum=1", "/x?itemsPerPage=100&pageNum=2"} {
		b, h, err := fetchRaw(context.Background(), api.URL+uri, noCredentials)
		if err != nil {
			t.Fatal(err)
		}
		resps = append(resps, captured{URI: uri, Header: h, Body: b})
	}
	c, err := startCeiling(context.Background(), t.TempDir()+"/ceiling.json", resps)
	if err != nil {
		t.Fatal(err)
	}
	defer c.stop()
	dump := func(u string) string {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		res.Header.Del("Date")
		b, err := httputil.DumpResponse(res, true)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, tc := range []struct{ uri, like string }{
		{"/x?itemsPerPage=1&pageNum=3", "/x?itemsPerPage=1&pageNum=3"},
		{"/x?itemsPerPage=100&pageNum=1", "/x?itemsPerPage=100&pageNum=1"},
		{"/x?itemsPerPage=100&pageNum=2", "/x?itemsPerPage=100&pageNum=2"},
		{"/x?itemsPerPage=100&pageNum=7", "/x?itemsPerPage=100&pageNum=2"}, // 7 % 2 samples: the second
		{"/x?itemsPerPage=100&pageNum=8", "/x?itemsPerPage=100&pageNum=1"},
	} {
		if got, want := dump(c.url+tc.uri), dump(api.URL+tc.like); got != want {
			t.Errorf("%s: the ceiling answered\n%.300s\nwhere the server answered %s with\n%.300s", tc.uri, got, tc.like, want)
		}
	}
	res, err := http.Get(c.url + "/y")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("a request not captured: %d, want 404", res.StatusCode)
	}
}

func TestSpreadPages(t *testing.T) {
	for _, tc := range []struct {
		pages, n int
		want     []int
	}{
		{1, 8, []int{1}},
		{2, 8, []int{1, 2}},
		{8, 8, []int{1, 2, 3, 4, 5, 6, 7, 8}},
		{10, 8, []int{1, 2, 3, 4, 6, 7, 8, 10}},
		{2000, 8, []int{1, 286, 572, 857, 1143, 1428, 1714, 2000}},
	} {
		if got := spreadPages(tc.pages, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("spreadPages(%d, %d) = %v, want %v", tc.pages, tc.n, got, tc.want)
		}
	}
}

// TestWalk: an uncached walk reaches the whole range, first and last
// page included, and nothing outside it; a cached one only its pages. The
// wrk script says the same.
func TestWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	un := requests{path: "/p?pageNum=", pages: 20}
	seen := map[string]int{}
	for range 2000 {
		seen[un.next(rng)]++
	}
	if len(seen) != 20 || seen["/p?pageNum=1"] == 0 || seen["/p?pageNum=20"] == 0 || seen["/p?pageNum=0"] != 0 || seen["/p?pageNum=21"] != 0 {
		t.Errorf("uncached walk over 20 pages visited %v", seen)
	}
	cached := requests{path: "/p?pageNum=", pageNums: []int{1, 7, 20}}
	seen = map[string]int{}
	for range 300 {
		seen[cached.next(rng)]++
	}
	if len(seen) != 3 || seen["/p?pageNum=7"] == 0 {
		t.Errorf("cached walk over pages 1, 7, 20 visited %v", seen)
	}
	if (requests{path: "/one"}).next(rng) != "/one" {
		t.Error("a fixed request moved")
	}
	for _, tc := range []struct {
		r    requests
		want []string
	}{
		{un, []string{`local prefix = "/p?pageNum="`, "local pages = 20", "math.random(1, pages)", "math.randomseed(number * 7919)", "wrk.format(nil, prefix .. page())"}},
		{cached, []string{"local nums = {1, 7, 20}", "nums[math.random(1, #nums)]"}},
	} {
		s := wrkScript(tc.r)
		for _, w := range tc.want {
			if !strings.Contains(s, w) {
				t.Errorf("wrk script lacks %q:\n%s", w, s)
			}
		}
	}
}

func TestSpreadOf(t *testing.T) {
	for _, tc := range []struct {
		v    []float64
		want spread
	}{
		{[]float64{3}, spread{3, 3, 3}},
		{[]float64{5, 1, 3}, spread{3, 1, 5}},
		{[]float64{4, 1, 2, 10}, spread{3, 1, 10}},
	} {
		if got := spreadOf(tc.v); got != tc.want {
			t.Errorf("spreadOf(%v) = %+v, want %+v", tc.v, got, tc.want)
		}
	}
	if got := (spread{31990, 30100.4, 32500}).rps(); got != "31990 (30100–32500)" {
		t.Errorf("rps() = %q", got)
	}
}

// TestHighWaterMark: the mark of a process that grew and shrank goes back
// to its resident set when reset (this process's own).
func TestHighWaterMark(t *testing.T) {
	m, err := parseStatus("Name:\tx\nVmHWM:\t  218360 kB\nVmRSS:\t   13556 kB\n", "VmHWM", "VmRSS")
	if err != nil || m["VmHWM"] != 218360<<10 || m["VmRSS"] != 13556<<10 {
		t.Errorf("parseStatus = %v, %v", m, err)
	}
	if _, err := parseStatus("VmRSS:\t1 kB\n", "VmHWM"); err == nil {
		t.Error("a missing field was not refused")
	}
	b := make([]byte, 64<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	before, err := procStatus(os.Getpid(), "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	b = nil
	debug.FreeOSMemory() // the slice back to the system: the resident set shrinks
	if err := resetHWM(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	after, err := procStatus(os.Getpid(), "VmHWM", "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	if after["VmHWM"] >= before["VmHWM"] {
		t.Errorf("VmHWM %s before the reset, %s after (RSS %s): not reset", mib(before["VmHWM"]), mib(after["VmHWM"]), mib(after["VmRSS"]))
	}
	if l := loadavg(); l < 0 {
		t.Errorf("loadavg() = %v", l)
	}
}

// TestMethodShortDatabase: a kept database holding fewer checkpoints than
// the run asks for (a seeding cut short) is refused, not walked.
func TestMethodShortDatabase(t *testing.T) {
	dir := t.TempDir()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := open.Open(ctx, filepath.Join(dir, "load-100-500.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := seed(ctx, db, 100, 300, io.Discard); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var out strings.Builder
	args := []string{"-generator", "builtin", "-duration", "50ms", "-reps", "1", "-connections", "1", "-small", "100", "-big", "500",
		"-stores", "sqlite", "-configs", "stripped", "-dir", dir, "-phases", "^get-one$"}
	_, err = load(context.Background(), args, &out)
	if err == nil || !strings.Contains(err.Error(), "the big cluster holds 300 checkpoints, not 500; drop the database") {
		t.Errorf("method over a short database: %v\n%s", err, out.String())
	}
}
