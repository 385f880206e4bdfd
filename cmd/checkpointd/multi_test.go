package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"

	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// multiSpeed runs the demo schedule 900 times faster than the wall clock:
// the 15-minute cluster's slots come a second apart.
const multiSpeed = 900

// TestMultiInstance runs three server processes on one PostgreSQL schema,
// as a deployment behind a load balancer does, all with --demo so that
// all three schedule the demo clusters (on an accelerated clock), and
// checks that they behave as one server: credentials made by the admin
// commands work on all three, a Digest nonce from one is accepted by
// another (they issue shared nonces, knowing of each other), a token minted on one works on the others and, revoked on one,
// is refused by all; each demo slot is taken once across the three; and
// when one is killed (SIGKILL), the others keep serving and keep every
// checkpoint.
// It needs CHECKPOINTD_TEST_POSTGRES (see pgtest).
func TestMultiInstance(t *testing.T) {
	dsn := pgtest.DSN(t)
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)

	epoch := time.Now()
	start := func(name string) *instance {
		t.Helper()
		return startInstance(t, bin, name, "serve", "--addr", "127.0.0.1:0", "--database", dsn, "--auth-refresh", "0",
			"--log-level", "debug", "--demo", "--demo-speed", strconv.Itoa(multiSpeed),
			"--demo-epoch", strconv.FormatInt(epoch.UnixMilli(), 10))
	}
	insts := []*instance{start("first")}
	if !strings.Contains(insts[0].printed, "demo data set created") {
		t.Fatalf("first server:\n%s", insts[0].printed)
	}
	insts = append(insts, start("second"), start("third"))
	waitLive(t, insts, 3)
	for _, in := range insts[1:] {
		if !strings.Contains(in.printed, "demo data set already present") {
			t.Fatalf("a later server did not reuse the demo data set:\n%s", in.printed)
		}
	}
	project := regexp.MustCompile(`project \S+ \(([0-9a-f]{24})\)`).FindStringSubmatch(insts[0].printed)
	clusters := regexp.MustCompile(`cluster (\S+) \(.*id ([0-9a-f]{24})\)`).FindAllStringSubmatch(insts[0].printed, -1)
	if project == nil || len(clusters) != 3 {
		t.Fatalf("no project or not three clusters in:\n%s", insts[0].printed)
	}
	admin := adminOf(t, bin, dsn)

	// An API key made by the admin commands authenticates on all three,
	// through the Digest transport the Atlas SDKs use.
	pub, priv := demoOrgKey(t, admin, "multi")
	client := &http.Client{Transport: digest.NewTransport(pub, priv), Timeout: 10 * time.Second}
	groups := "/api/atlas/v1.0/groups"
	for i, in := range insts {
		if code, body := fetch(t, client, in.base+groups, nil); code != 200 || !strings.Contains(body, project[1]) {
			t.Errorf("server %d: GET %s: %d %.200s", i+1, groups, code, body)
		}
	}

	// A nonce from the first server's challenge is good on the second.
	t.Run("digest nonce across servers", func(t *testing.T) {
		auth := handDigest(pub, priv, "GET", groups, challengeNonce(t, insts[0].base+groups), 1)
		code, body := fetch(t, http.DefaultClient, insts[1].base+groups, http.Header{"Authorization": {auth}})
		if code != 200 || !strings.Contains(body, project[1]) {
			t.Errorf("second server with the first's nonce: %d %.300s", code, body)
		}
	})

	// A token minted on one server works on all, and once revoked on
	// another, on none.
	t.Run("token across servers", func(t *testing.T) {
		cc := demoServiceAccount(t, admin, "multi")
		cc.TokenURL = insts[0].base + "/api/oauth/token"
		tok, err := cc.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		bearer := http.Header{"Authorization": {"Bearer " + tok.AccessToken}}
		for i, in := range insts {
			if code, body := fetch(t, http.DefaultClient, in.base+groups, bearer); code != 200 {
				t.Errorf("server %d with a token of the first: %d %.200s", i+1, code, body)
			}
		}
		form := url.Values{"token": {tok.AccessToken}, "token_type_hint": {"access_token"}}
		req, _ := http.NewRequest(http.MethodPost, insts[1].base+"/api/oauth/revoke", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(cc.ClientID), url.QueryEscape(cc.ClientSecret))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("revoke on the second server: %d", res.StatusCode)
		}
		for i, in := range insts {
			deadline := time.Now().Add(2 * time.Second)
			for {
				code, body := fetch(t, http.DefaultClient, in.base+groups, bearer)
				if code == 401 {
					break
				}
				if time.Now().After(deadline) {
					t.Errorf("server %d still takes a revoked token: %d %.200s", i+1, code, body)
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	})

	// listAll lists every checkpoint of every demo cluster through base.
	listAll := func(c *http.Client, base string) (map[string][]cpSeen, error) {
		all := map[string][]cpSeen{}
		for _, cl := range clusters {
			for page := 1; ; page++ {
				u := fmt.Sprintf("%s/api/public/v1.0/groups/%s/clusters/%s/checkpoints?itemsPerPage=500&pageNum=%d", base, project[1], cl[2], page)
				res, err := c.Get(u)
				if err != nil {
					return nil, err
				}
				var body struct {
					Results    []cpSeen `json:"results"`
					TotalCount int      `json:"totalCount"`
				}
				err = json.NewDecoder(res.Body).Decode(&body)
				res.Body.Close()
				if res.StatusCode != 200 || err != nil {
					return nil, fmt.Errorf("GET %s: %d %v", u, res.StatusCode, err)
				}
				all[cl[1]] = append(all[cl[1]], body.Results...)
				if len(body.Results) < 500 {
					break
				}
			}
		}
		return all, nil
	}
	// fresh counts the checkpoints the schedulers took during the test.
	fresh := func(cps []cpSeen) int {
		n := 0
		for _, cp := range cps {
			if !cp.Timestamp.Before(epoch) {
				n++
			}
		}
		return n
	}
	noDuplicates := func(all map[string][]cpSeen) {
		t.Helper()
		for name, cps := range all {
			seen := map[time.Time]string{}
			for _, cp := range cps {
				if other, ok := seen[cp.Timestamp]; ok {
					t.Errorf("cluster %s: checkpoints %s and %s both at %s", name, other, cp.ID, cp.Timestamp)
				}
				seen[cp.Timestamp] = cp.ID
			}
		}
	}

	// Several slots of the 15-minute cluster pass (a second each).
	const minFresh = 5
	var before map[string][]cpSeen
	deadline := time.Now().Add(20 * time.Second)
	for {
		var err error
		if before, err = listAll(client, insts[1].base); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, cps := range before {
			n = max(n, fresh(cps))
		}
		if n >= minFresh {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s, the busiest cluster has %d new checkpoints, want %d", n, minFresh)
		}
		time.Sleep(200 * time.Millisecond)
	}
	noDuplicates(before)

	// Kill the first server while the others serve a stream of requests.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var failures []string
	var mu sync.Mutex
	for _, in := range insts[1:] {
		wg.Go(func() {
			c := &http.Client{Transport: digest.NewTransport(pub, priv), Timeout: 10 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := listAll(c, in.base); err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	if err := insts[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-insts[0].done
	time.Sleep(2 * time.Second) // two more slots of the 15-minute cluster
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d requests to the surviving servers failed, e.g. %s", len(failures), failures[0])
	}

	// Nothing listed before disappeared (the retention window, a week of
	// the accelerated clock, prunes only what is older than epoch minus
	// six days within this test), and still each slot once.
	cutoff := epoch.Add(-6 * 24 * time.Hour)
	for i, in := range insts[1:] {
		after, err := listAll(client, in.base)
		if err != nil {
			t.Fatal(err)
		}
		noDuplicates(after)
		for name, cps := range before {
			now := map[string]bool{}
			for _, cp := range after[name] {
				now[cp.ID] = true
			}
			for _, cp := range cps {
				if !cp.Timestamp.Before(cutoff) && !now[cp.ID] {
					t.Errorf("server %d: cluster %s: checkpoint %s (%s) disappeared", i+2, name, cp.ID, cp.Timestamp)
				}
			}
			if fresh(after[name]) < fresh(cps) {
				t.Errorf("server %d: cluster %s: %d new checkpoints, fewer than the %d before", i+2, name, fresh(after[name]), fresh(cps))
			}
		}
	}
	// Each slot has one record across the servers, and every checkpoint
	// they took has its slot's record (the administration API of a
	// survivor; the demo key may read them).
	for _, cl := range clusters {
		if fresh(before[cl[1]]) == 0 {
			continue
		}
		u := fmt.Sprintf("%s/api/checkpointd/v1/groups/%s/clusters/%s/slots?itemsPerPage=500&from=%s", insts[1].base, project[1], cl[1],
			url.QueryEscape(epoch.UTC().Truncate(time.Second).Format(time.RFC3339)))
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Results []struct {
				Slot         time.Time `json:"slot"`
				Outcome      string    `json:"outcome"`
				CheckpointID string    `json:"checkpointId"`
			} `json:"results"`
		}
		err = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			t.Fatalf("GET %s: %d %v", u, res.StatusCode, err)
		}
		if len(body.Results) == 0 {
			t.Errorf("cluster %s: no slot records since the servers started", cl[1])
		}
		records, named := map[time.Time]bool{}, map[string]bool{}
		for _, r := range body.Results {
			if records[r.Slot] {
				t.Errorf("cluster %s: two records of the slot %s", cl[1], r.Slot)
			}
			records[r.Slot], named[r.CheckpointID] = true, true
		}
		after, _ := listAll(client, insts[1].base)
		// The demo clock's now, a moment ago: the newest checkpoints may be
		// stored a moment before their records.
		recent := epoch.Add(time.Since(epoch)*multiSpeed - time.Hour) // wall clock
		for _, cp := range after[cl[1]] {
			if !cp.Timestamp.Before(epoch) && cp.Timestamp.Before(recent) && !named[cp.ID] {
				t.Errorf("cluster %s: checkpoint %s (%s) has no slot record", cl[1], cp.ID, cp.Timestamp)
			}
		}
	}
	// The slots were shared out: every server logged checkpoints it took.
	taken := 0
	for _, in := range insts {
		taken += strings.Count(in.logs.String(), "checkpoint taken")
	}
	if taken == 0 {
		t.Error("no server logged a checkpoint taken")
	}
	t.Logf("checkpoints taken per server: %d, %d, %d", strings.Count(insts[0].logs.String(), "checkpoint taken"),
		strings.Count(insts[1].logs.String(), "checkpoint taken"), strings.Count(insts[2].logs.String(), "checkpoint taken"))
}

// cpSeen is what TestMultiInstance reads of a listed checkpoint.
type cpSeen struct {
	ID        string    `json:"id"`
	Timestamp time.Time `json:"timestamp"`
}

// fetch GETs u with header and returns the status and body.
func fetch(t *testing.T, c *http.Client, u string, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// handDigest is the Authorization header of an MD5 Digest response to
// nonce (RFC 7616, qop=auth), as a client computes it.
func handDigest(user, pass, method, uri, nonce string, nc int) string {
	sum := func(s string) string { d := md5.Sum([]byte(s)); return hex.EncodeToString(d[:]) }
	const cnonce = "5f1e7a0c5f1e7a0c"
	ncs := fmt.Sprintf("%08x", nc)
	ha1 := sum(user + ":MMS Public API:" + pass)
	ha2 := sum(method + ":" + uri)
	resp := sum(ha1 + ":" + nonce + ":" + ncs + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="MMS Public API", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s"`,
		user, nonce, uri, resp, ncs, cnonce)
}
