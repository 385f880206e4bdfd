package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store/open"
)

// TestGracefulShutdown: when serve's context ends (SIGTERM), a request
// under way (its handler still reading the body) is finished, its write
// kept, and answered, new connections are refused, the
// engine stops, and serve returns nil once the request is done, not
// before.
func TestGracefulShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := filepath.Join(t.TempDir(), "d.db")
	pr, pw := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--demo", "--database", db}, noEnv, pw, stderr)
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	var base string
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
			base = u
			break
		}
	}
	if base == "" {
		t.Fatalf("serve printed no address; log:\n%s", stderr.String())
	}
	go io.Copy(io.Discard, pr)
	addr := strings.TrimPrefix(base, "http://")

	token := ownerToken(t, db, base)

	// A request under way: its handler is reading the body, half sent,
	// when shutdown begins.
	body := `{"name":"Late","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"late"}`
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST /api/checkpointd/v1/groups/5e2211c17a3e5a48f5497de3/clusters HTTP/1.1\r\nHost: " + addr +
		"\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(conn, head+body[:10]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the handler runs, waiting for the rest of the body
	cancel()

	// serve waits for it, and takes no new connection meanwhile.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections are still accepted after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) with a request under way", err)
	case <-time.After(300 * time.Millisecond):
	}

	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request under way got no answer: %v; log:\n%s", err, stderr.String())
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || !strings.Contains(string(got), `"name":"Late"`) {
		t.Errorf("the request under way: %d %s", res.StatusCode, got)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return once the request was done")
	}
	if !strings.Contains(stderr.String(), "msg=stopped") {
		t.Errorf("no stop in the log:\n%s", stderr.String())
	}
	// The request line of the last request, buffered (logbuffer.go), is
	// written before serve returns, before the stop.
	logged := stderr.String()
	line := "msg=request "
	i := strings.Index(logged, "path=/api/checkpointd/v1/groups/5e2211c17a3e5a48f5497de3/clusters status=201")
	if i < 0 || !strings.Contains(logged[strings.LastIndex(logged[:i], "\n")+1:i], line) || i > strings.Index(logged, "msg=stopped") {
		t.Errorf("the request line of the request finished during shutdown is not in the log before the stop:\n%s", logged)
	}
	st, err := open.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Cluster(backup.WithPrincipal(context.Background(), backup.System), backup.ClusterRef{GroupID: demo.ProjectID, Name: "Late"}); err != nil {
		t.Errorf("the cluster created during shutdown is not stored: %v", err)
	}
}

// ownerToken makes a service account with ORG_OWNER of the demo
// organization, with the admin command on db, and returns an access token
// of it from the server at base.
func ownerToken(t *testing.T, db, base string) string {
	t.Helper()
	var out strings.Builder
	if err := run(context.Background(), []string{"service-accounts", "create", "--database", db, "--org", "5e2211c17a3e5a48f5497de0",
		"--name", "shutdown", "--role", "ORG_OWNER"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	creds := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			creds[k] = v
		}
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", base+"/api/oauth/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth(creds["client id"], creds["client secret"])
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("no token: %d %v", res.StatusCode, err)
	}
	res.Body.Close()

	return tok.AccessToken
}
