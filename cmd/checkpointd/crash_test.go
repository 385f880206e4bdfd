package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver the store uses, for PRAGMA integrity_check

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// crashSpeed runs the demo schedule 3600 times faster than the wall clock:
// Cluster0's 15-minute slots come 0.25 s apart, LegacyCluster's 0.5 s, and
// a checkpoint's few simulated minutes (balancer, migrations, tokens) take
// a few tens of milliseconds, so that a kill often lands in one.
const crashSpeed = 3600

// envCrashSeed, when set, replays the kill moments of an earlier run
// (every run logs its seed).
const envCrashSeed = "CHECKPOINTD_TEST_CRASH_SEED"

// TestCrashSafety kills a serve --demo process with SIGKILL while its
// engine takes checkpoints, restarts it on the same database, several
// times over, on SQLite and on PostgreSQL, and checks that the store is
// never left with a partial checkpoint and never loses an acknowledged
// one: a checkpoint is stored in one transaction, and the engine's debug
// line "checkpoint taken" comes after the commit, so every checkpoint the
// log acknowledged is stored, readable through the API, and every stored
// checkpoint of the engine's clusters is whole (backup.VerifyCheckpoint),
// one per slot across the restarts; a SQLite file passes PRAGMA
// integrity_check in the state the kill left it in. After each restart
// /readyz answers 200 within 5 s and the engine goes on.
// Meanwhile two agents report checkpoints of a cluster of their own
// through the administration API, up to each kill: every report answered
// 201 is stored and whole after the restarts, like every checkpoint
// stored of that cluster.
// The PostgreSQL half needs CHECKPOINTD_TEST_POSTGRES (see pgtest).
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	seed := crashSeed(t)
	bin := buildBinary(t)
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "crash.db")
		crashRounds(t, bin, path, seed, func(when string) { sqliteIntegrity(t, path, when) })
	})
	t.Run("postgres", func(t *testing.T) {
		crashRounds(t, bin, pgtest.DSN(t), seed, nil)
	})
}

// crashSeed returns the seed the moments of kills are drawn with: new
// for each run, and logged, or replayed from envCrashSeed.
func crashSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(envCrashSeed); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", envCrashSeed, s, err)
		}
	}
	t.Logf("kill moments drawn with seed %d (replay with %s=%d)", seed, envCrashSeed, seed)
	return seed
}

// ack is a checkpoint the engine acknowledged in its log.
type ack struct {
	round     int
	cluster   string
	id        string
	slot      time.Time
	timestamp time.Time
}

