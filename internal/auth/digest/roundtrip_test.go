package digest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	mdigest "github.com/mongodb-forks/digest"
)

// challengeBody is the service's 401 body (api-fidelity §1.1).
const challengeBody = "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"

// testHandler is the smallest HTTP layer over the package: parse, verify,
// and on failure the service's 401 with every configured challenge. It
// records why each request was refused.
type testHandler struct {
	s      *Server
	lookup Lookup
	mu     sync.Mutex
	errs   []error
}

func (h *testHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := ParseAuthorization(r.Header.Get("Authorization"))
	var res Result
	if err == nil {
		res, err = h.s.Verify(r.Context(), r.Method, r.RequestURI, c, h.lookup)
	}
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
	if err != nil {
		w.Header()["Www-Authenticate"] = h.s.Challenges(res.Stale)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, challengeBody)
		return
	}
	body, _ := io.ReadAll(r.Body)
	_, _ = io.WriteString(w, res.Username+" "+res.Algorithm.String()+" "+string(body))
}

func (h *testHandler) reasons() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), h.errs...)
}

// TestOfficialClientRoundTrip drives the Digest transport the Atlas SDK
// uses (mongodb-forks/digest, unmodified) against the package over real
// HTTP on 127.0.0.1, for each way of offering the algorithms. The client
// reads only the first WWW-Authenticate value, so with [MD5, SHA256] it
// must still succeed, with MD5; with [SHA256] it must succeed with SHA-256.
func TestOfficialClientRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name     string
		algs     []Algorithm
		password string
		method   string
		body     string
		want     string // body on success; "" when a 401 is expected
		wantErr  error  // reason of the second request
	}{
		{"md5 default", nil, testPass, "GET", "", testUser + " MD5 ", nil},
		{"md5 then sha-256", []Algorithm{MD5, SHA256}, testPass, "GET", "", testUser + " MD5 ", nil},
		{"sha-256 only", []Algorithm{SHA256}, testPass, "GET", "", testUser + " SHA-256 ", nil},
		{"post with body", nil, testPass, "POST", `{"a":1}`, testUser + ` MD5 {"a":1}`, nil},
		{"sha-256 post", []Algorithm{SHA256}, testPass, "PATCH", `{"b":2}`, testUser + ` SHA-256 {"b":2}`, nil},
		{"wrong password", nil, "not-the-password", "GET", "", "", ErrBadResponse},
		{"wrong password sha-256", []Algorithm{SHA256}, "nope", "GET", "", "", ErrBadResponse},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, func(c *Config) { c.Algorithms = tt.algs })
			h := &testHandler{s: s, lookup: users(DefaultRealm, testUser, testPass)}
			srv := httptest.NewServer(h)
			defer srv.Close()
			if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
				t.Fatalf("server not on 127.0.0.1: %s", srv.URL)
			}
			client, err := mdigest.NewTransport(testUser, tt.password).Client()
			if err != nil {
				t.Fatal(err)
			}
			// Twice: the client takes a fresh challenge every time.
			for i := 0; i < 2; i++ {
				var body io.Reader
				if tt.body != "" {
					body = strings.NewReader(tt.body)
				}
				req, _ := http.NewRequest(tt.method, srv.URL+testURI, body)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if tt.want == "" {
					if resp.StatusCode != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401", resp.StatusCode)
					}
					if string(got) != challengeBody {
						t.Fatalf("401 body %q", got)
					}
					if n := len(resp.Header.Values("WWW-Authenticate")); n != len(s.algs) {
						t.Fatalf("%d challenges, want %d", n, len(s.algs))
					}
				} else if resp.StatusCode != http.StatusOK || string(got) != tt.want {
					t.Fatalf("status %d body %q, want 200 %q", resp.StatusCode, got, tt.want)
				}
			}
			errs := h.reasons()
			if len(errs) != 4 {
				t.Fatalf("%d requests reached the server, want 4", len(errs))
			}
			for i, err := range errs {
				want := error(ErrNotDigest) // the unauthenticated first try
				if i%2 == 1 {
					want = tt.wantErr
				}
				if !errors.Is(err, want) || (want == nil && err != nil) {
					t.Errorf("request %d: reason %v, want %v", i, err, want)
				}
			}
		})
	}
}

// TestOfficialClientParsesChallenges checks the header values themselves
// with the official client's rules: it would fail on any parameter it does
// not know, and takes the first value only.
func TestOfficialClientParsesChallenges(t *testing.T) {
	s, _ := newTestServer(t, func(c *Config) { c.Algorithms = []Algorithm{MD5, SHA256} })
	for _, stale := range []bool{false, true} {
		for _, v := range s.Challenges(stale) {
			// The client's parser is unexported; its rules are: split on
			// ", ", every name known, values trimmed of quotes.
			known := map[string]bool{"realm": true, "domain": true, "nonce": true, "opaque": true, "stale": true, "algorithm": true, "qop": true}
			if !strings.HasPrefix(v, "Digest ") {
				t.Fatalf("%q", v)
			}
			for _, kv := range strings.Split(v[len("Digest "):], ", ") {
				name, _, ok := strings.Cut(kv, "=")
				if !ok || !known[name] {
					t.Errorf("%q: parameter %q would make the official client fail", v, kv)
				}
			}
		}
	}
}

// TestHTTPNonceReuseAndStale drives a client that, unlike the official
// one, keeps its nonce: after one challenge it sends several requests
// with growing nc and gets no further 401; a replayed request is refused;
// once the nonce is past its TTL the 401 says stale=true.
func TestHTTPNonceReuseAndStale(t *testing.T) {
	s, clk := newTestServer(t, nil)
	h := &testHandler{s: s, lookup: users(DefaultRealm, testUser, testPass)}
	srv := httptest.NewServer(h)
	defer srv.Close()

	get := func(auth string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+testURI, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
	}
	status, ch := get("")
	if status != http.StatusUnauthorized || !strings.HasSuffix(ch, "stale=false") {
		t.Fatalf("%d %q", status, ch)
	}
	n := nonceOf(t, ch)
	for _, tt := range []struct {
		nc        uint32
		step      time.Duration
		status    int
		challenge string // suffix of the WWW-Authenticate value, if any
		reason    error
	}{
		{1, 0, 200, "", nil},
		{2, 10 * time.Second, 200, "", nil},
		{3, 10 * time.Second, 200, "", nil},
		{2, 0, 401, "stale=false", ErrReplay},
		{4, 45 * time.Second, 401, "stale=true", ErrStaleNonce},
	} {
		clk.Advance(tt.step)
		status, ch := get(creds(n, tt.nc, MD5).String())
		if status != tt.status || !strings.HasSuffix(ch, tt.challenge) || (tt.challenge == "") != (ch == "") {
			t.Errorf("nc %d: %d %q, want %d %q", tt.nc, status, ch, tt.status, tt.challenge)
		}
		errs := h.reasons()
		if last := errs[len(errs)-1]; !errors.Is(last, tt.reason) || (tt.reason == nil) != (last == nil) {
			t.Errorf("nc %d: reason %v, want %v", tt.nc, last, tt.reason)
		}
	}
}
