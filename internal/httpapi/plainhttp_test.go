package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestRefusePlainHTTP: on an HTTPS server's listener wrapped by
// RefusePlainHTTP, a plain HTTP request is answered 400 in the API's error
// format, and HTTPS requests, HTTP/2 included, are served as before.
func TestRefusePlainHTTP(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto)
	}))
	srv.Listener = httpapi.RefusePlainHTTP(srv.Listener)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, strings.Replace(srv.URL, "https://", "http://", 1)+"/api/atlas/v2/groups", strings.NewReader(strings.Repeat("x", 100_000)))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("plain HTTP %s: %v", method, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var e struct {
			Detail    string
			Error     int
			ErrorCode string
		}
		if err := json.Unmarshal(body, &e); err != nil || res.StatusCode != 400 || res.Header.Get("Content-Type") != "application/json" ||
			e.Error != 400 || e.ErrorCode != httpapi.CodeHTTPSRequired || !strings.Contains(e.Detail, "https://") {
			t.Errorf("plain HTTP %s: %d %s %q (%v), want 400 application/json with errorCode %s", method, res.StatusCode, res.Header.Get("Content-Type"), body, err, httpapi.CodeHTTPSRequired)
		}
	}

	res, err := srv.Client().Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "HTTP/2.0" {
		t.Errorf("HTTPS: %d %q, want 200 HTTP/2.0", res.StatusCode, body)
	}
}
