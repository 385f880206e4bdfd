package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSlowClients: a client that sends its headers or its body too slowly
// is cut off by --read-header-timeout and --read-timeout (a body cut
// short is answered 408 REQUEST_TIMEOUT in the API's error format), while
// other clients are served meanwhile.
func TestSlowClients(t *testing.T) {
	db := filepath.Join(t.TempDir(), "slow.db")
	_, base := startServe(t, noEnv, "--demo", "--database", db, "--read-header-timeout", "300ms", "--read-timeout", "800ms")
	addr := strings.TrimPrefix(base, "http://")
	token := ownerToken(t, db, base)

	// Headers that never end, a byte every 50 ms: the connection is
	// closed once the header timeout has passed, and no request is served
	// from it; other clients are served meanwhile.
	start := time.Now()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	closed := make(chan []byte, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(conn) // until the server closes the connection
		closed <- b
	}()
	var got []byte
	var took time.Duration
trickle:
	for {
		select {
		case got = <-closed:
			took = time.Since(start)
			break trickle
		case <-time.After(50 * time.Millisecond):
			_, _ = io.WriteString(conn, "a")
			if res, err := http.Get(base + "/healthz"); err != nil || res.StatusCode != 200 {
				t.Fatalf("another client is not served meanwhile: %v", err)
			} else {
				res.Body.Close()
			}
		}
	}
	if took < 300*time.Millisecond || took > 5*time.Second || strings.Contains(string(got), "200 OK") {
		t.Errorf("slow headers: connection closed after %v (want just after 300ms), got %q", took, got)
	}

	// A body that stops half way: 408 in the API's format once the read
	// timeout has passed, nothing stored.
	body := `{"name":"Slow","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"slow"}`
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	head := "POST /api/checkpointd/v1/groups/5e2211c17a3e5a48f5497de3/clusters HTTP/1.1\r\nHost: " + addr +
		"\r\nAuthorization: Bearer " + token + "\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n"
	if _, err := io.WriteString(c2, head+body[:20]); err != nil {
		t.Fatal(err)
	}
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c2), nil)
	if err != nil {
		t.Fatalf("a stalled body got no answer: %v", err)
	}
	var e struct {
		Error     int    `json:"error"`
		ErrorCode string `json:"errorCode"`
	}
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil || res.StatusCode != http.StatusRequestTimeout ||
		e.Error != 408 || e.ErrorCode != "REQUEST_TIMEOUT" || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("stalled body: %d %+v (%v)", res.StatusCode, e, err)
	}
	req, _ := http.NewRequest("GET", base+"/api/checkpointd/v1/groups/5e2211c17a3e5a48f5497de3/clusters/Slow", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 404 {
		t.Errorf("the stalled request stored a cluster: %v %v", res.StatusCode, err)
	}
}
