package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	digest "github.com/mongodb-forks/digest"

	authdigest "github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// authRecorder is a transport that remembers every Authorization header
// value it sends.
type authRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (a *authRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.seen = append(a.seen, r.Header.Values("Authorization")...)
	a.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (a *authRecorder) values() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// TestServeLogsNoSecrets runs serve --demo at --log-level debug with JSON
// logs, authenticates with every kind of credentials, right and wrong,
// takes a token, uses it for the administration API, revokes it, and then
// searches the logs for every secret that went by: the demo key's private
// key and its Digest HA1s, the client secret, the access token and its
// signature, every Authorization header sent, the nonce and token signing
// keys the data set keeps, and the database password.
func TestServeLogsNoSecrets(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		logsNoSecrets(t, filepath.Join(t.TempDir(), "demo.db"), nil)
	})
	t.Run("postgres", func(t *testing.T) {
		// A URL with a password: the test server's own, or one added (a
		// server that trusts its local clients ignores it).
		u, err := url.Parse(pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		password, ok := u.User.Password()
		if !ok {
			var b [12]byte
			rand.Read(b[:])
			password = "pw-" + hex.EncodeToString(b[:])
			u.User = url.UserPassword(u.User.Username(), password)
		}
		logsNoSecrets(t, u.String(), []string{password})
	})
}