// crashRounds runs the rounds of TestCrashSafety on database, then checks
// it; check, if set, inspects the database file after the last kill and
// after the final clean stop.
func crashRounds(t *testing.T, bin, database string, seed uint64, check func(when string)) {
	rng := rand.New(rand.NewPCG(seed, 0))
	// Whole milliseconds, as --demo-epoch takes them, so that the test's
	// clock reads what every server's does.
	epoch := time.UnixMilli(time.Now().UnixMilli())
	clk := clock.Accelerated(clock.System, epoch, crashSpeed)
	wallAt := func(v time.Time) time.Time { return epoch.Add(time.Duration(float64(v.Sub(epoch)) / crashSpeed)) }
	// No rate limit: the agents report as fast as they can and the final
	// check reads back every report they got 201 for, together more than
	// the default limit grants one key in a minute; and each instance
	// killed stays in the instance registry until its heartbeat expires,
	// so the final instance would get only its share of the limit.
	args := []string{"serve", "--addr", "127.0.0.1:0", "--database", database, "--demo",
		"--rate-limit", "0",
		"--log-level", "debug", "--log-format", "json",
		"--demo-speed", strconv.Itoa(crashSpeed), "--demo-epoch", strconv.FormatInt(epoch.UnixMilli(), 10)}

	agents := &agentLoad{t0: time.Now().UTC().Truncate(time.Second).Add(-6 * time.Hour), acked: map[string]bool{}}
	acks := map[string]ack{}
	bySlot := map[string]string{} // cluster and slot → id acknowledged
	// collect reads the acknowledgements in in's log, in full once the
	// process has ended.
	collect := func(in *instance, round int) int {
		t.Helper()
		n := 0
		for _, a := range parseAcks(t, in.logs.String(), round) {
			key := a.cluster + " " + a.slot.String()
			if other, ok := bySlot[key]; ok && other != a.id {
				t.Errorf("round %d: cluster %s slot %s acknowledged twice: %s and %s", round, a.cluster, a.slot, other, a.id)
			}
			bySlot[key] = a.id
			if !a.timestamp.Equal(a.slot) {
				t.Errorf("round %d: checkpoint %s of slot %s has timestamp %s", round, a.id, a.slot, a.timestamp)
			}
			acks[a.id] = a
			n++
		}
		return n
	}
	ackCount := func(in *instance) int { return strings.Count(in.logs.String(), `"msg":"checkpoint taken"`) }

	// Each kind of kill, three times: at a random moment; within 3 ms of an
	// acknowledgement (the commit just done, the prune after it or the
	// other cluster's checkpoint under way); and within 30 ms of a
	// Cluster0 slot, while its checkpoint is being taken or stored.
	kinds := []string{"random", "after ack", "in slot", "random", "after ack", "in slot", "random", "after ack", "in slot"}
	for i, kind := range kinds {
		round := i + 1
		in := startInstance(t, bin, fmt.Sprintf("round %d", round), args...)
		want := "demo data set already present"
		if round == 1 {
			want = "demo data set created"
		}
		if !strings.Contains(in.printed, want) {
			t.Fatalf("round %d: output lacks %q:\n%s", round, want, in.printed)
		}
		waitReady(t, in)
		if round == 1 {
			agents.token, _, _ = bearerToken(t, database, in.base)
			if code, body := call(t, &http.Client{Timeout: 10 * time.Second}, "POST", agents.clusters(in.base), agents.token, agentCluster); code != 201 {
				t.Fatalf("create the agents' cluster: %d %s", code, body)
			}
		}
		stopAgents := agents.start(t, in.base)
		var how string
		switch kind {
		case "random":
			d := 300*time.Millisecond + time.Duration(rng.Int64N(int64(1700*time.Millisecond)))
			time.Sleep(d)
			how = fmt.Sprintf("%v after listening", d.Round(time.Millisecond))
		case "after ack":
			n0 := ackCount(in)
			deadline := time.Now().Add(5 * time.Second)
			for ackCount(in) == n0 {
				if time.Now().After(deadline) {
					t.Fatalf("round %d: no checkpoint acknowledged within 5s of a restart", round)
				}
				time.Sleep(200 * time.Microsecond)
			}
			d := time.Duration(rng.Int64N(int64(3 * time.Millisecond)))
			time.Sleep(d)
			how = fmt.Sprintf("%v after an acknowledgement", d.Round(10*time.Microsecond))
		case "in slot":
			slot := engine.NextSlot(clk.Now().Add(100*time.Millisecond*crashSpeed), 15*time.Minute)
			d := time.Duration(rng.Int64N(int64(30 * time.Millisecond)))
			time.Sleep(time.Until(wallAt(slot).Add(d)))
			how = fmt.Sprintf("%v after slot %s", d.Round(10*time.Microsecond), slot.Format(time.TimeOnly))
		}
		in.kill(t)
		reported := stopAgents()
		t.Logf("round %d: killed %s; %d checkpoints acknowledged, %d reports", round, how, collect(in, round), reported)
	}
	if check != nil {
		check("after the last kill")
	}

	// A last start: the engine goes on, and the API serves every
	// acknowledged checkpoint.
	final := startInstance(t, bin, "final", args...)
	waitReady(t, final)
	deadline := time.Now().Add(5 * time.Second)
	for ackCount(final) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("final start: fewer than 2 checkpoints acknowledged within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	project := regexp.MustCompile(`project \S+ \(([0-9a-f]{24})\)`).FindStringSubmatch(final.printed)
	clusterIDs := map[string]string{}
	for _, m := range regexp.MustCompile(`cluster (\S+) \(.*id ([0-9a-f]{24})\)`).FindAllStringSubmatch(final.printed, -1) {
		clusterIDs[m[1]] = m[2]
	}
	if project == nil || len(clusterIDs) != 3 {
		t.Fatalf("no project or not three clusters in:\n%s", final.printed)
	}
	client := demoClient(t, final.printed)
	client.Timeout = 10 * time.Second
	for id, a := range acks {
		u := fmt.Sprintf("%s/api/public/v1.0/groups/%s/clusters/%s/checkpoints/%s", final.base, project[1], clusterIDs[a.cluster], id)
		code, body := fetch(t, client, u, nil)
		var got cpSeen
		if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil || got.ID != id || !got.Timestamp.Equal(a.timestamp) {
			t.Errorf("checkpoint %s of %s acknowledged in round %d: GET %s: %d %.300s", id, a.cluster, a.round, u, code, body)
		}
	}
	for id := range agents.acked {
		u := fmt.Sprintf("%s/api/atlas/v1.0/groups/%s/clusters/Agent0/backupCheckpoints/%s", final.base, project[1], id)
		if code, body := call(t, client, "GET", u, agents.token, ""); code != http.StatusOK || !strings.Contains(body, id) {
			t.Errorf("report %s, answered 201: GET %s: %d %.300s", id, u, code, body)
		}
	}
	final.stop(t)
	collect(final, len(kinds)+1)
	if check != nil {
		check("after a clean stop")
	}

	// The store itself: every checkpoint of the engine's clusters whole,
	// one per slot, and every acknowledged one there.
	ctx, cancel := context.WithTimeout(backup.WithPrincipal(context.Background(), backup.System), 30*time.Second)
	defer cancel()
	db, err := open.Open(ctx, database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scheduled, err := db.Schedules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scheduled) != 2 {
		t.Fatalf("%d clusters scheduled for the engine, want the demo's 2", len(scheduled))
	}
	stored := map[string]bool{}
	for _, c := range scheduled {
		ref := backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
		var all []backup.Checkpoint
		for num := 1; ; num++ {
			page, err := db.Checkpoints(ctx, ref, backup.PageRequest{Num: num, Size: 500})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page.Items...)
			if len(page.Items) < 500 {
				break
			}
		}
		slots := map[time.Time]backup.ObjectID{}
		fresh := 0
		for _, cp := range all {
			if err := backup.VerifyCheckpoint(c, cp); err != nil {
				t.Errorf("cluster %s: %v", c.Name, err)
			}
			if other, ok := slots[cp.Timestamp]; ok {
				t.Errorf("cluster %s: checkpoints %s and %s both at %s", c.Name, other, cp.ID, cp.Timestamp)
			}
			slots[cp.Timestamp] = cp.ID
			stored[cp.ID.Hex()] = true
			if !cp.Timestamp.Before(epoch) {
				fresh++
			}
		}
		acked := 0
		for id, a := range acks {
			if a.cluster != c.Name {
				continue
			}
			acked++
			if !stored[id] {
				t.Errorf("cluster %s: checkpoint %s, acknowledged in round %d (slot %s), is not stored", c.Name, id, a.round, a.slot)
			}
			oid, _ := backup.ParseObjectID(id)
			if cp, err := db.Checkpoint(ctx, ref, oid); err != nil || !cp.Timestamp.Equal(a.timestamp) {
				t.Errorf("cluster %s: checkpoint %s: %v, %v", c.Name, id, cp.Timestamp, err)
			}
		}
		if acked == 0 {
			t.Errorf("cluster %s: no checkpoint acknowledged in all the rounds", c.Name)
		}
		// Those taken during the test but not acknowledged are the
		// ones seeded between the epoch and the first start, and any
		// committed just before a kill, whose line the kill cut.
		t.Logf("cluster %s: %d checkpoints stored, %d since the epoch, %d acknowledged", c.Name, len(all), fresh, acked)
	}

	// The agents' cluster: every report answered 201 stored, every
	// stored checkpoint whole.
	agent, err := db.Cluster(ctx, backup.ClusterRef{GroupID: scheduled[0].GroupID, Name: "Agent0"})
	if err != nil {
		t.Fatal(err)
	}
	ref := backup.ClusterRef{GroupID: agent.GroupID, ID: agent.ID}
	nStored := 0
	for num := 1; ; num++ {
		page, err := db.Checkpoints(ctx, ref, backup.PageRequest{Num: num, Size: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, cp := range page.Items {
			if err := backup.VerifyCheckpoint(agent, cp); err != nil {
				t.Errorf("cluster Agent0: %v", err)
			}
		}
		nStored += len(page.Items)
		if len(page.Items) < 500 {
			break
		}
	}
	for id := range agents.acked {
		oid, _ := backup.ParseObjectID(id)
		if _, err := db.Checkpoint(ctx, ref, oid); err != nil {
			t.Errorf("report %s, answered 201, is not stored: %v", id, err)
		}
	}
	if len(agents.acked) < len(kinds) {
		t.Errorf("only %d reports answered 201 in %d rounds", len(agents.acked), len(kinds))
	}
	t.Logf("cluster Agent0: %d checkpoints stored, %d reports answered 201", nStored, len(agents.acked))
}

// agentLoad is two backup agents reporting checkpoints of the cluster
// agentCluster through the administration API of whichever server runs.
type agentLoad struct {
	t0    time.Time
	token string
	seq   atomic.Uint32
	mu    sync.Mutex
	acked map[string]bool // reports answered 201
}

func (l *agentLoad) clusters(base string) string {
	return base + "/api/checkpointd/v1/groups/" + demo.ProjectID.Hex() + "/clusters"
}

// start sends reports to the server at base until the returned function
// is called (once the server is killed); that function waits for the
// agents and returns how many reports they sent. A report is either
// answered 201 or not answered at all (the kill cut it).
func (l *agentLoad) start(t *testing.T, base string) func() int {
	var stop atomic.Bool
	var sent atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				n := l.seq.Add(1)
				id, body := agentReport(l.t0.Add(time.Duration(n)*time.Second), n)
				req, _ := http.NewRequest("POST", l.clusters(base)+"/Agent0/checkpoints", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+l.token)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					time.Sleep(5 * time.Millisecond) // the server is gone
					continue
				}
				got, _ := io.ReadAll(res.Body)
				res.Body.Close()
				sent.Add(1)
				if res.StatusCode != http.StatusCreated {
					t.Errorf("report %s: %d %.300s", id, res.StatusCode, got)
					continue
				}
				l.mu.Lock()
				l.acked[id] = true
				l.mu.Unlock()
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	return func() int {
		stop.Store(true)
		wg.Wait()
		return int(sent.Load())
	}
}

// parseAcks returns the checkpoints a JSON log acknowledges. Every
// complete line must be a JSON object; a last line without its newline
// (a write a kill cut short) acknowledges nothing.
func parseAcks(t *testing.T, log string, round int) []ack {
	t.Helper()
	lines := strings.Split(log, "\n")
	var out []ack
	for _, line := range lines[:len(lines)-1] {
		var rec struct {
			Msg        string    `json:"msg"`
			Component  string    `json:"component"`
			Cluster    string    `json:"cluster"`
			Slot       time.Time `json:"slot"`
			Checkpoint string    `json:"checkpoint"`
			Timestamp  time.Time `json:"timestamp"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("round %d: log line is not JSON (%v): %s", round, err, line)
			continue
		}
		if rec.Msg != "checkpoint taken" || rec.Component != "engine" {
			continue
		}
		if _, ok := backup.ParseObjectID(rec.Checkpoint); !ok || rec.Cluster == "" || rec.Slot.IsZero() {
			t.Errorf("round %d: acknowledgement without a checkpoint id, cluster or slot: %s", round, line)
			continue
		}
		out = append(out, ack{round: round, cluster: rec.Cluster, id: rec.Checkpoint, slot: rec.Slot, timestamp: rec.Timestamp})
	}
	return out
}

// waitReady fails t unless in answers /readyz with 200 within 5 seconds.
func waitReady(t *testing.T, in *instance) {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	start := time.Now()
	for {
		res, err := c.Get(in.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%s server: /readyz not 200 within 5s (last: %v %v)", in.name, res, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sqliteIntegrity fails t unless the SQLite file at path, opened
// read-only as a crash left it (its write-ahead log included), passes
// PRAGMA integrity_check.
func sqliteIntegrity(t *testing.T, path, when string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatalf("integrity check %s: %v", when, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("integrity check %s: %v", when, err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		t.Errorf("integrity check %s: %q", when, msgs)
	}
}
