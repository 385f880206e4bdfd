// Command loadtest measures checkpointd under load on this machine and
// compares it with the ceiling: a bare net/http handler serving the very
// same bytes. Everything listens on 127.0.0.1; every run is bounded by
// -duration per target.
//
// It uses wrk when it is on PATH (scripts/load.sh installs it) and a
// built-in closed-loop generator otherwise. Results are ratios measured in
// one run; absolute numbers drift between machines and runs.
//
//	go run ./cmd/loadtest -duration 10s -big 1000000
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

type result struct {
	name    string
	rps     float64
	p99     time.Duration
	ceiling string // name of the result this one is compared with
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	duration := fs.Duration("duration", 10*time.Second, "how long each target is loaded")
	conns := fs.Int("connections", 32, "concurrent connections")
	small := fs.Int("small", 1000, "checkpoints in the small cluster")
	big := fs.Int("big", 1000000, "checkpoints in the big cluster (0 skips the store-size comparison)")
	dir := fs.String("dir", "", "directory for the database (kept and reused if it already holds one; default: a temporary one)")
	gen := fs.String("generator", "auto", "load generator: wrk, builtin or auto")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "checkpointd-load")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	useWrk := *gen == "wrk" || *gen == "auto" && haveWrk()
	fmt.Fprintf(out, "generator: %s, %d connections, %s per target\n", map[bool]string{true: "wrk", false: "builtin"}[useWrk], *conns, *duration)

	db, err := sqlite.Open(ctx, filepath.Join(*dir, "load.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	if err := seed(ctx, db, *small, *big, out); err != nil {
		return err
	}

	// The servers log every request as serve does; formatting is measured,
	// the write to a terminal is not.
	cfg := httpapi.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	api, err := listen(httpapi.New(cfg, db))
	if err != nil {
		return err
	}
	defer api.Close()
	apiURL := "http://" + api.Addr().String()

	// A second handle on the same file with the store's cache off shows
	// what the cache buys and that the range read itself is flat.
	rawDB, err := sqlite.Open(ctx, filepath.Join(*dir, "load.db"), sqlite.WithCacheSize(0, 0))
	if err != nil {
		return err
	}
	defer rawDB.Close()
	raw, err := listen(httpapi.New(cfg, rawDB))
	if err != nil {
		return err
	}
	defer raw.Close()
	rawURL := "http://" + raw.Addr().String()

	smallList := apiURL + clusterPath("small") + "/backupCheckpoints?itemsPerPage=100"
	getOne, err := firstID(smallList)
	if err != nil {
		return err
	}
	getURL := apiURL + clusterPath("small") + "/backupCheckpoints/" + getOne

	// The ceiling serves the bytes the API just served, with its headers.
	getBody, getHdr, err := fetch(getURL)
	if err != nil {
		return err
	}
	listBody, listHdr, err := fetch(smallList)
	if err != nil {
		return err
	}
	ceil, err := listen(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, hdr := getBody, getHdr
		if strings.HasSuffix(r.URL.Path, "/list") {
			body, hdr = listBody, listHdr
		}
		for k, v := range hdr {
			w.Header()[k] = v
		}
		_, _ = w.Write(body)
	}))
	if err != nil {
		return err
	}
	defer ceil.Close()
	ceilURL := "http://" + ceil.Addr().String()

	type target struct {
		name, url, ceiling string
	}
	targets := []target{
		{"ceiling get-one", ceilURL + "/get", ""},
		{"get-one", getURL, "ceiling get-one"},
		{"ceiling list-100", ceilURL + "/list", ""},
		{"list-100", smallList, "ceiling list-100"},
	}
	targets = append(targets,
		target{"get-one, store cache off", strings.Replace(getURL, apiURL, rawURL, 1), "ceiling get-one"},
		target{"list-100, store cache off", strings.Replace(smallList, apiURL, rawURL, 1), "ceiling list-100"})
	// List latency by store size and page depth, with the cache on and off.
	for _, srv := range []struct{ label, url string }{{"", apiURL}, {", store cache off", rawURL}} {
		name := func(n int, page string) string {
			return fmt.Sprintf("list-100, %d in store, %s page%s", n, page, srv.label)
		}
		list := func(cluster string) string {
			return srv.url + clusterPath(cluster) + "/backupCheckpoints?itemsPerPage=100"
		}
		targets = append(targets,
			target{name(*small, "first"), list("small") + "&pageNum=1", ""},
			target{name(*small, "last"), list("small") + "&pageNum=" + strconv.Itoa((*small+99)/100), name(*small, "first")})
		if *big > 0 {
			targets = append(targets,
				target{name(*big, "first"), list("big") + "&pageNum=1", name(*small, "first")},
				target{name(*big, "last"), list("big") + "&pageNum=" + strconv.Itoa((*big+99)/100), name(*big, "first")})
		}
	}

	var results []result
	for _, t := range targets {
		var r result
		var err error
		if useWrk {
			r, err = runWrk(ctx, t.url, *conns, *duration)
		} else {
			r, err = runBuiltin(ctx, t.url, *conns, *duration)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		r.name, r.ceiling = t.name, t.ceiling
		results = append(results, r)
		fmt.Fprintf(out, "  %-62s %9.0f req/s  p99 %8s\n", t.name, r.rps, r.p99.Round(10*time.Microsecond))
	}
	fmt.Fprintf(out, "\n| target | requests/s | p99 | compared with | ratio (req/s) | ratio (p99) |\n|---|---|---|---|---|---|\n")
	byName := map[string]result{}
	for _, r := range results {
		byName[r.name] = r
	}
	for _, r := range results {
		cmp, ratio, pratio := "", "", ""
		if c, ok := byName[r.ceiling]; ok {
			cmp = c.name
			ratio = fmt.Sprintf("%.2f", r.rps/c.rps)
			pratio = fmt.Sprintf("%.2f", float64(r.p99)/float64(c.p99))
		}
		fmt.Fprintf(out, "| %s | %.0f | %s | %s | %s | %s |\n", r.name, r.rps, r.p99.Round(10*time.Microsecond), cmp, ratio, pratio)
	}
	fmt.Fprintf(out, "\nresponse sizes: get-one %d bytes, list-100 %d bytes\n", len(getBody), len(listBody))
	return nil
}

