package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// TestDatabaseOutage runs serve --demo on PostgreSQL through a proxy
// that the test cuts (every connection closed, new ones refused, as in a
// database restart) while callers keep reading through the public API,
// agents keep reporting checkpoints through the administration API,
// unauthenticated callers keep knocking, a service account keeps asking
// for tokens and a load balancer keeps asking /readyz. Before the cut every answer is the usual one; during it every
// request begun after the cut is answered, within a bound, 503
// SERVICE_UNAVAILABLE in the API's error format with Retry-After, never a
// 500 (one without credentials still gets its 401 challenge, which needs
// no database; its authenticated retry gets the 503); a few
// seconds after the database is back the same server answers as before,
// and every report acknowledged at any time is stored, whole.
// It needs CHECKPOINTD_TEST_POSTGRES (see pgtest).
func TestDatabaseOutage(t *testing.T) {
	dsn := pgtest.DSN(t)
	proxy, via := pgtest.NewProxy(t, dsn)
	_, base, logs := startServeOn(t, nil, noEnv, "--demo", "--database", via)
	token, clientID, secret := bearerToken(t, dsn, base)
	client := &http.Client{Timeout: 10 * time.Second}
	project := demo.ProjectID.Hex()
	admin := base + "/api/checkpointd/v1/groups/" + project + "/clusters"
	if code, body := call(t, client, "POST", admin, token, agentCluster); code != 201 {
		t.Fatalf("create the agent's cluster: %d %s", code, body)
	}

	type answer struct {
		who        string
		start, end time.Time
		status     int
		header     http.Header
		body       string
		id         string // a report's
	}
	var (
		mu      sync.Mutex
		answers []answer
		stop    atomic.Bool
		seq     atomic.Uint32
		wg      sync.WaitGroup
	)
	t0 := time.Now().UTC().Truncate(time.Second).Add(-6 * time.Hour)
	worker := func(who string, pause time.Duration, req func() (*http.Request, string)) {
		wg.Go(func() {
			for !stop.Load() {
				r, id := req()
				a := answer{who: who, start: time.Now(), id: id}
				res, err := client.Do(r)
				if err != nil {
					a.status = -1
					a.body = err.Error()
				} else {
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					a.status, a.header, a.body = res.StatusCode, res.Header, string(b)
				}
				a.end = time.Now()
				mu.Lock()
				answers = append(answers, a)
				mu.Unlock()
				time.Sleep(pause)
			}
		})
	}
	get := func(u, tok string) func() (*http.Request, string) {
		return func() (*http.Request, string) {
			r, _ := http.NewRequest("GET", u, nil)
			r.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
			if tok != "" {
				r.Header.Set("Authorization", "Bearer "+tok)
			}
			return r, ""
		}
	}
	report := func() (*http.Request, string) {
		n := seq.Add(1)
		id, body := agentReport(t0.Add(time.Duration(n)*time.Second), n)
		r, _ := http.NewRequest("POST", admin+"/Agent0/checkpoints", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/json")
		return r, id
	}
	const pause = 5 * time.Millisecond
	worker("reader", pause, get(base+"/api/atlas/v2/groups/"+project+"/clusters/Cluster0/backupCheckpoints?itemsPerPage=5", token))
	worker("lister", pause, get(base+"/api/public/v1.0/groups/"+project+"/clusters", token))
	worker("agent", pause, report)
	worker("agent", pause, report)
	worker("anonymous", pause, get(base+"/api/atlas/v1.0/groups", ""))
	worker("balancer", pause, get(base+"/readyz", ""))
	// Token requests are rate limited (50 a minute by default) and hash
	// the secret: a few a second.
	worker("token", 250*time.Millisecond, func() (*http.Request, string) { return tokenRequest(base, clientID, secret), "" })

	time.Sleep(time.Second)
	cutAt := time.Now()
	proxy.Cut()
	cutDone := time.Now()
	time.Sleep(1500 * time.Millisecond)
	restoreAt := time.Now()
	proxy.Restore(t)
	time.Sleep(4 * time.Second)
	stop.Store(true)
	wg.Wait()

	// The answers each caller gets while the database serves.
	usual := map[string]int{"reader": 200, "lister": 200, "agent": 201, "anonymous": 401, "balancer": 200, "token": 200}
	const recovery = 3 * time.Second // from the restore to the usual answers
	const slowest = 5 * time.Second
	acked := map[string]bool{}
	counts := map[string]int{}
	for _, a := range answers {
		// before: answered before the cut; cut: begun once the cut was
		// done and answered before the restore; after: begun once the
		// server has had time to recover; around: the rest, under way at
		// the cut or the restore, or during the recovery.
		phase := "around"
		switch {
		case a.end.Before(cutAt):
			phase = "before"
		case a.start.After(cutDone) && a.end.Before(restoreAt):
			phase = "cut"
		case a.start.After(restoreAt.Add(recovery)):
			phase = "after"
		}
		counts[phase+" "+a.who+" "+fmt.Sprint(a.status)]++
		if a.status == usual[a.who] && a.id != "" {
			acked[a.id] = true
		}
		if took := a.end.Sub(a.start); took > slowest {
			t.Errorf("%s: a request took %v", a.who, took)
		}
		switch {
		case a.status == 503:
			if phase == "before" || phase == "after" {
				t.Errorf("%s %s the cut: %d %.300s", a.who, phase, a.status, a.body)
			}
		case a.status != usual[a.who]:
			t.Errorf("%s %s the cut: %d %.300s", a.who, phase, a.status, a.body)
		case phase == "cut" && a.who != "anonymous":
			// A request without credentials gets its challenge, which
			// needs no database (Digest nonces are stateless); no other
			// answer can be had without the database.
			t.Errorf("%s during the cut (begun %v after it): %d %.300s", a.who, a.start.Sub(cutDone), a.status, a.body)
		}
		if a.status != 503 {
			continue
		}
		var e struct {
			Detail, ErrorCode, Reason string
			Error                     int
			Parameters                []any
		}
		if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Error != 503 || e.ErrorCode != backup.CodeServiceUnavailable ||
			e.Reason != "Service Unavailable" || e.Parameters == nil || strings.Contains(a.body, proxy.Addr()) {
			t.Errorf("%s: 503 with %s", a.who, a.body)
		}
		if a.header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", a.who)
		}
	}
	t.Logf("answers by phase, caller and status: %v", counts)
	for who, status := range usual {
		if who != "anonymous" {
			status = 503
		}
		if counts["cut "+who+" "+fmt.Sprint(status)] == 0 {
			t.Errorf("%s: no %d during the cut", who, status)
		}
	}
	for _, phase := range []string{"before", "cut", "after"} {
		n := 0
		for k, v := range counts {
			if strings.HasPrefix(k, phase+" ") {
				n += v
			}
		}
		if n < 10 {
			t.Errorf("only %d answers %s the cut", n, phase)
		}
	}
	if strings.Contains(logs.String(), "internal error") {
		t.Errorf("the server logged internal errors:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "store unavailable") {
		t.Errorf("the server did not log the store's failures")
	}

	// Every acknowledged report is stored, whole.
	ctx, cancel := context.WithTimeout(backup.WithPrincipal(context.Background(), backup.System), 30*time.Second)
	defer cancel()
	db, err := open.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Cluster(ctx, backup.ClusterRef{GroupID: demo.ProjectID, Name: "Agent0"})
	if err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		oid, _ := backup.ParseObjectID(id)
		cp, err := db.Checkpoint(ctx, backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}, oid)
		if err != nil {
			t.Errorf("acknowledged report %s: %v", id, err)
			continue
		}
		if err := backup.VerifyCheckpoint(c, cp); err != nil {
			t.Errorf("acknowledged report %s: %v", id, err)
		}
	}
	if len(acked) < 10 {
		t.Errorf("only %d reports acknowledged", len(acked))
	}
}