func logsNoSecrets(t *testing.T, database string, secrets []string) {
	printed, base, logs := startServeOn(t, nil, noEnv, "--demo", "--database", database,
		"--log-level", "debug", "--log-format", "json")
	key := demoKeyLine.FindStringSubmatch(printed)
	if key == nil {
		t.Fatalf("no api key line:\n%s", printed)
	}
	public, private := key[1], key[2]
	secrets = append(secrets, private,
		authdigest.HA1(authdigest.MD5, public, authdigest.DefaultRealm, private),
		authdigest.HA1(authdigest.SHA256, public, authdigest.DefaultRealm, private))

	saOut := mustAdmin(t, database, "service-accounts", "create", "--org", demo.OrgID.Hex(), "--name", "owner", "--role", "ORG_OWNER")
	clientID := regexp.MustCompile(`(?m)^client id: (\S+)$`).FindStringSubmatch(saOut)
	clientSecret := regexp.MustCompile(`(?m)^client secret: (\S+)$`).FindStringSubmatch(saOut)
	if clientID == nil || clientSecret == nil {
		t.Fatalf("service-accounts create printed:\n%s", saOut)
	}
	secrets = append(secrets, clientSecret[1])

	rec := &authRecorder{}
	plain := &http.Client{Transport: rec}
	do := func(client *http.Client, method, path, contentType, body string, want int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, b, want)
		}
		return b
	}
	bearer := func(token string) *http.Client {
		return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+token)
			return rec.RoundTrip(r)
		})}
	}
	basic := func(id, secret string) *http.Client {
		return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.SetBasicAuth(id, secret)
			return rec.RoundTrip(r)
		})}
	}
	const groups = "/api/atlas/v1.0/groups"
	const form = "application/x-www-form-urlencoded"

	// Digest: the demo key, then a wrong private key, then a replayed
	// Authorization header.
	right := &http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(public, private, rec)}
	do(right, "GET", groups, "", "", 200)
	wrong := &http.Client{Transport: digest.NewTransportWithHTTPRoundTripper(public, "00000000-0000-4000-8000-000000000000", rec)}
	do(wrong, "GET", groups, "", "", 401)
	seen := rec.values()
	replay := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", seen[1]) // the right key's answer to the challenge
		return rec.RoundTrip(r)
	})}
	do(replay, "GET", groups, "", "", 401)

	// The token endpoint: a wrong secret (in the body), then the right one.
	wrongSecret := "mdb_sa_sk_" + strings.Repeat("A", len(clientSecret[1])-len("mdb_sa_sk_"))
	do(plain, "POST", "/api/oauth/token", form,
		url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID[1]}, "client_secret": {wrongSecret}}.Encode(), 401)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(do(basic(clientID[1], clientSecret[1]), "POST", "/api/oauth/token", form, "grant_type=client_credentials", 200), &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token response: %v", err)
	}
	secrets = append(secrets, tok.AccessToken, tok.AccessToken[strings.LastIndexByte(tok.AccessToken, '.')+1:])

	// The token on the API and on the administration API, a forged one,
	// the revoke, and the revoked token.
	do(bearer(tok.AccessToken), "GET", groups, "", "", 200)
	do(bearer(tok.AccessToken), "POST", "/api/checkpointd/v1/groups/"+demo.ProjectID.Hex()+"/clusters", "application/json",
		`{"name": "Payments", "clusterType": "SHARDED", "mongoDBVersion": "4.0.28",
		"shards": [{"name": "payments-shard-0", "replicaSetName": "payments-shard-0"}],
		"configServer": {"replicaSetName": "payments-config"},
		"backup": {"driver": "AGENT", "clusterCheckpointIntervalMin": 15, "pointInTimeWindowHours": 24}}`, 201)
	forged := tok.AccessToken[:strings.LastIndexByte(tok.AccessToken, '.')+1] + strings.Repeat("A", 43)
	do(bearer(forged), "GET", groups, "", "", 401)
	do(basic(clientID[1], clientSecret[1]), "POST", "/api/oauth/revoke", form, url.Values{"token": {tok.AccessToken}}.Encode(), 200)
	do(bearer(tok.AccessToken), "GET", groups, "", "", 401)
	do(basic(clientID[1], wrongSecret), "POST", "/api/oauth/revoke", form, url.Values{"token": {tok.AccessToken}}.Encode(), 401)

	// The keys that sign nonces and tokens, as the data set keeps them.
	st, err := open.Open(context.Background(), database)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"digest-nonce-hmac", "oauth-token-hs256"} {
		v, err := st.SharedSecret(backup.WithPrincipal(context.Background(), backup.System), name, func() ([]byte, error) {
			t.Errorf("shared secret %s does not exist", name)
			return make([]byte, 32), nil
		})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, hex.EncodeToString(v), base64.StdEncoding.EncodeToString(v),
			base64.RawURLEncoding.EncodeToString(v), base64.RawStdEncoding.EncodeToString(v))
	}
	st.Close()

	for _, h := range rec.values() {
		secrets = append(secrets, h)
		// The parts of it that are secret on their own.
		if b, ok := strings.CutPrefix(h, "Basic "); ok {
			secrets = append(secrets, b)
		}
		if m := regexp.MustCompile(`response="([0-9a-f]+)"`).FindStringSubmatch(h); m != nil {
			secrets = append(secrets, m[1])
		}
	}

	// The logs are JSON lines, at debug level, and tell of the refusals:
	// the searches below look at a log that says what happened.
	out := logs.String()
	var lines, debug int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		lines++
		if rec["level"] == "DEBUG" {
			debug++
		}
		if rec["level"] == "WARN" && strings.Contains(line, "plain HTTP") {
			t.Errorf("warned of plain HTTP on a loopback address: %s", line)
		}
	}
	for _, want := range []string{`"msg":"auth: digest refused"`, `"msg":"auth: token request refused"`, `"msg":"auth: bearer token refused"`,
		`"path":"/api/oauth/revoke"`, `"path":"/api/checkpointd/v1/groups/` + demo.ProjectID.Hex() + `/clusters","status":201`, `"database":`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
	if debug == 0 || len(rec.values()) < 10 {
		t.Fatalf("%d log lines, %d at debug level, %d Authorization headers sent", lines, debug, len(rec.values()))
	}
	for _, s := range secrets {
		if len(s) < 16 {
			t.Fatalf("secret %q is too short to search for", s)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, s) {
				t.Errorf("the log holds a secret, %.12s…, in %s", s, line)
				break
			}
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestServeDefaults: serve listens on the loopback address unless told
// otherwise, and --help says that an address other machines reach wants
// TLS.
func TestServeDefaults(t *testing.T) {
	cmd := newServeCmd(&env{getenv: noEnv, stdout: io.Discard, stderr: io.Discard})
	addr := cmd.Flags().Lookup("addr")
	if addr == nil {
		t.Fatal("no --addr flag")
	}
	tcp, err := net.ResolveTCPAddr("tcp", addr.DefValue)
	if err != nil || !tcp.IP.IsLoopback() {
		t.Errorf("--addr defaults to %q (%v), not a loopback address", addr.DefValue, err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--help"}, noEnv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	help := strings.Join(strings.Fields(out.String()), " ")
	for _, want := range []string{`(default "127.0.0.1:8080")`, "should have TLS: --tls-cert and --tls-key, or a TLS-terminating proxy"} {
		if !strings.Contains(help, want) {
			t.Errorf("serve --help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestWarnPlainHTTP: a plain HTTP listener on an address other machines
// may reach is logged as a warning, unless TLS is served or a proxy in
// front terminates it (an https:// --external-url).
func TestWarnPlainHTTP(t *testing.T) {
	for _, tt := range []struct {
		addr        string
		tls         bool
		externalURL string
		warn        bool
	}{
		{"127.0.0.1:8080", false, "", false},
		{"127.0.0.2:8080", false, "", false},
		{"[::1]:8080", false, "", false},
		{"0.0.0.0:8080", false, "", true},
		{"[::]:8080", false, "", true},
		{"10.1.2.3:8080", false, "", true},
		{"192.0.2.7:8080", false, "http://backup.example.com", true},
		{"0.0.0.0:8443", true, "", false},
		{"0.0.0.0:8080", false, "https://backup.example.com", false},
	} {
		tcp, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		logger, flush, err := newLogger(&env{stderr: &buf}, "text", "info")
		if err != nil {
			t.Fatal(err)
		}
		warnPlainHTTP(logger, tcp, tt.tls, tt.externalURL)
		if err := flush(); err != nil {
			t.Fatal(err)
		}
		got := buf.String()
		if warned := strings.Contains(got, "level=WARN") && strings.Contains(got, "plain HTTP") && strings.Contains(got, "--tls-cert"); warned != tt.warn {
			t.Errorf("%s tls=%v external=%q: logged %q, want a warning: %v", tt.addr, tt.tls, tt.externalURL, got, tt.warn)
		}
	}
}