var projectID = backup.MustParseObjectID("5f0000000000000000000001")

func clusterPath(name string) string {
	return "/api/atlas/v2/groups/" + projectID.Hex() + "/clusters/" + name
}

// seed makes a project with a 3-shard cluster "small" and, when big > 0,
// one named "big", unless the database already has them.
func seed(ctx context.Context, db *sqlite.DB, small, big int, out io.Writer) error {
	if _, err := db.Project(ctx, projectID); err == nil {
		fmt.Fprintln(out, "reusing the existing load database")
		return nil
	}
	org := backup.Organization{ID: backup.MustParseObjectID("5f0000000000000000000000"), Name: "load", Created: time.Unix(1e9, 0)}
	if err := db.CreateOrganization(ctx, org); err != nil {
		return err
	}
	if err := db.CreateProject(ctx, backup.Project{ID: projectID, OrgID: org.ID, Name: "load", Created: org.Created}); err != nil {
		return err
	}
	ids := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, n := range []int{small, big} {
		if n == 0 {
			continue
		}
		name := []string{"small", "big"}[i]
		c := backup.Cluster{
			ID: ids.New(org.Created), GroupID: projectID, Name: name, Type: backup.Sharded,
			MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy, Created: org.Created,
			Shards: []backup.Shard{{Name: name + "-shard-0", ReplicaSetName: name + "-shard-0"},
				{Name: name + "-shard-1", ReplicaSetName: name + "-shard-1"},
				{Name: name + "-shard-2", ReplicaSetName: name + "-shard-2"}},
			Config: backup.ConfigServer{ReplicaSetName: name + "-config-0"},
		}
		if err := db.CreateCluster(ctx, c); err != nil {
			return err
		}
		start := time.Now()
		// Insert in batches of a year of 15-minute slots at most.
		const batch = 35040
		slotStart := end.Add(-time.Duration(n) * 15 * time.Minute)
		for done := 0; done < n; done += batch {
			k := min(batch, n-done)
			from := slotStart.Add(time.Duration(done) * 15 * time.Minute)
			cps := demo.History(rng, ids, c, from.Add(-15*time.Minute), from.Add(time.Duration(k-1)*15*time.Minute+2*time.Minute), 15*time.Minute)
			if len(cps) > k {
				cps = cps[:k]
			}
			if err := db.AddCheckpoints(ctx, cps); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "seeded %q with %d checkpoints in %s\n", name, n, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func listen(h http.Handler) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return ln, nil
}

const accept = "application/vnd.atlas.2023-01-01+json"

func fetch(url string) ([]byte, http.Header, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", accept)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != 200 {
		return nil, nil, fmt.Errorf("GET %s: %d %s", url, res.StatusCode, b)
	}
	h := res.Header.Clone()
	h.Del("Date")
	h.Del("Content-Length")
	return b, h, nil
}

var idPattern = regexp.MustCompile(`"id":"([0-9a-f]{24})"`)

func firstID(listURL string) (string, error) {
	b, _, err := fetch(listURL)
	if err != nil {
		return "", err
	}
	m := idPattern.FindSubmatch(b)
	if m == nil {
		return "", errors.New("no checkpoint in " + listURL)
	}
	return string(m[1]), nil
}

func haveWrk() bool {
	_, err := exec.LookPath("wrk")
	return err == nil
}

var (
	wrkRPS = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkP99 = regexp.MustCompile(`\s99%\s+([0-9.]+)(us|ms|s)`)
	wrkErr = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors: .*`)
)

// runWrk loads url with wrk and parses requests/s and the 99th percentile.
func runWrk(ctx context.Context, url string, conns int, d time.Duration) (result, error) {
	secs := max(1, int(d.Seconds()))
	cmd := exec.CommandContext(ctx, "wrk", "-t2", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(secs)+"s", "--latency",
		"-H", "Accept: "+accept, url)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, buf.String())
	}
	return parseWrk(buf.String())
}

// parseWrk reads requests/s and the 99th percentile from wrk --latency
// output, refusing runs in which wrk saw errors.
func parseWrk(s string) (result, error) {
	if m := wrkErr.FindString(s); m != "" {
		return result{}, fmt.Errorf("wrk reported errors: %s", m)
	}
	m := wrkRPS.FindStringSubmatch(s)
	p := wrkP99.FindStringSubmatch(s)
	if m == nil || p == nil {
		return result{}, fmt.Errorf("cannot parse wrk output: %s", s)
	}
	rps, _ := strconv.ParseFloat(m[1], 64)
	v, _ := strconv.ParseFloat(p[1], 64)
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[p[2]]
	return result{rps: rps, p99: time.Duration(v * float64(unit))}, nil
}

// runBuiltin is a closed-loop generator: conns goroutines, each sending
// the next request when the last one is answered, for d.
func runBuiltin(ctx context.Context, url string, conns int, d time.Duration) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var lat []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				req.Header.Set("Accept", accept)
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if err == nil && res.StatusCode != 200 {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return result{}, firstErr
	}
	if len(lat) == 0 {
		return result{}, errors.New("no request completed")
	}
	slices.Sort(lat)
	return result{rps: float64(len(lat)) / d.Seconds(), p99: lat[len(lat)*99/100]}, nil
}