// agentCluster is a replica set whose checkpoints an agent reports, kept
// for a day.
const agentCluster = `{"name":"Agent0","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs0",
	"backup":{"driver":"AGENT","pointInTimeWindowHours":24}}`

// agentReport is an agent's report of agentCluster's checkpoint at ts,
// and its id; n makes ids of the same second distinct.
func agentReport(ts time.Time, n uint32) (id, body string) {
	started := ts.Add(time.Second)
	oid := backup.NewIDSourceFrom([5]byte{7, 7, 7, 7, 7}, n).New(started)
	b, _ := json.Marshal(map[string]any{
		"id": oid.Hex(), "timestamp": ts.Format(time.RFC3339), "started": started.Format(time.RFC3339),
		"completed": started.Add(time.Second).Format(time.RFC3339),
		"parts": []map[string]any{{"typeName": "REPLICA_SET", "replicaSetName": "rs0", "tokenDiscovered": true,
			"tokenTimestamp": map[string]any{"date": started.Format(time.RFC3339), "increment": 1}}},
	})
	return oid.Hex(), string(b)
}

// serviceAccount makes an ORG_OWNER service account of the demo
// organization with the admin command on database, and returns its client
// id and secret.
func serviceAccount(t *testing.T, database string) (id, secret string) {
	t.Helper()
	var out strings.Builder
	if err := run(context.Background(), []string{"service-accounts", "create", "--database", database, "--org", demo.OrgID.Hex(),
		"--name", "agent", "--role", "ORG_OWNER"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	creds := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			creds[k] = v
		}
	}
	return creds["client id"], creds["client secret"]
}

// tokenRequest asks the server at base for a bearer token of a service
// account.
func tokenRequest(base, id, secret string) *http.Request {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", base+"/api/oauth/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth(id, secret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// bearerToken makes an ORG_OWNER service account of the demo
// organization with the admin command on database, and returns a bearer
// token for it from the server at base, with the account's client id and
// secret.
func bearerToken(t *testing.T, database, base string) (token, id, secret string) {
	t.Helper()
	id, secret = serviceAccount(t, database)
	res, err := http.DefaultClient.Do(tokenRequest(base, id, secret))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("no token: %d %v", res.StatusCode, err)
	}
	return tok.AccessToken, id, secret
}

// call makes one request with a bearer token and returns the status and
// body.
func call(t *testing.T, client *http.Client, method, u, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestDatabaseTimeout: --database-timeout bounds what a database that
// hangs (connections open, no answer) costs a request: serve with a 1 s
// bound answers 503 SERVICE_UNAVAILABLE after about that long rather than
// after the 20 s default, and answers as before once the database does.
// It needs CHECKPOINTD_TEST_POSTGRES (see pgtest).
func TestDatabaseTimeout(t *testing.T) {
	dsn := pgtest.DSN(t)
	proxy, via := pgtest.NewProxy(t, dsn)
	const bound = time.Second
	_, base, _ := startServeOn(t, nil, noEnv, "--demo", "--database", via, "--database-timeout", bound.String())
	token, _, _ := bearerToken(t, dsn, base)
	client := &http.Client{Timeout: 30 * time.Second}
	// A page size never asked before each time, so that no cached page
	// answers without the database.
	page := 0
	list := func() (int, string, time.Duration) {
		page++
		start := time.Now()
		code, body := call(t, client, "GET", fmt.Sprintf("%s/api/atlas/v1.0/groups/%s/clusters/Cluster0/backupCheckpoints?itemsPerPage=%d",
			base, demo.ProjectID.Hex(), page), token, "")
		return code, body, time.Since(start)
	}
	if code, body, _ := list(); code != 200 {
		t.Fatalf("before the hang: %d %s", code, body)
	}
	proxy.Hang()
	for range 3 {
		code, body, took := list()
		if code != 503 || !strings.Contains(body, `"errorCode":"SERVICE_UNAVAILABLE"`) {
			t.Errorf("while the database hangs: %d %s, want 503 SERVICE_UNAVAILABLE", code, body)
		}
		if took < bound || took > bound+4*time.Second {
			t.Errorf("while the database hangs: answered after %v, want about %v", took, bound)
		}
	}
	proxy.Restore(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body, _ := list()
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the database answers again: %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
